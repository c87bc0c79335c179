"""The auth-test and deletion requests a spec declares, built by the generated package."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from conftest import KITCHEN_SINK_PACKAGE

SETTINGS = {"api_key": "sk_live_kitchen", "region": "us"}


@pytest.fixture
def kitchen(kitchen_sink_out: Path, import_generated: Callable[[Path, str], ModuleType]) -> object:
    package = import_generated(kitchen_sink_out, KITCHEN_SINK_PACKAGE)
    return package.get(package.catalog()[0])


def test_deletion_request_follows_on_delete(kitchen: object) -> None:
    request = kitchen.deletion_request(SETTINGS, user_id="u/1", anonymous_id="a-1")  # type: ignore[attr-defined]
    assert request.method == "DELETE"
    # The path slot is percent-encoded; the body mapping reads userId and anonymousId.
    assert request.url == "https://us.api.example.com/v1/users/u%2F1"
    assert request.json == {"userId": "u/1", "anonymousId": "a-1"}
    assert request.action == "onDelete"


def test_deletion_without_user_id_sends_null(kitchen: object) -> None:
    request = kitchen.deletion_request(SETTINGS, anonymous_id="a-1")  # type: ignore[attr-defined]
    assert request.json == {"userId": None, "anonymousId": "a-1"}  # null is kept, as in Segment


def test_authentication_request_uses_settings_and_masks_secrets(kitchen: object) -> None:
    request = kitchen.authentication_request(SETTINGS)  # type: ignore[attr-defined]
    assert request.method == "GET"
    assert request.url == "https://us.api.example.com/v1/auth/main"  # workspace default applied
    assert request.headers["Authorization"] == "Bearer sk_live_kitchen"
    assert "sk_live_kitchen" not in repr(request)
    assert request.masked().headers["Authorization"] == "Bearer ***"


def test_clay_authentication_request_matches_segment() -> None:
    import destinations

    clay = destinations.get("clay")
    request = clay.authentication_request({"connection_key": "ck_123", "secret_key": "sk_secret"})
    assert request is not None
    assert (request.method, request.url) == (
        "GET",
        "https://segment-session.clay.com/segment/ck_123/auth",
    )
    assert request.headers == {"Authorization": "Bearer sk_secret"}
    assert clay.deletion_request({"connection_key": "ck_123", "secret_key": "sk_secret"}) is None
