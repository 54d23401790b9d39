"""Bearer-token authentication, per-token rate limits, and the scope each endpoint needs.

A token acts as a principal that the ordinary row scoping understands: ``visible_to(principal)``
sees the token's org-unit subtree and nothing else, exactly as a staff member holding a role there.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from manyi.core.ratelimit import hit
from manyi.org.models import OrgUnit

from .errors import NotAuthenticated, RateLimited, ScopeMissing
from .models import ApiToken
from .queries import TtlCache
from .tokens import hash_token, split_token

# Writing last_used_at on every request would cost a write per call; once a minute is enough.
LAST_USED_GRANULARITY = timedelta(seconds=60)

# SHA-256 of a valid token -> (its row with its unit, the unit paths it sees). Per process, for
# ``queries.API_CACHE_SECONDS``: revoking, editing or deleting a token, or changing a unit, in this
# process clears it at once; another process (the console, ``manyi tokens revoke``) is seen within
# those seconds. Expiry is checked on every request against the cached row.
_TOKENS = TtlCache(max_entries=256)
for _model in (ApiToken, OrgUnit):
    for _signal in (post_save, post_delete):
        _signal.connect(_TOKENS.clear, sender=_model, weak=False, dispatch_uid=f"api-token-cache-{_model}")


@dataclass
class ApiPrincipal:
    """Who is calling: an API token, shaped so that ``scope_paths`` treats it like a staff member."""

    token: ApiToken
    scopes: frozenset[str]
    _manyi_scope_paths: list[str] = field(default_factory=list)
    is_authenticated: bool = True
    is_active: bool = True
    is_superuser: bool = False
    is_staff: bool = False
    pk: None = None

    @property
    def token_id(self) -> int:
        return int(self.token.pk)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def authenticate(request: HttpRequest) -> ApiPrincipal:
    """The principal for the request's bearer token (memoised on the request); raise 401 or 429."""
    cached = getattr(request, "_manyi_api_principal", None)
    if cached is not None:
        return cached
    raw = _bearer(request)
    if raw is None:
        raise NotAuthenticated(_("Send an API token in the header: Authorization: Bearer <token>."))
    digest = hash_token(raw)
    cached_token: tuple[ApiToken, list[str]] | None = _TOKENS.get(digest)
    if cached_token is None:
        prefix = split_token(raw)
        token = (
            ApiToken.objects.select_related("unit").filter(prefix=prefix).first()
            if prefix is not None
            else None
        )
        # One answer for unknown, wrong, expired and revoked tokens: a caller learns nothing by probing.
        if token is None or not hmac.compare_digest(token.secret_hash, digest):
            raise NotAuthenticated(_("The API token is not valid."))
        if token.unit is None:
            paths = ["/"]
        elif token.unit.is_active:
            paths = [token.unit.path]
        else:
            paths = []  # a token bound to a closed unit sees nothing
        if token.is_usable():
            _TOKENS.put(digest, (token, paths))
    else:
        token, paths = cached_token
    now = timezone.now()
    if not token.is_usable(now):
        raise NotAuthenticated(_("The API token is not valid."))
    allowed, retry = hit("api", token.prefix, settings.MANYI_API_RATE_LIMIT)
    if not allowed:
        raise RateLimited(
            _("Too many requests for this token; try again in {n} s.").format(n=retry), retry_after=retry
        )
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now  # the cached row too, so this process writes it once a minute
    principal = ApiPrincipal(token=token, scopes=frozenset(token.scopes), _manyi_scope_paths=list(paths))
    request._manyi_api_principal = principal  # type: ignore[attr-defined]
    return principal


class TokenAuth:
    """django-ninja auth callable: a valid token holding ``scope`` (e.g. ``responses:write``)."""

    openapi_security_schema = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token from `manyi tokens create`, sent as `Authorization: Bearer mny_…`.",
    }

    def __init__(self, scope: str) -> None:
        self.scope = scope

    def __call__(self, request: HttpRequest) -> ApiPrincipal:
        principal = authenticate(request)
        if not principal.has_scope(self.scope):
            raise ScopeMissing(
                _("This token does not have the scope {scope}.").format(scope=self.scope),
            )
        return principal


def principal_of(request: Any) -> ApiPrincipal:
    """The authenticated principal of a request that passed ``TokenAuth``."""
    return request.auth
