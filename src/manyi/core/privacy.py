"""Client addresses are kept only as keyed hashes."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "")


def ip_hash(request: HttpRequest) -> str:
    """HMAC-SHA256 of the client address with the secret key: stable for rate limits, not reversible."""
    ip = client_ip(request)
    if not ip:
        return ""
    return hmac.new(settings.SECRET_KEY.encode(), ip.encode(), hashlib.sha256).hexdigest()[:32]
