"""The CSV download the console links to: streamed, scoped to the user, masked and audited."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from manyi.core.errors import error_response
from manyi.core.i18ntext import normalize_language

from . import KINDS, ExportFilters, ExportRefused, csv_chunks


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@require_GET
@login_required
def export_csv_view(request: HttpRequest, kind: str) -> HttpResponseBase:
    """``GET …?unit=&since=&until=&survey=&pii=1``: the rows this user may read, as a CSV download."""
    if kind not in KINDS:
        return error_response(request, 404, "unknown_export", _("There is no such export."))
    q = request.GET
    try:
        filters = ExportFilters(
            unit=q.get("unit") or None, since=_date(q.get("since")), until=_date(q.get("until")),
            survey=q.get("survey") or None,
        )  # fmt: skip
        body = csv_chunks(
            kind,
            filters=filters,
            user=request.user,
            include_pii=q.get("pii") == "1",
            language=normalize_language(q.get("language") or get_language()) or "zh-hans",
        )
    except ValueError:
        return error_response(
            request, 400, "bad_date", _("“since” and “until” are dates written YYYY-MM-DD.")
        )
    except ExportRefused as exc:
        if exc.forbidden:
            return error_response(request, 403, "forbidden", _("You may not export personal data."))
        return error_response(request, 400, "export_refused", str(exc))
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="manyi-{kind}-{stamp}.csv"'
    return response
