"""Structured logs (one JSON object per line) that never show a secret.

Every line is masked with the workspace's secrets as the last step before it is written, so a
secret that slips into a message (an exception text, a response body) still never appears.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, TextIO

__all__ = ["JSONFormatter", "configure", "masked_text"]

MASK = "***"
LOGGER_NAME = "delivery"


def masked_text(text: str, secrets: frozenset[str]) -> str:
    """`text` with every secret replaced by `***`, longest first."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text


class JSONFormatter(logging.Formatter):
    _STANDARD = frozenset(vars(logging.makeLogRecord({})))

    def __init__(self, secrets: frozenset[str] = frozenset()) -> None:
        super().__init__()
        # A secret holding '"' or '\\' appears JSON-escaped in the line: mask that form too.
        self.secrets = secrets | {json.dumps(s, ensure_ascii=False)[1:-1] for s in secrets}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in self._STANDARD and not key.startswith("_") and key != "color_message":
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = f"{record.exc_info[0].__name__}: {record.exc_info[1]}"
        line = json.dumps(entry, ensure_ascii=False, default=str)
        return masked_text(line, self.secrets)


def configure(
    secrets: frozenset[str], stream: TextIO | None = None, level: int = logging.INFO
) -> None:
    """Send the service's logs (and uvicorn's) as masked JSON lines to `stream` (stderr)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JSONFormatter(secrets))
    for name in (LOGGER_NAME, "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


def logger(name: str) -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}")
