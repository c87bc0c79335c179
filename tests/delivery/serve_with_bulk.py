"""`python serve_with_bulk.py PACKAGE ARGS...`: the package's command line, with a batch collector.

The synthetic `bulk` destination (CleverTap-like) uploads records in batches that its spec does
not declare; registering a collector is what a destination with such an API does through the
runtime's seam (`batching.register_batch_collector`), in place of the batching a spec declares
(CleverTap's). Packages without a `bulk` destination run unchanged.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any


def main() -> int:
    package = sys.argv[1]
    batching = importlib.import_module(f"{package}._runtime.batching")
    Outcome = batching.Outcome

    def merge(bodies: list[Any]) -> Any:
        return {"d": [record for body in bodies for record in body["d"]]}

    def results(status: int, body: Any, text: str, bodies: list[Any]) -> list[Any]:
        """CleverTap's answer: `unprocessed` lists the records that failed, with a code."""
        if not isinstance(body, dict) or body.get("status") not in ("success", "partial"):
            return [Outcome("retry", "unexpected batch answer", status, text)] * len(bodies)
        failed = {
            repr(item.get("record")): item
            for item in body.get("unprocessed", [])
            if isinstance(item, dict)
        }
        outcomes = []
        for single in bodies:
            problem = failed.get(repr(single["d"][0]))
            if problem is None:
                outcomes.append(Outcome("delivered", status=status))
            else:
                reason = f"record refused: code {problem.get('code')} {problem.get('error')}"
                outcomes.append(Outcome("dead", reason, status, repr(problem)))
        return outcomes

    def collector(instance: Any) -> Any:
        size = instance.batch_size or 25
        upload = batching.RecordFormat(merge=merge, limits=(size,), results=results)
        return batching.RecordBatchCollector(instance, lambda request: upload, size)

    batching.register_batch_collector("bulk", collector)
    cli = importlib.import_module(f"{package}._runtime.cli")
    return int(cli.main(sys.argv[2:]))


if __name__ == "__main__":
    sys.exit(main())
