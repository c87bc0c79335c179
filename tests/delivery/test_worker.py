"""A delivery worker's requests and how it reads answers, against an in-process transport.

The Idempotency-Key comes from the spec (Loops' Send Event: the messageId) and is the same on
every try, since requests are rebuilt from the stored event; the workspace can replace or drop
it. A CleverTap `partial` answer is read whole, however long, to settle each event.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

import destinations
from destinations._runtime.batching import Outcome, collector_for
from destinations._runtime.delivery import RESPONSE_KEPT, Settler, Worker
from destinations._runtime.metrics import DeliveryMetrics
from destinations._runtime.queue import Job
from destinations._runtime.retry import RetryPolicy
from destinations._runtime.workspace import DestinationInstance, load_workspace

ENV = {"LOOPS_KEY": "loops_k3y_1234", "CT_PASSCODE": "ct_p4ss_5678"}


def instance(tmp_path: Path, name: str, **options: Any) -> DestinationInstance:
    data = {
        "version": 1,
        "sources": {"app": {"write_key": "wk"}},
        "destinations": {
            "loops": {
                "destination": "loops",
                "settings": {"apiKey": "${LOOPS_KEY}"},
                "mappings": [
                    {"name": "Events", "trigger": 'type = "track"', "action": "sendEvent"},
                    {
                        "name": "Signups",
                        "trigger": 'event = "Signed Up"',
                        "action": "sendEvent",
                        "mapping": {"eventName": {"@literal": "signup"}},
                    },
                ],
                **options,
            },
            "clevertap": {
                "destination": "clevertap",
                "settings": {"clevertapAccountId": "ACC", "clevertapPasscode": "${CT_PASSCODE}"},
                **options,
            },
        },
    }
    path = tmp_path / "workspace.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")
    return load_workspace(path, destinations, ENV).destinations[name]


def track(message_id: str, **properties: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Signed Up",
        "userId": "u-1",
        "anonymousId": "a-1",
        "messageId": message_id,
        "properties": properties,
    }


def jobs(target: DestinationInstance, events: list[dict[str, Any]]) -> list[Job]:
    found = []
    for e in events:
        for rule in target.rules:
            if rule.matches(e):
                found.append(Job(len(found) + 1, target.name, rule.name, e["messageId"], e, 0, 0))
    return found


def deliver(
    target: DestinationInstance, leased: list[Job], answer: Any
) -> tuple[list[Outcome], list[httpx.Request]]:
    """Send what the worker builds for `leased` (one lease, one try) through `answer(request)`."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        result: httpx.Response = answer(request)
        return result

    async def run() -> list[Outcome]:
        worker = Worker(
            target,
            None,
            Settler(None),
            DeliveryMetrics(),
            RetryPolicy(),
            frozenset(),  # type: ignore[arg-type]
        )
        await worker.client.aclose()
        worker.client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        sends, failed = collector_for(target).collect(leased)
        assert failed == []
        outcomes = [o for send in sends for o in await worker._send(send)]
        await worker.client.aclose()
        return outcomes

    return asyncio.run(run()), seen


def keys(requests: list[httpx.Request]) -> list[str | None]:
    return [r.headers.get("idempotency-key") for r in requests]


def test_every_try_of_a_loops_event_sends_the_same_key(tmp_path: Path) -> None:
    loops = instance(tmp_path, "loops")
    [job, _] = jobs(loops, [track("msg-1")])  # Events and Signups both match
    answers = iter([httpx.Response(503), httpx.Response(200, json={"success": True})])
    first, sent_first = deliver(loops, [job], lambda request: next(answers))
    # The retry: the same job leased again (one failed try more), its request built again.
    retried = Job(job.id, job.destination, job.mapping, job.message_id, job.event, 0, 1)
    second, sent_second = deliver(loops, [retried], lambda request: next(answers))
    assert [first[0].kind, second[0].kind] == ["retry", "delivered"]
    assert keys(sent_first) == keys(sent_second) == ["msg-1"]  # the spec's: the messageId


def test_an_event_without_message_id_gets_no_key(tmp_path: Path) -> None:
    loops = instance(tmp_path, "loops")
    leased = jobs(loops, [track("")])
    _, sent = deliver(loops, leased, lambda request: httpx.Response(200))
    assert keys(sent) == [None, None]


def test_the_workspace_replaces_or_drops_the_key(tmp_path: Path) -> None:
    replaced = instance(tmp_path, "loops", idempotency_key=True)
    _, sent = deliver(replaced, jobs(replaced, [track("msg-1")]), lambda r: httpx.Response(200))
    events_key, signups_key = keys(sent)
    # One per mapping (the spec's messageId would be the same for both), stable, under 100.
    assert events_key != signups_key and "msg-1" not in {events_key, signups_key}
    _, again = deliver(replaced, jobs(replaced, [track("msg-1")]), lambda r: httpx.Response(200))
    assert keys(again) == [events_key, signups_key]
    assert all(len(k or "") == 64 for k in keys(sent))
    dropped = instance(tmp_path, "loops", idempotency_key=False)
    _, sent = deliver(dropped, jobs(dropped, [track("msg-1")]), lambda r: httpx.Response(200))
    assert keys(sent) == [None, None]


def test_a_long_partial_answer_is_read_whole(tmp_path: Path) -> None:
    clevertap = instance(tmp_path, "clevertap")
    events = [track(f"m{i}", invalid=i % 3 == 0, note="x" * 40) for i in range(90)]

    def partial(request: httpx.Request) -> httpx.Response:
        records = json.loads(request.content)["d"]
        refused = [r for r in records if r["evtData"]["invalid"]]
        unprocessed = [
            {"status": "fail", "code": 512, "error": "Invalid structure", "record": r}
            for r in refused
        ]
        body = {"status": "partial", "processed": 60, "unprocessed": unprocessed}
        return httpx.Response(200, json=body)

    outcomes, sent = deliver(clevertap, jobs(clevertap, events), partial)
    assert len(sent) == 1  # one batch
    assert len(partial(sent[0]).text) > 3 * RESPONSE_KEPT  # much longer than what is kept
    assert [o.kind == "dead" for o in outcomes] == [i % 3 == 0 for i in range(90)]
    assert all("code 512" in o.reason for o in outcomes if o.kind == "dead")
    assert all(len(o.response) <= RESPONSE_KEPT for o in outcomes)
