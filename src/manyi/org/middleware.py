"""Activates the signed-in staff member's time zone: the one of their home unit."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone


class UserTimezoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            tz = request.session.get("manyi_tz")
            if tz is None:
                from .queries import home_unit

                unit = home_unit(user)
                tz = unit.timezone if unit else ""
                request.session["manyi_tz"] = tz
            if tz:
                timezone.activate(zoneinfo.ZoneInfo(tz))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
