"""The responses table (keyset paging, filters, column chooser), one response in full, and its export.

Every read starts from ``Response.objects.visible_to(request.user)``; filters come from the console's
one parser (:mod:`manyi.console.filters`), so a drill-down link from the dashboard lands on exactly
the responses behind the number.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from manyi.core.errors import error_response
from manyi.integrations.exporting import (
    ExportFilters,
    ExportRefused,
    can_export_pii,
    csv_chunks,
    export_to_file,
)
from manyi.integrations.exporting.tasks import do_queue_export
from manyi.responses.models import Response

from . import dashboard, queries, unit_picker
from . import responses_queries as rq
from .actions import do_set_preference
from .filters import DRILL_PARAMS, choice_options, survey_options

#: Up to this many rows an export is answered at once; more go to a background job.
DIRECT_EXPORT_MAX = 20_000
EXPORT_FORMATS = ("csv", "xlsx")


def _lang() -> str:
    return get_language() or settings.LANGUAGE_CODE


@login_required
@require_GET
def response_list(request: HttpRequest) -> HttpResponse:
    """The responses behind any number: filtered, sorted by time or a column, paged by keyset."""
    lang = _lang()
    columns = rq.chosen_columns(request.user)
    page = rq.table_page(request.user, request.GET, columns, lang)
    tq = page.query
    filter_qs = tq.filter_params()
    ctx: dict[str, Any] = {
        "page": page,
        "f": tq.filters,
        "tq": tq,
        "filter_params": filter_qs,
        "drill_params": [(k, getattr(tq.filters, k)) for k in DRILL_PARAMS if getattr(tq.filters, k)],
        "columns": columns,
        "all_columns": rq.COLUMNS,
        "page_sizes": rq.PAGE_SIZES,
        "sort_options": rq.sort_options(),
        "metric_label": dashboard.metric_labels().get(tq.filters.metric or "", tq.filters.metric),
        "bucket_label": dashboard.bucket_labels().get(tq.filters.bucket or "", tq.filters.bucket),
        "sortable": rq.SORTABLE_COLUMNS,
        "choices": choice_options(),
        "picker": unit_picker.build(request.user, request.GET, tq.filters.unit, lang, "responses"),
        "survey_options": survey_options(request.user, lang),
        "can_pii": can_export_pii(request.user),
        "lang": lang,
    }
    return render(request, "console/response_list.html", ctx)


@login_required
@require_POST
def response_columns(request: HttpRequest) -> HttpResponse:
    """Save the column chooser for this staff member; back to the table with the same filters."""
    chosen, unknown = rq.clean_columns(request.POST.getlist("columns"))
    if unknown:
        return error_response(
            request,
            400,
            "unknown_column",
            _("Unknown column {names}; choose from {choices}.").format(
                names=", ".join(unknown[:5]), choices=", ".join(rq.COLUMN_CODES)
            ),
        )
    do_set_preference(user=request.user, key=rq.COLUMNS_KEY, value={"columns": chosen})
    back = request.POST.get("next", "")
    if not back.startswith(reverse("console:response_list")):
        back = reverse("console:response_list")
    return HttpResponseRedirect(back, status=303)


@login_required
def response_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One response in full: answers, the comment with its aspects marked, the customer, the case."""
    response = get_object_or_404(
        Response.objects.visible_to(request.user).select_related("unit", "survey", "version"), pk=pk
    )
    lang = _lang()
    ctx = {
        "r": response,
        "answers": queries.answer_sheet(response, lang),
        **queries.response_context(request.user, response),
        "reading": rq.read_comment(response.comment, lang),
        "lang": lang,
    }
    return render(request, "console/response_detail.html", ctx)


@login_required
@require_GET
def response_export(request: HttpRequest) -> HttpResponseBase:
    """``?<filters>&format=csv|xlsx[&pii=1]``: the filtered set, labels in the page's language.

    Up to :data:`DIRECT_EXPORT_MAX` rows stream straight back; a bigger set becomes a background job
    and the browser goes to its page, which ends with a download link. Every export is audited.
    """
    fmt = request.GET.get("format", "csv")
    if fmt not in EXPORT_FORMATS:
        return error_response(
            request,
            400,
            "bad_format",
            _("“format” must be one of {choices}, got “{value}”.").format(
                choices=", ".join(EXPORT_FORMATS), value=fmt[:20]
            ),
        )
    pii = request.GET.get("pii") == "1"
    if pii and not can_export_pii(request.user):
        return error_response(
            request, 403, "forbidden", _("You may not export personal data (names, phones, e-mails).")
        )
    qs, tq = rq.filtered_responses(request.user, request.GET)
    params = tq.filter_params()
    language = _lang()
    filters = ExportFilters(console=params)
    big = qs.order_by()[: DIRECT_EXPORT_MAX + 1].count() > DIRECT_EXPORT_MAX
    try:
        if big:
            job = do_queue_export(
                kind="responses", fmt=fmt, user=request.user, filters=filters.as_dict(),
                include_pii=pii, language=language,
            )  # fmt: skip
            return HttpResponseRedirect(reverse("console:job_detail", args=[job.pk]), status=303)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        name = f"manyi-responses-{stamp}.{fmt}"
        if fmt == "csv":
            body = csv_chunks(
                "responses", filters=filters, user=request.user, include_pii=pii, language=language
            )
            response: HttpResponseBase = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        # XLSX is a zip that is only whole once closed: write it to a file, then stream that file.
        fd, path = tempfile.mkstemp(suffix=".xlsx", prefix="manyi-export-")
        os.close(fd)
        try:
            export_to_file("responses", "xlsx", path, filters=filters, user=request.user, include_pii=pii,
                           language=language)  # fmt: skip
            handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
        finally:
            os.unlink(path)  # the open handle keeps the data until the download ends
        return FileResponse(
            handle,
            as_attachment=True,
            filename=name,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    except ExportRefused as exc:
        if exc.forbidden:
            return error_response(request, 403, "forbidden", _("You may not export personal data."))
        return error_response(request, 400, "export_refused", str(exc))
