"""Batches the CleverTap spec declares, as the delivery runtime builds and reads them (in process).

Jobs are merged into `/1/upload` requests within CleverTap's limits (records, token records),
events never split, every job in exactly one request; a `partial` answer settles each event on
its own; actions without `batch` go out one request each; no batch request shows the passcode.
The same workspace path also applies CleverTap's preset sets and identity policy.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import destinations
from destinations._runtime.batching import RecordBatchCollector, Send, collector_for
from destinations._runtime.payload import PayloadValidationError
from destinations._runtime.queue import Job
from destinations._runtime.record_batches import group_by_limits
from destinations._runtime.workspace import DestinationInstance, load_workspace

PASSCODE = "ct_passcode_5e4d"


def clevertap_instance(tmp_path: Path, **options: Any) -> DestinationInstance:
    settings = {"clevertapAccountId": "ACC-1", "clevertapPasscode": "${CT_PASSCODE}"}
    settings.update(options.pop("settings", {}))
    data = {
        "version": 1,
        "sources": {"app": {"write_key": "wk"}},
        "destinations": {"ct": {"destination": "clevertap", "settings": settings, **options}},
    }
    path = tmp_path / "workspace.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")
    workspace = load_workspace(path, destinations, {"CT_PASSCODE": PASSCODE})
    return workspace.destinations["ct"]


def event(kind: str, ref: str, token: str | None = None, **fields: Any) -> dict[str, Any]:
    data = "traits" if kind == "identify" else "properties"
    found: dict[str, Any] = {
        "type": kind,
        "userId": "u-1",
        "anonymousId": "a-1",
        "messageId": ref,
        data: {"ref": ref},
        **fields,
    }
    if kind == "track":
        found.setdefault("event", "Plan Selected")
    if token is not None:
        found["context"] = {"device": {"token": token, "type": "android"}}
    return found


def jobs_for(instance: DestinationInstance, events: list[dict[str, Any]]) -> list[Job]:
    """One job per (event, matching rule), as ingestion would enqueue them."""
    jobs = []
    for e in events:
        for rule in instance.rules:
            if rule.matches(e):
                jobs.append(Job(len(jobs) + 1, instance.name, rule.name, e["messageId"], e, 0, 0))
    return jobs


def records(send: Send) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = send.request.json["d"]
    return found


KINDS = st.sampled_from(["identify", "identify+token", "track", "page", "screen", "alias"])


@settings(max_examples=60, deadline=None)
@given(kinds=st.lists(KINDS, min_size=1, max_size=40), size=st.integers(1, 7))
def test_every_job_goes_out_once_within_the_batch_size(
    tmp_path_factory: pytest.TempPathFactory, kinds: list[str], size: int
) -> None:
    instance = clevertap_instance(tmp_path_factory.mktemp("ws"), batch_size=size)
    events = []
    for index, kind in enumerate(kinds):
        name, _, token = kind.partition("+")
        extra = {"previousId": "old"} if name == "alias" else {"name": "Home"}
        events.append(event(name, f"m{index}", "tok" if token else None, **extra))
    jobs = jobs_for(instance, events)
    sends, failed = collector_for(instance).collect(jobs)
    assert failed == []
    sent = [job.id for send in sends for job in send.jobs]
    assert sorted(sent) == [job.id for job in jobs]  # each job in exactly one request
    for send in sends:
        assert send.request.url.endswith("/1/upload")
        assert send.interpret is not None  # answers are read per event
        assert len(records(send)) <= size or len(send.jobs) == 1  # only a lone event goes over
        assert [j.id for j in send.jobs] == sorted(j.id for j in send.jobs)  # lease order kept
        # The batch is the events' own records, concatenated: none split, lost or reordered.
        own = [r for job in send.jobs for r in _single_records(instance, job)]
        assert records(send) == own
    # Batches are full: two neighbours could not have been one.
    for before, after in itertools.pairwise(sends):
        assert len(records(before)) + len(_single_records(instance, after.jobs[0])) > size


def _single_records(instance: DestinationInstance, job: Job) -> list[Any]:
    rule = instance.rule(job.mapping)
    assert rule is not None
    [request] = instance.requests(rule, job.event)
    found: list[Any] = request.json["d"]
    return found


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), max_size=30),
    st.integers(1, 8),
    st.integers(1, 4),
)
def test_groups_stay_within_every_limit(
    counts: list[tuple[int, int]], most: int, most_second: int
) -> None:
    limits = (most, most_second)
    groups = group_by_limits(counts, limits)
    assert [i for group in groups for i in group] == list(range(len(counts)))
    for group in groups:
        within = all(sum(counts[i][m] for i in group) <= limits[m] for m in range(2))
        assert within or len(group) == 1
    for group, following in itertools.pairwise(groups):
        joined = [*group, following[0]]
        assert any(sum(counts[i][m] for i in joined) > limits[m] for m in range(2))


def test_token_records_stay_at_most_100_per_request(tmp_path: Path) -> None:
    instance = clevertap_instance(tmp_path)
    events = [event("identify", f"m{i}", token=f"tok{i}") for i in range(250)]
    sends, _ = collector_for(instance).collect(jobs_for(instance, events))
    tokens = [sum(r["type"] == "token" for r in records(send)) for send in sends]
    assert tokens == [100, 100, 50]  # 500 records would fit in one request of 1,000
    assert collector_for(instance).max_jobs == 1000


def test_a_partial_answer_settles_each_event_on_its_own(tmp_path: Path) -> None:
    instance = clevertap_instance(tmp_path)
    events = [event("identify", "m0", token="tok0"), event("track", "m1"), event("track", "m2")]
    [send], _ = collector_for(instance).collect(jobs_for(instance, events))
    refused = records(send)[1]  # the identify's token record: its profile record went through
    answer = {
        "status": "partial",
        "processed": 3,
        "unprocessed": [
            {"status": "fail", "code": 512, "error": "Invalid token", "record": refused}
        ],
    }
    assert send.interpret is not None
    outcomes = send.interpret(200, answer, json.dumps(answer))
    assert [o.kind for o in outcomes] == ["dead", "delivered", "delivered"]
    assert "code 512" in outcomes[0].reason and "Invalid token" in outcomes[0].reason
    success = send.interpret(200, {"status": "success", "processed": 4, "unprocessed": []}, "")
    assert {o.kind for o in success} == {"delivered"}


def test_unbatched_actions_go_out_one_request_each(tmp_path: Path) -> None:
    """Under the `actions` presets, identify calls batch (User Upload), deletions do not."""
    instance = clevertap_instance(tmp_path, settings={"presetSet": "actions"})
    events = [
        event("identify", "m0", properties={"plan": "a"}),
        event("track", "m1", event="Delete User"),
        event("identify", "m2", properties={"plan": "b"}),
        event("track", "m3", event="Delete User"),
    ]
    sends, _ = collector_for(instance).collect(jobs_for(instance, events))
    by_path = sorted((s.request.url.rsplit("/", 2)[-1], len(s.jobs)) for s in sends)
    assert by_path == [("profiles.json", 1), ("profiles.json", 1), ("upload", 2)]


def test_batch_requests_never_show_the_passcode(tmp_path: Path) -> None:
    instance = clevertap_instance(tmp_path)
    events = [event("track", f"m{i}") for i in range(3)]
    [send], _ = collector_for(instance).collect(jobs_for(instance, events))
    assert send.request.headers["X-CleverTap-Passcode"] == PASSCODE  # what is sent
    shown = send.request.masked()
    assert shown.headers["X-CleverTap-Passcode"] == "***"
    assert shown.json == send.request.json and len(shown.json["d"]) == 3
    assert PASSCODE not in repr(send.request) and PASSCODE not in repr(send)


def test_the_workspace_batch_size_is_only_lowered(tmp_path: Path) -> None:
    assert clevertap_instance(tmp_path, batch_size=10).batch_size == 10
    assert clevertap_instance(tmp_path).batch_size == 1000  # the spec's limit
    with pytest.raises(
        ValueError, match=r"yaml:1:\d+: error: CleverTap batches hold at most 1000 records"
    ):
        clevertap_instance(tmp_path, batch_size=1001)


def test_presets_of_the_other_preset_set_do_not_route(tmp_path: Path) -> None:
    """Without this, an identify call would go to Identify User *and* User Upload."""
    cloud = clevertap_instance(tmp_path)
    identify = event("identify", "m0")
    assert [r.name for r in cloud.rules if r.matches(identify)] == ["Identify Calls"]
    actions = clevertap_instance(tmp_path, settings={"presetSet": "actions"})
    assert [r.name for r in actions.rules if r.matches(identify)] == ["Event Type is Identify"]


def test_the_identity_policy_is_checked_before_delivery(tmp_path: Path) -> None:
    """CleverTap's settings-dependent requirements hold for workspace deliveries too."""
    instance = clevertap_instance(tmp_path)
    no_anonymous_id = {**event("track", "m0"), "anonymousId": None}
    [rule] = [r for r in instance.rules if r.matches(no_anonymous_id)]
    with pytest.raises(PayloadValidationError, match="objectId"):
        instance.requests(rule, no_anonymous_id)
    [job] = jobs_for(instance, [no_anonymous_id])
    sends, [(_, outcome)] = collector_for(instance).collect([job])
    assert sends == [] and outcome.kind == "dead" and "objectId" in outcome.reason


def test_a_registered_collector_replaces_the_spec_one(tmp_path: Path) -> None:
    from destinations._runtime import batching

    instance = clevertap_instance(tmp_path)
    assert isinstance(collector_for(instance), RecordBatchCollector)
    batching.register_batch_collector("clevertap", batching.SingleCollector)
    try:
        assert isinstance(collector_for(instance), batching.SingleCollector)
    finally:
        batching._COLLECTORS.pop("clevertap")
