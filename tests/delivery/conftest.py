"""Secrets, workspaces and figures of the delivery tests (the generated package and the fake
APIs, `delivery_package` and `fake`, are fixtures of tests/conftest.py, shared with tests/cluster)."""

from __future__ import annotations

from typing import Any

from conftest import Figures

# Secrets of the tests: each must never appear in a log, an error, the metrics or the queue.
SECRETS = {
    "WRITE_KEY": "wk_live_8f3c1a9e77",
    "CLAY_CONNECTION_KEY": "ck_live_c0nn3ct10n",
    "CLAY_SECRET_KEY": "sk_live_s3cr3t_k3y",
    "RELAY_API_KEY": "relay_key_9d8e7f",
    "BULK_PASSCODE": "bulk_pass_4c3b2a",
    "APP_WRITE_KEY": "wk_app_51d0c2",
    "LOOPS_API_KEY": "loops_key_7a6b5c",
    "CLEVERTAP_PASSCODE": "ct_pass_0e9f8d",
}
CLEVERTAP_ACCOUNT = "TEST-ACC-1"

# Printed in the terminal summary, whatever -r options are given.
FIGURES = Figures("delivery figures", 32)
report = FIGURES.report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    FIGURES.print(terminalreporter)


def workspace_data(fake_url: str, port: int, **delivery: Any) -> dict[str, Any]:
    """A workspace with one Segment source and the three destinations, sent to the fake."""
    return {
        "version": 1,
        "data_dir": "data",
        "listen": {"host": "127.0.0.1", "port": port},
        "sources": {"web": {"write_key": "${WRITE_KEY}"}},
        "destinations": {
            "clay": {
                "destination": "clay",
                "base_url": fake_url,
                "settings": {
                    "connection_key": "${CLAY_CONNECTION_KEY}",
                    "secret_key": "${CLAY_SECRET_KEY}",
                },
            },
            "relay": {
                "destination": "relay",
                "base_url": fake_url,
                "settings": {"apiKey": "${RELAY_API_KEY}"},
                "idempotency_key": True,
                # Only tracks marked for it: the relay's rate limit keeps it slow.
                "mappings": [
                    {
                        "name": "Marked events",
                        "trigger": 'type = "track" and properties.relay = true',
                        "action": "sendEvent",
                    }
                ],
            },
            "bulk": {
                "destination": "bulk",
                "base_url": fake_url,
                "settings": {"accountId": "acct-1", "passcode": "${BULK_PASSCODE}"},
            },
        },
        "delivery": {
            "initial_backoff_seconds": 0.05,
            "max_backoff_seconds": 0.4,
            "max_retry_seconds": 120,
            **delivery,
        },
    }


def with_catalog(data: dict[str, Any], fake_url: str, **clevertap: Any) -> dict[str, Any]:
    """`data` plus Loops and CleverTap instances fed by their own source, `app`.

    The synthetic instances keep to the `web` source, so each test knows which events go where.
    Loops has no presets: identify calls update contacts, track calls send events. CleverTap
    runs its cloud-mode presets; `clevertap` adds instance keys (e.g. `batch_size`).
    """
    for instance in data["destinations"].values():
        instance.setdefault("sources", ["web"])
    data["sources"]["app"] = {"write_key": "${APP_WRITE_KEY}"}
    data["destinations"]["loops"] = {
        "destination": "loops",
        "sources": ["app"],
        "base_url": fake_url,
        "timeout_seconds": 0.5,
        "settings": {"apiKey": "${LOOPS_API_KEY}"},
        "mappings": [
            {"name": "Contacts", "trigger": 'type = "identify"', "action": "createOrUpdateContact"},
            {"name": "Events", "trigger": 'type = "track"', "action": "sendEvent"},
        ],
    }
    data["destinations"]["clevertap"] = {
        "destination": "clevertap",
        "sources": ["app"],
        "base_url": fake_url,
        "timeout_seconds": 0.5,
        "settings": {
            "clevertapAccountId": CLEVERTAP_ACCOUNT,
            "clevertapPasscode": "${CLEVERTAP_PASSCODE}",
        },
        **clevertap,
    }
    return data
