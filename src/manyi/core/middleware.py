"""Refuses request bodies over the limit before anything reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from .errors import error_response


class BodyLimitMiddleware:
    """Answers bodies over ``MANYI_MAX_BODY_BYTES`` with 413 (page or JSON), never a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.limit = int(settings.MANYI_MAX_BODY_BYTES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            size = int(length)
        except ValueError:
            return error_response(
                request, 400, "bad_content_length", _("The Content-Length header is not a number.")
            )
        if size > self.limit and not _view_allows(request, size):
            return error_response(
                request,
                413,
                "body_too_large",
                _("The request body is {size} KB; the limit is {limit} KB.").format(
                    size=size // 1024, limit=self.limit // 1024
                ),
            )
        return self.get_response(request)


def _view_allows(request: HttpRequest, size: int) -> bool:
    """True when the view for this path takes bigger bodies (file uploads set ``max_body_bytes``)."""
    from django.urls import Resolver404, resolve

    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return size <= int(getattr(match.func, "max_body_bytes", 0))
