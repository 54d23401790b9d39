"""Error answers that are never a stack trace: a page for people, JSON for API paths."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def error_response(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    """Render ``message`` as a friendly page, or as ``{"error": {"code", "message"}}`` on API paths."""
    if wants_json(request):
        return JsonResponse({"error": {"code": code, "message": message}}, status=status)
    titles = {
        400: _("The request could not be understood"),
        403: _("Not allowed"),
        404: _("Not found"),
        405: _("Method not allowed"),
        410: _("This link is no longer valid"),
        413: _("Too much data"),
        415: _("Unsupported content type"),
        429: _("Too many requests"),
        500: _("Something went wrong"),
    }
    return render(
        request,
        "core/error.html",
        {
            "status": status,
            "title": titles.get(status, _("Error")),
            "message": message,
            "code": code,
            "lang": get_language(),
        },
        status=status,
    )
