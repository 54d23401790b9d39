"""Fixed-window rate limits on the cache, keyed by a hash of the client and the endpoint.

Rates are written ``"30/m"`` (per second ``s``, minute ``m``, hour ``h``); ``"0"`` or ``"off"``
disables a limit (the load benchmark does this, since all its traffic comes from one address).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

_PERIODS = {"s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def parse_rate(text: str) -> Rate | None:
    """Parse ``"30/m"``; None when limits are off. Raises ValueError naming the expected form."""
    text = text.strip().lower()
    if text in ("", "0", "off", "none"):
        return None
    try:
        count_s, period = text.split("/")
        count = int(count_s)
        seconds = _PERIODS[period]
    except (ValueError, KeyError) as exc:
        raise ValueError(f"rate must look like 30/m (count/s|m|h), got {text!r}") from exc
    if count <= 0:
        return None
    return Rate(count, seconds)


def hit(scope: str, key: str, rate_text: str) -> tuple[bool, int]:
    """Count one request; return (allowed, seconds until the window resets)."""
    rate = parse_rate(rate_text)
    if rate is None:
        return True, 0
    now = int(time.time())
    window = now - now % rate.seconds
    ck = f"rl:{scope}:{key}:{window}"
    if cache.add(ck, 1, timeout=rate.seconds + 1):
        count = 1
    else:
        try:
            count = cache.incr(ck)
        except ValueError:  # expired between add and incr
            cache.add(ck, 1, timeout=rate.seconds + 1)
            count = 1
    return count <= rate.count, window + rate.seconds - now


def refusal(request: Any, scope: str, rate_text: str) -> Any:
    """For public pages: None when this client may go on, else the 429 page (or JSON) with
    ``Retry-After``. The client is the hashed address (see core.privacy.ip_hash)."""
    from django.utils.translation import gettext as _

    from .errors import error_response
    from .privacy import ip_hash

    allowed, retry = hit(scope, ip_hash(request) or "anon", rate_text)
    if allowed:
        return None
    resp = error_response(
        request,
        429,
        "rate_limited",
        _("Too many requests. Please wait {s} seconds and try again.").format(s=retry),
    )
    resp["Retry-After"] = str(retry)
    return resp
