"""Segment's retry policy for destination requests.

Retried: 408, 423, 429 and every 5xx except 501, timeouts and connection errors, with
exponential backoff and jitter, honouring `Retry-After`, for up to four hours (configurable).
Everything else that is not a 2xx is final and goes to the dead letters.
"""

from __future__ import annotations

import email.utils
import random
from dataclasses import dataclass

__all__ = ["RetryPolicy", "is_retryable_status", "parse_retry_after"]


def is_retryable_status(status: int) -> bool:
    """Whether Segment retries a response with this HTTP status."""
    return status in (408, 423, 429) or (500 <= status <= 599 and status != 501)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` header (delay-seconds or an HTTP date), if valid."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT
        return None
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True)
class RetryPolicy:
    max_age_seconds: float = 4 * 3600.0  # give up this long after the event was accepted
    initial_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 600.0

    def backoff(self, attempts: int, rng: random.Random | None = None) -> float:
        """The wait after the `attempts`-th failure (1-based): exponential, "equal jitter".

        The wait is uniform between half and all of `initial * 2**(attempts-1)`, capped, so
        waits grow with every failure while retries of many events spread out.
        """
        exponent = min(max(attempts - 1, 0), 60)
        ceiling = min(self.max_backoff_seconds, self.initial_backoff_seconds * 2.0**exponent)
        return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)

    def next_delay(
        self,
        attempts: int,
        age_seconds: float,
        retry_after: float | None = None,
        rng: random.Random | None = None,
    ) -> float | None:
        """Seconds until the next try, or None when the retry window is used up.

        `Retry-After` is honoured: the next try is never earlier than it says.
        """
        delay = self.backoff(attempts, rng)
        if retry_after is not None:
            delay = max(delay, retry_after)
        if age_seconds + delay > self.max_age_seconds:
            return None
        return delay
