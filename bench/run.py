"""`nox -s bench`: events per second through the generated package, as ratios to baselines
measured in the same run (never absolute thresholds).

- floor: orjson loads + dumps of each event (the least any pipeline must do);
- compiled: event bytes -> validated payload -> request JSON bytes, through the generated code;
- interpreted: the same with the mapping evaluated by the reference interpreter.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson

import destinations
from destinations._runtime import mapping as interpreter
from destinations._runtime.core import Destination
from destinations._runtime.payload import PayloadValidationError, process

SETTINGS = {"clay": {"connection_key": "ck_bench", "secret_key": "sk_bench"}}


def corpus(size: int, seed: int = 7) -> list[tuple[str, str, bytes]]:
    """(slug, action, event bytes): realistic events, some with missing or odd fields."""
    rng = random.Random(seed)
    events: list[tuple[str, str, bytes]] = []
    for i in range(size):
        kind = rng.choice(["track", "page"])
        event: dict[str, Any] = {
            "type": kind,
            "messageId": f"msg-{i}",
            "anonymousId": f"anon-{rng.randrange(10_000)}",
            "timestamp": "2024-03-05T10:20:30.000Z",
            "context": {
                "ip": f"203.0.113.{rng.randrange(255)}",
                "userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
                "page": {
                    "path": "/pricing",
                    "url": "https://example.com/pricing",
                    "title": "Pricing",
                    "referrer": "https://google.com/",
                    "search": "?q=x",
                },
                "library": {"name": "analytics.js", "version": "2.11.1"},
            },
            "properties": {"plan": rng.choice(["free", "pro"]), "value": rng.random() * 100},
        }
        if rng.random() < 0.7:
            event["userId"] = f"user-{rng.randrange(5_000)}"
        if kind == "track":
            event["event"] = rng.choice(["Signed Up", "Order Completed", "Clicked"])
        else:
            event["name"] = "Pricing"
        odd = rng.random()
        if odd < 0.05:
            del event["context"]["ip"]  # an error: ip is required
        elif odd < 0.10:
            event["userId"] = rng.randrange(1_000)  # a number for a string
        elif odd < 0.15:
            event["context"]["userAgent"] = ""  # dropped
        action = "track" if kind == "track" else "pageVisit"
        events.append(("clay", action, orjson.dumps(event)))
    return events


def run_floor(events: list[tuple[str, str, bytes]]) -> int:
    for _, _, raw in events:
        orjson.dumps(orjson.loads(raw))
    return len(events)


def _pipeline(
    map_event: Callable[[Destination, str, dict[str, Any]], Any],
) -> Callable[[list[tuple[str, str, bytes]]], int]:
    def run(events: list[tuple[str, str, bytes]]) -> int:
        dests = {slug: destinations.get(slug) for slug in SETTINGS}
        checked = {slug: dests[slug].validate_settings(s) for slug, s in SETTINGS.items()}
        for slug, action_key, raw in events:
            dest = dests[slug]
            action = dest.actions[action_key]
            event = orjson.loads(raw)
            try:
                payload = process(map_event(dest, action_key, event), action.schema)
            except PayloadValidationError:
                continue
            request = dest.build_request(action_key, action.request, payload, checked[slug], event)
            orjson.dumps(request.json)
        return len(events)

    return run


def _compiled(dest: Destination, action: str, event: dict[str, Any]) -> Any:
    return dest.actions[action].default_mapping(event)


_SPEC_MAPPINGS: dict[tuple[str, str], Any] = {}


def _interpreted(dest: Destination, action: str, event: dict[str, Any]) -> Any:
    return interpreter.evaluate(_SPEC_MAPPINGS[(dest.slug, action)], event)


def load_spec_mappings() -> None:
    """The default mappings as written in the specs, for the interpreter."""
    from actionspec import config, generate

    for dest in generate.load_specs(config.load()):
        for action in dest.actions:
            _SPEC_MAPPINGS[(dest.slug, action.key)] = action.default_mapping()


def measure(
    name: str,
    run: Callable[[list[tuple[str, str, bytes]]], int],
    events: list[tuple[str, str, bytes]],
    repeat: int,
) -> float:
    rates = []
    for _ in range(repeat):
        started = time.perf_counter()
        count = run(events)
        rates.append(count / (time.perf_counter() - started))
    rate = statistics.median(rates)
    print(f"{name:12} {rate:12,.0f} events/s  (median of {repeat})")
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    events = corpus(args.events)
    load_spec_mappings()
    print(f"corpus: {len(events):,} events (Clay track and page, ~15% with missing or odd fields)")
    floor = measure("floor", run_floor, events, args.repeat)
    compiled = measure("compiled", _pipeline(_compiled), events, args.repeat)
    interpreted = measure("interpreted", _pipeline(_interpreted), events, args.repeat)
    print(f"compiled / floor       = {compiled / floor:.2f}x")
    print(f"compiled / interpreted = {compiled / interpreted:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
