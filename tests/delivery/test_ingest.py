"""Ingestion in process: Segment's limits and errors, de-duplication, Loops webhooks."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import destinations
from destinations._runtime.ingest import BATCH_LIMIT, MESSAGE_LIMIT, IngestApp
from destinations._runtime.metrics import DeliveryMetrics
from destinations._runtime.queue import SQLiteQueue
from destinations._runtime.webhooks import sign
from destinations._runtime.workspace import load_workspace

from .harness import basic_auth, identify, track
from .test_workspace import ENV, VALID

AUTH = basic_auth(ENV["WK"])


class Ingestion:
    def __init__(self, tmp_path: Path) -> None:
        path = tmp_path / "workspace.yaml"
        path.write_text(VALID, encoding="utf-8")
        self.workspace = load_workspace(path, destinations, ENV)
        self.queue = SQLiteQueue(tmp_path / "q.sqlite3")
        self.metrics = DeliveryMetrics()
        self.woken: set[str] = set()
        self.app = IngestApp(self.workspace, self.queue, self.metrics, self.woken.update)

    def post(
        self,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                if content is not None:
                    return await client.post(path, content=content, headers=headers)
                return await client.post(path, json=body, headers=headers)

        return asyncio.run(call())

    def jobs(self, destination: str = "clay") -> list[Any]:
        return self.queue.lease(destination, 1000, 60)


@pytest.fixture
def ingestion(tmp_path: Path) -> Ingestion:
    return Ingestion(tmp_path)


def test_track_is_stored_routed_and_answered_like_segment(ingestion: Ingestion) -> None:
    answer = ingestion.post(
        "/v1/track", {k: v for k, v in track("m1").items() if k != "type"}, AUTH
    )
    assert answer.status_code == 200 and answer.json() == {"success": True}
    [job] = ingestion.jobs()
    assert job.mapping == "Track Calls" and job.event["type"] == "track"
    assert "receivedAt" in job.event and ingestion.woken == {"clay"}


def test_batch_context_is_shared_and_write_key_not_stored(ingestion: Ingestion) -> None:
    body = {
        "batch": [track("m1"), track("m2")],
        "context": {"library": {"name": "x"}},
        "writeKey": ENV["WK"],
    }
    assert ingestion.post("/v1/batch", body).status_code == 200  # write key in the body
    jobs = ingestion.jobs()
    assert [j.event["context"]["library"] for j in jobs] == [{"name": "x"}] * 2
    assert all("writeKey" not in j.event and j.event["context"]["ip"] for j in jobs)


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ({"type": "track", "event": "x"}, "userId or anonymousId is required"),
        ({"type": "track", "userId": "u"}, "track needs event"),
        ({"type": "launch", "userId": "u"}, "type must be one of"),
        (
            {**track("m"), "properties": {"blob": "x" * MESSAGE_LIMIT}},
            "over the 32 KB limit per message",
        ),
    ],
)
def test_invalid_messages_get_a_clear_400(
    ingestion: Ingestion, message: dict[str, Any], problem: str
) -> None:
    answer = ingestion.post("/v1/batch", {"batch": [track("ok"), message]}, AUTH)
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_message" and problem in answer.json()["message"]
    assert "batch[1]" in answer.json()["message"]
    assert ingestion.jobs() == []  # an invalid batch is refused whole


def test_size_limits(ingestion: Ingestion) -> None:
    big = {**track("m"), "properties": {"blob": "x" * (MESSAGE_LIMIT + 10)}}
    assert ingestion.post("/v1/track", big, AUTH).json()["code"] == "too_large"
    many = {"batch": [{**track(f"m{i}"), "properties": {"blob": "x" * 20_000}} for i in range(30)]}
    answer = ingestion.post("/v1/batch", many, AUTH)
    assert answer.status_code == 400 and "500 KB" in answer.json()["message"]
    assert len(json.dumps(many)) > BATCH_LIMIT


def test_auth_and_routes(ingestion: Ingestion) -> None:
    assert ingestion.post("/v1/track", track("m")).status_code == 401
    assert (
        ingestion.post("/v1/track", track("m"), basic_auth("wrong")).json()["code"]
        == "invalid_write_key"
    )
    assert ingestion.post("/v2/track", track("m"), AUTH).status_code == 404


def test_gzip_and_duplicates(ingestion: Ingestion) -> None:
    body = gzip.compress(json.dumps({"batch": [track("m1"), identify("m2")]}).encode())
    headers = {**AUTH, "Content-Encoding": "gzip", "Content-Type": "application/json"}
    assert ingestion.post("/v1/batch", headers=headers, content=body).status_code == 200
    assert ingestion.post("/v1/batch", {"batch": [track("m1")]}, AUTH).status_code == 200
    assert len(ingestion.jobs()) == 1  # m1 once; m2 (identify) has no Clay preset
    assert ingestion.metrics.total("events_accepted_total") == 2
    assert ingestion.metrics.total("events_duplicate_total") == 1


def _webhook(
    secret: str, payload: dict[str, Any], webhook_id: str = "wh_1", age: int = 0
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    timestamp = str(int(time.time()) - age)
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1,bm9wZQ== " + sign(secret, webhook_id, timestamp, body),
    }
    return body, headers


CONTACT = {
    "eventName": "contact.created",
    "eventTime": 1734425918,
    "webhookSchemaVersion": "1.0.0",
    "contactIdentity": {"id": "cl_1", "email": "ann@example.com", "userId": None},
    "contact": {
        "id": "cl_1",
        "email": "ann@example.com",
        "firstName": "Ann",
        "userId": None,
        "source": "API",
    },
}


def test_loops_contact_created_becomes_an_identify_routed_to_clay(ingestion: Ingestion) -> None:
    body, headers = _webhook(ENV["HOOK"], CONTACT)
    answer = ingestion.post("/webhooks/loops", headers=headers, content=body)
    assert answer.status_code == 200, answer.text
    assert ingestion.post("/webhooks/loops", headers=headers, content=body).status_code == 200
    [job] = ingestion.jobs("clay-contacts")  # de-duplicated on webhook-id
    assert job.event["type"] == "identify" and job.event["anonymousId"] == "cl_1"
    assert job.event["traits"]["email"] == "ann@example.com" and job.event["timestamp"].startswith(
        "2024-12-17"
    )
    [request] = ingestion.workspace.destinations["clay-contacts"].requests(
        ingestion.workspace.destinations["clay-contacts"].rules[0], job.event
    )
    assert request.json["event"] == "Contact Created"
    assert request.json["properties"]["firstName"] == "Ann"


@pytest.mark.parametrize(
    ("secret", "age", "status"),
    [("whsec_d3Jvbmc=", 0, 401), (ENV["HOOK"], 301, 401), (ENV["HOOK"], -301, 401)],
)
def test_webhook_signature_and_age_are_checked(
    ingestion: Ingestion, secret: str, age: int, status: int
) -> None:
    body, headers = _webhook(secret, CONTACT, age=age)
    assert ingestion.post("/webhooks/loops", headers=headers, content=body).status_code == status
    assert ingestion.jobs("clay-contacts") == []


def test_other_webhook_events_are_acknowledged_not_routed(ingestion: Ingestion) -> None:
    body, headers = _webhook(ENV["HOOK"], {**CONTACT, "eventName": "email.opened"})
    assert ingestion.post("/webhooks/loops", headers=headers, content=body).status_code == 200
    assert ingestion.jobs("clay-contacts") == []


def test_metrics_and_health(ingestion: Ingestion) -> None:
    async def get(path: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=ingestion.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path)

    ingestion.post("/v1/batch", {"batch": [track("m1")]}, AUTH)
    assert asyncio.run(get("/healthz")).json() == {"status": "ok"}
    text = asyncio.run(get("/metrics")).text
    assert "# TYPE events_accepted_total counter" in text
    assert 'events_accepted_total{source="web"} 1' in text
