"""API token strings and scopes: how a token looks, how it is hashed, which scopes exist.

A token reads ``mny_<prefix>_<secret>``: the prefix (8 hex digits) finds the row, the whole token is
compared by its SHA-256. The token has 256 random bits, so a plain (unsalted, fast) hash is enough:
nobody can guess a preimage, and a fast hash keeps every API request cheap.
"""

from __future__ import annotations

import hashlib
import re
import secrets

TOKEN_PREFIX = "mny_"
TOKEN_RE = re.compile(r"^mny_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")

# Resources the API knows. Another resource adds its name here, and its routes ask for
# "<resource>:read" or "<resource>:write".
RESOURCES: list[str] = [
    "units",
    "customers",
    "surveys",
    "responses",
    "feedback",
    "cases",
    "service_events",
    "imports",
    "exports",
]
ACTIONS = ("read", "write")


def all_scopes() -> list[str]:
    return [f"{r}:{a}" for r in RESOURCES for a in ACTIONS]


def parse_scopes(text: str | list[str]) -> list[str]:
    """``"responses:write, customers:read"`` -> sorted list; ``*`` means every scope.

    Raises ValueError naming the scope that does not exist.
    """
    items = text.split(",") if isinstance(text, str) else list(text)
    wanted = {s.strip() for s in items if s.strip()}
    if "*" in wanted:
        return all_scopes()
    known = set(all_scopes())
    unknown = sorted(wanted - known)
    if unknown:
        raise ValueError(
            f"unknown scope {unknown[0]!r}; scopes look like resource:read or resource:write, "
            f"with resource one of {', '.join(RESOURCES)} (or * for all)"
        )
    if not wanted:
        raise ValueError("give at least one scope, e.g. responses:write")
    return sorted(wanted)


def new_token() -> tuple[str, str, str]:
    """A fresh token: (token shown once, prefix, secret hash)."""
    prefix = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return token, prefix, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def split_token(token: str) -> str | None:
    """The prefix of a well-formed token, else None."""
    m = TOKEN_RE.match(token)
    return m.group(1) if m else None
