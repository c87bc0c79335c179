"""Segment's own Python library, pointed at the service, works unchanged; the fake Clay API
receives the requests the Clay actions build."""

from __future__ import annotations

from pathlib import Path

from segment.analytics.client import Client

from .conftest import SECRETS, report, workspace_data
from .fake_destination import FakeDestination
from .harness import TEST_PACKAGE, Service, free_port, wait_until, write_workspace


def test_segment_python_client(
    tmp_path: Path, delivery_package: Path, fake: FakeDestination
) -> None:
    port = free_port()
    workspace = write_workspace(tmp_path / "workspace.yaml", workspace_data(fake.url, port))
    service = Service(workspace, port, SECRETS, delivery_package, TEST_PACKAGE)
    service.start()
    errors: list[Exception] = []
    client = Client(
        SECRETS["WRITE_KEY"],
        host=service.url,
        sync_mode=True,
        on_error=lambda e, b: errors.append(e),
    )
    context = {
        "ip": "198.51.100.7",
        "userAgent": "pytest",
        "page": {"path": "/pricing", "url": "https://example.com/pricing"},
    }
    try:
        client.track(
            "user-1", "Order Completed", {"total": 42.5}, context=context, message_id="seg-1"
        )
        client.page(
            "user-1",
            name="Pricing",
            properties={"plan": "pro"},
            context=context,
            message_id="seg-2",
        )
        client.identify("user-1", {"email": "a@example.com"}, message_id="seg-3")  # no Clay preset
        client.track(
            "user-1", "Order Completed", {"total": 42.5}, context=context, message_id="seg-1"
        )  # again
        client.flush()
        assert wait_until(lambda: {"seg-1", "seg-2"} <= fake.delivered_ids("clay"), 15)
        metrics = service.metrics()
    finally:
        service.terminate()
    assert errors == []
    bodies = {body["messageId"]: body for body in fake.routes["clay"].bodies}
    headers = fake.routes["clay"].headers
    assert all(h["authorization"] == f"Bearer {SECRETS['CLAY_SECRET_KEY']}" for h in headers)
    track, page = bodies["seg-1"], bodies["seg-2"]
    assert track["type"] == "track" and track["event"] == "Order Completed"
    assert track["userId"] == "user-1" and track["ip"] == "198.51.100.7"
    assert track["properties"] == {"total": 42.5}
    assert track["page"] == {"path": "/pricing", "url": "https://example.com/pricing"}
    assert (
        page["type"] == "page"
        and page["name"] == "Pricing"
        and page["properties"] == {"plan": "pro"}
    )
    assert "timestamp" in track  # the library's timestamp travels through
    assert (
        fake.routes["clay"].accepted["seg-1"] == 1
    )  # the repeated messageId is not delivered twice
    assert metrics["events_accepted_total"] == 3 and metrics["events_duplicate_total"] == 1
    report("segment-analytics-python", requests_at_clay=len(fake.routes["clay"].bodies))
