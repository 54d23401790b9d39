"""Errors the API answers with, always as ``{"error": {"code", "message"[, "fields"]}}``.

::

    ApiError (status, code, message)
     ├── NotAuthenticated   401  missing, malformed, unknown, expired or revoked token
     ├── ScopeMissing       403  the token lacks the scope the endpoint needs
     ├── NotFound           404  no such object in the token's subtree (or anywhere: we do not say)
     ├── Conflict           409
     ├── Unprocessable      422  the body is well-formed but a value is wrong; names the field
     └── RateLimited        429  with Retry-After
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self, message: str, *, code: str | None = None, fields: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields

    def payload(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            err["fields"] = self.fields
        return {"error": err}


class NotAuthenticated(ApiError):
    status = 401
    code = "not_authenticated"


class ScopeMissing(ApiError):
    status = 403
    code = "scope_missing"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class Unprocessable(ApiError):
    status = 422
    code = "invalid"

    @classmethod
    def field(cls, field: str, message: str, code: str = "invalid") -> Unprocessable:
        """One wrong value, named: ``{"field": "phone", "message": …}``."""
        return cls(f"{field}: {message}", code=code, fields=[{"field": field, "message": message}])


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)
