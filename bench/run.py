"""`nox -s bench`: events per second through the generated package, as ratios to baselines
measured in the same run (never absolute thresholds).

- floor: orjson loads + dumps of each event (the least any pipeline must do);
- compiled: event bytes -> validated payload -> request JSON bytes, through the generated code
  (`run_json`: the event decoded only as far as the action reads it, the fused mapping +
  payload pipeline, requests built on settings bound once);
- interpreted: the same with the reference interpreters: the mapping and the request body
  evaluated by `mapping.evaluate`, the payload by `payload.process`, headers rendered per event.

The same three pipelines run again on the package compiled by `actionspec accelerate` (mypyc:
the generated modules and the runtime they call as C extensions, the reference interpreter
included), in a child process that imports the compiled package.

Then peak memory while streaming events through `python -m destinations preview`.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

import destinations
from destinations._runtime import mapping as interpreter
from destinations._runtime.core import Action, Destination, RequestTemplate
from destinations._runtime.payload import PayloadValidationError, process

# Settings per destination; a destination missing from the catalog is left out of the corpus.
SETTINGS: dict[str, dict[str, Any]] = {
    "clay": {"connection_key": "ck_bench", "secret_key": "sk_bench"},
    "loops": {"apiKey": "loops_bench_key"},
    "clevertap": {"clevertapAccountId": "ACC-BENCH", "clevertapPasscode": "PASS-BENCH"},
}

# (destination, action key, event type, event names): the mix the corpus draws from.
MIX: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("clay", "track", "track", ("Signed Up", "Order Completed", "Clicked CTA")),
    ("clay", "pageVisit", "page", ()),
    ("loops", "createOrUpdateContact", "identify", ()),
    ("loops", "sendEvent", "track", ("Signed Up", "Trial Started")),
    ("clevertap", "identifyUser", "identify", ()),
    ("clevertap", "trackEvent", "track", ("Signed Up", "Clicked CTA")),
    ("clevertap", "orderCompleted", "track", ("Order Completed",)),
    ("clevertap", "userUpload", "identify", ()),
]

Case = tuple[Destination, Action, bytes]


def analytics_js_event(rng: random.Random, i: int, kind: str, names: tuple[str, ...]) -> Any:
    """An event shaped like those analytics.js sends (context, integrations, metadata)."""
    user = rng.randrange(5_000)
    event: dict[str, Any] = {
        "type": kind,
        "messageId": f"ajs-next-{i:08d}-{rng.getrandbits(48):012x}",
        "anonymousId": f"5b1f0a3c-{rng.randrange(10_000):04d}-4e7a-9c1d-{user:012d}",
        "timestamp": "2024-03-05T10:20:30.123Z",
        "sentAt": "2024-03-05T10:20:30.456Z",
        "receivedAt": "2024-03-05T10:20:31.012Z",
        "originalTimestamp": "2024-03-05T10:20:30.123Z",
        "context": {
            "ip": f"203.0.113.{rng.randrange(255)}",
            "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
            "userAgentData": {
                "brands": [{"brand": "Chromium", "version": "122"}],
                "mobile": False,
                "platform": "macOS",
            },
            "locale": "en-US",
            "timezone": "Europe/Berlin",
            "library": {"name": "analytics.js", "version": "next-1.64.0"},
            "page": {
                "path": "/pricing",
                "referrer": "https://www.google.com/",
                "search": "?utm_source=ads",
                "title": "Pricing - Example",
                "url": "https://example.com/pricing?utm_source=ads",
            },
            "campaign": {"source": "ads", "medium": "cpc", "name": "spring"},
        },
        "integrations": {},
        "writeKey": "wk_bench",
        "_metadata": {"bundled": ["Segment.io"], "unbundled": [], "bundledIds": []},
    }
    if rng.random() < 0.95:  # 5% anonymous: an error where an action needs the user ID
        event["userId"] = f"user-{user}"
    if kind == "track":
        name = rng.choice(names)
        event["event"] = name
        properties: dict[str, Any] = {"plan": rng.choice(["free", "pro"]), "value": 42.5}
        if name == "Order Completed":
            properties.update(
                order_id=f"o-{i}",
                revenue=99.5,
                currency="USD",
                products=[
                    {"product_id": "p1", "sku": "SKU-1", "name": "Shirt", "price": 19.9},
                    {"product_id": "p2", "sku": "SKU-2", "name": "Hat", "price": 9.9},
                ],
            )
        event["properties"] = properties
    elif kind == "page":
        event["name"] = "Pricing"
        event["properties"] = dict(event["context"]["page"])
    elif kind == "identify":
        event["traits"] = {
            "email": f"user{user}@example.com",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "name": "Ada Lovelace",
            "phone": "+14155550100",
            "gender": rng.choice(["female", "male"]),
            "birthday": "1990-12-10",
            "accountType": "Premium",
            "mailingLists": {"cll": True},
        }
    odd = rng.random()
    if odd < 0.02:
        event.pop("context")  # an error for actions that need the IP or user agent
        event.pop("userId", None)
        event.pop("traits", None)
    elif odd < 0.06:
        event["userId"] = rng.randrange(1_000)  # a number where a string belongs
    elif odd < 0.10:
        event["context"]["userAgent"] = ""  # an empty string, removed
    return event


def corpus(size: int, seed: int = 7) -> list[Case]:
    rng = random.Random(seed)
    mix = [
        m for m in MIX if m[0] in destinations.catalog() and m[1] in destinations.get(m[0]).actions
    ]
    dests = {slug: destinations.get(slug) for slug in {m[0] for m in mix}}
    cases: list[Case] = []
    for i in range(size):
        slug, action, kind, names = mix[i % len(mix)]
        event = analytics_js_event(rng, i, kind, names)
        cases.append((dests[slug], dests[slug].actions[action], orjson.dumps(event)))
    return cases


def run_floor(cases: list[Case]) -> None:
    for _, _, raw in cases:
        orjson.dumps(orjson.loads(raw))


def run_compiled(cases: list[Case]) -> None:
    bound = {slug: destinations.get(slug).bind(s) for slug, s in SETTINGS.items() if _has(slug)}
    for dest, action, raw in cases:
        try:
            requests = bound[dest.slug].run_json(action, raw)
        except PayloadValidationError:
            continue
        for request in requests:
            orjson.dumps(request.json)


def _has(slug: str) -> bool:
    return slug in destinations.catalog()


def interpreted_template(action: Action) -> RequestTemplate:
    """The action's request template with its body mapping evaluated by the interpreter."""
    body = action.request.body_mapping
    if body is None:
        return action.request
    return dataclasses.replace(action.request, body=lambda ctx: interpreter.evaluate(body, ctx))


def run_interpreted(cases: list[Case]) -> None:
    checked = {
        slug: destinations.get(slug).validate_settings(s)
        for slug, s in SETTINGS.items()
        if _has(slug)
    }
    templates = {id(a): interpreted_template(a) for _, a, _ in cases}
    for dest, action, raw in cases:
        event = orjson.loads(raw)
        try:
            payload = process(interpreter.evaluate(action.mapping, event), action.schema)
            action.check_requirements(payload, checked[dest.slug])
        except PayloadValidationError:
            continue
        request = dest.build_request(
            action.key, templates[id(action)], payload, checked[dest.slug], event
        )
        orjson.dumps(request.json)


def measure(
    pipelines: dict[str, Callable[[list[Case]], None]], cases: list[Case], repeat: int
) -> dict[str, float]:
    """Events per second of each pipeline: the median of `repeat` rounds, each round running
    every pipeline once in turn (so a busy machine slows all of them alike)."""
    rates: dict[str, list[float]] = {name: [] for name in pipelines}
    for _ in range(repeat):
        for name, run in pipelines.items():
            gc.collect()
            started = time.perf_counter()
            run(cases)
            rates[name].append(len(cases) / (time.perf_counter() - started))
    medians = {name: statistics.median(values) for name, values in rates.items()}
    for name, rate in medians.items():
        print(f"  {name:12} {rate:12,.0f} events/s  (median of {repeat} rounds)")
    return medians


def _events_file(count: int, path: Path) -> None:
    rng = random.Random(11)
    with path.open("wb") as handle:
        for i in range(count):
            handle.write(orjson.dumps(analytics_js_event(rng, i, "track", ("Signed Up",))) + b"\n")


def preview_memory(count: int) -> None:
    """Peak RSS of `python -m destinations preview` streaming `count` events."""
    with tempfile.TemporaryDirectory() as tmp:
        events = Path(tmp) / "events.jsonl"
        settings = Path(tmp) / "settings.json"
        settings.write_bytes(orjson.dumps(SETTINGS["clay"]))
        _events_file(count, events)
        command = [
            sys.executable,
            "-m",
            "destinations",
            "preview",
            "clay",
            "--settings",
            str(settings),
        ]
        for n in sorted({min(count, 10_000), count}):
            script = (
                "import resource, runpy, sys\n"
                f"sys.argv = {['destinations', *command[3:]]!r}\n"
                "try:\n    runpy.run_module('destinations', run_name='__main__')\n"
                "except SystemExit:\n    pass\n"
                # The peak of this process alone: VmHWM (ru_maxrss would count the parent's
                # memory too, inherited through fork and kept across exec on Linux).
                "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
                "try:\n"
                "    with open('/proc/self/status') as status:\n"
                "        peak = next(int(l.split()[1]) for l in status if l.startswith('VmHWM'))\n"
                "except OSError:\n"
                "    pass\n"
                "sys.stderr.write(str(peak))\n"
            )
            with events.open("rb") as stdin:
                started = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-c", script],
                    stdin=_head(stdin, n),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    check=True,
                )
                seconds = time.perf_counter() - started
            peak_mb = int(done.stderr.decode().strip().splitlines()[-1]) / 1024
            print(
                f"  preview {n:>9,} events: peak RSS {peak_mb:6.1f} MB, {n / seconds:9,.0f} events/s"
            )


def _head(handle: Any, n: int) -> Any:
    """A pipe carrying the first `n` lines of `handle` (so one file serves every size)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: copy lines, then exit
        os.close(read)
        with os.fdopen(write, "wb") as out:
            for number, line in enumerate(handle):
                if number >= n:
                    break
                out.write(line)
        os._exit(0)
    os.close(write)
    return read


def speed(events: int, repeat: int) -> None:
    """Floor, compiled and interpreted events per second, and their ratios."""
    cases = corpus(events)
    size = statistics.mean(len(raw) for _, _, raw in cases)
    pairs = sorted({f"{d.slug}.{a.key}" for d, a, _ in cases})
    print(f"corpus: {len(cases):,} events, {size:,.0f} bytes on average; {', '.join(pairs)}")
    print(
        "  (5% without userId; 2% without context and identifiers; 8% odd: numbers for strings, empty strings)"
    )
    compiled_modules = sum(
        not m.__file__.endswith(".py")
        for name, m in sys.modules.items()
        if name.startswith("destinations.") and getattr(m, "__file__", None)
    )
    print(f"  package: {Path(destinations.__file__).parent} ({compiled_modules} compiled modules)")
    rates = measure(
        {"floor": run_floor, "compiled": run_compiled, "interpreted": run_interpreted},
        cases,
        repeat,
    )
    floor, compiled, interpreted = rates["floor"], rates["compiled"], rates["interpreted"]
    print(f"  compiled / floor       = {compiled / floor:.2f}x   (target >= 0.5x)")
    print(f"  compiled / interpreted = {compiled / interpreted:.2f}x   (target >= 5x)")


def accelerated_speed(events: int, repeat: int) -> int:
    """`speed` in a child process importing the package compiled by `actionspec accelerate`."""
    try:
        from actionspec.accelerate import AccelerateError, accelerate
    except ImportError:
        print("  skipped: the actionspec toolkit is not installed")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        try:
            out = accelerate(Path(destinations.__file__).parent, Path(tmp), print)
        except AccelerateError as exc:
            print(f"  skipped: {exc}")
            return 0
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(out), *sys.path])}
        args = ["--speed-only", "--events", str(events), "--repeat", str(repeat)]
        done = subprocess.run([sys.executable, __file__, *args], env=env)
        return done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--preview-events", type=int, default=1_000_000)
    parser.add_argument(
        "--delivery-events", type=int, default=5_000, help="0 skips the delivery figures"
    )
    parser.add_argument(
        "--no-cluster", dest="cluster", action="store_false", help="skip the JetStream figures"
    )
    parser.add_argument(
        "--no-accelerated",
        dest="accelerated",
        action="store_false",
        help="skip the figures of the mypyc-compiled package",
    )
    parser.add_argument("--speed-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    print("Python package:" if not args.speed_only else "mypyc-compiled package:", flush=True)
    speed(args.events, args.repeat)
    if args.speed_only:
        return 0
    if args.accelerated:
        print("mypyc-compiled package (actionspec accelerate):", flush=True)
        if code := accelerated_speed(args.events, args.repeat):
            return code
    if args.preview_events:
        print("memory:")
        preview_memory(args.preview_events)
    # The service figures run as their own processes (they start servers and import the test
    # package `delivery`, which this folder's delivery.py would shadow).
    if args.delivery_events:  # durable ingestion and delivery to a local fake destination
        print("delivery:", flush=True)
        script = str(Path(__file__).with_name("delivery.py"))
        done = subprocess.run([sys.executable, script, "--events", str(args.delivery_events)])
        if done.returncode:
            return done.returncode
    if args.cluster:  # delivery on JetStream with 1, 2 and 4 workers (needs nats-server)
        print("cluster:", flush=True)
        cluster = subprocess.run([sys.executable, str(Path(__file__).with_name("cluster.py"))])
        return cluster.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
