"""The retry schedule: exponential backoff with jitter (pure Python, no Django).

After the n-th failed attempt the next one waits ``base × 2^(n-1)`` seconds, capped at ``cap``, then
moved by up to ±``jitter`` (20 %) at random so that endpoints that failed together are not retried
together. With the defaults (base 60 s, 8 attempts) the retries come after about 1, 2, 4, 8, 16, 32
and 64 minutes: a notification is given up (dead-lettered) about two hours after it was created.
"""

from __future__ import annotations

import random

__all__ = ["DEFAULT_CAP", "retry_delay", "schedule"]

DEFAULT_CAP = 6 * 3600.0


def retry_delay(
    failed_attempts: int,
    base: float,
    *,
    cap: float = DEFAULT_CAP,
    jitter: float = 0.2,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before the next attempt, after ``failed_attempts`` (≥ 1) failures."""
    if failed_attempts < 1:
        raise ValueError(f"failed_attempts must be at least 1, got {failed_attempts}")
    if base <= 0 or cap <= 0 or not 0 <= jitter < 1:
        raise ValueError("base and cap must be positive and jitter in [0, 1)")
    nominal = min(cap, base * 2.0 ** min(failed_attempts - 1, 64))
    r = (rng or random).uniform(-jitter, jitter)
    return min(cap, nominal * (1.0 + r))


def schedule(max_attempts: int, base: float, *, cap: float = DEFAULT_CAP) -> list[float]:
    """The nominal delays (no jitter) between ``max_attempts`` attempts, for docs and the console."""
    return [min(cap, base * 2.0 ** (n - 1)) for n in range(1, max_attempts)]
