"""Staff console pages. Every read goes through ``objects.visible_to(request.user)``."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import get_language

from manyi.customers.models import Customer
from manyi.feedback.models import FeedbackRecord
from manyi.org.models import OrgUnit
from manyi.surveys.models import Survey
from manyi.surveys.queries import survey_link_url

from . import builder_queries as bq
from . import dashboard, filters, queries
from . import unit_picker as unit_picker_q

PAGE_SIZE = 50
QR_FORMATS = {"svg": "image/svg+xml", "png": "image/png"}


def _lang() -> str:
    return get_language() or settings.LANGUAGE_CODE


def _page(request: HttpRequest, qs: Any) -> Any:
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def locked_out(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in: a 429 page in both languages, the current one first."""
    current = _lang()
    languages = [current] + [code for code, _name in settings.LANGUAGES if code != current]
    minutes = max(1, round(float(settings.AXES_COOLOFF_TIME) * 60))
    ctx = {"languages": languages, "failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}
    return render(request, "console/locked.html", ctx, status=429)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard of the reader's scope under the filters in the query string."""
    lang = _lang()
    f = filters.parse_filters(request.user, request.GET)
    dash = dashboard.build(request.user, f, metric=f.metric or "nps")
    ctx = {
        "dash": dash,
        "f": f,
        "charts": dashboard.chart_data(dash),
        "picker": unit_picker_q.build(request.user, request.GET, f.unit, lang, "home"),
        "survey_options": filters.survey_options(request.user, lang),
        "choices": filters.choice_options(),
        "metric_labels": dashboard.metric_labels(),
        "lang": lang,
    }
    return render(request, "console/home.html", ctx)


@login_required
def unit_picker(request: HttpRequest) -> HttpResponse:
    """A piece of the unit picker: the children of ``parent``, or the units matching ``q``.

    ``page`` (``home`` or ``responses``) and ``keep`` (the other filters) shape the links; both are
    checked and re-encoded. A parent outside the reader's scope answers an empty list, as an
    unknown one does.
    """
    page = request.GET.get("page", "home")
    if page not in unit_picker_q.PAGES:
        page = "home"
    keep = unit_picker_q.sanitized_keep(request.GET.get("keep", ""))
    lang = _lang()
    parent = request.GET.get("parent", "")
    if parent:
        nodes = (
            unit_picker_q.children(request.user, int(parent), lang, page, keep) if parent.isdigit() else None
        )
        ctx = {"nodes": nodes or [], "searched": False, "cut": len(nodes or []) >= unit_picker_q.CHILDREN_MAX}
    else:
        query = (request.GET.get("q") or request.GET.get("unit_q") or "")[: unit_picker_q.QUERY_MAX]
        ctx = {
            "nodes": unit_picker_q.search(request.user, query, lang, page, keep),
            "searched": True,
            "q": query,
        }
    ctx["children_url"] = reverse("console:unit_picker") + "?" + urlencode({"page": page, "keep": keep})
    return render(request, "console/_unit_nodes.html", ctx)


@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    units = OrgUnit.objects.visible_to(request.user).order_by("path")
    return render(request, "console/unit_list.html", {"page": _page(request, units), "lang": _lang()})


@login_required
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    unit = get_object_or_404(OrgUnit.objects.visible_to(request.user), pk=pk)
    children = OrgUnit.objects.visible_to(request.user).filter(parent=unit).order_by("path")
    return render(request, "console/unit_detail.html", {"unit": unit, "children": children, "lang": _lang()})


@login_required
def survey_list(request: HttpRequest) -> HttpResponse:
    surveys = Survey.objects.visible_to(request.user).select_related("unit").order_by("id")
    ctx = {"page": _page(request, surveys), "lang": _lang(), "can_build": bq.can_build(request.user)}
    return render(request, "console/survey_list.html", ctx)


@login_required
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    survey = get_object_or_404(Survey.objects.visible_to(request.user).select_related("unit"), pk=pk)
    versions = list(survey.versions.order_by("-number"))
    lang = _lang()
    ctx = {
        "survey": survey,
        "versions": versions,
        "questions": queries.version_questions(
            survey.published_version() or next(iter(versions), None), lang
        ),
        "links": _page(request, queries.survey_links(request.user, survey.pk)),
        "lang": lang,
        # The builder's pages answer 403 to anybody else; the links to them are not shown either.
        "can_edit": bq.can_edit_survey(request.user, survey),
    }
    return render(request, "console/survey_detail.html", ctx)


@login_required
def survey_link_qr(request: HttpRequest, pk: int, link_pk: int, fmt: str) -> HttpResponse:
    """The QR code of a shared survey link, as SVG or PNG; ``?download=1`` saves it as a file."""
    link = queries.visible_link(request.user, pk, link_pk)
    if link is None or fmt not in QR_FORMATS:
        raise Http404
    qr = segno.make(survey_link_url(link), error="m")
    buf = io.BytesIO()
    if fmt == "svg":
        qr.save(buf, kind="svg", scale=4, border=2, xmldecl=False)
    else:
        qr.save(buf, kind="png", scale=10, border=2)
    response = HttpResponse(buf.getvalue(), content_type=QR_FORMATS[fmt])
    response["Cache-Control"] = "private, max-age=3600"
    if request.GET.get("download"):
        response["Content-Disposition"] = (
            f'attachment; filename="qr-{link.survey.slug}-{link.unit.code}.{fmt}"'
        )
    return response


@login_required
def feedback_list(request: HttpRequest) -> HttpResponse:
    qs = (
        FeedbackRecord.objects.visible_to(request.user).select_related("unit").order_by("-occurred_at", "-id")
    )
    return render(request, "console/feedback_list.html", {"page": _page(request, qs), "lang": _lang()})


@login_required
def feedback_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(FeedbackRecord.objects.visible_to(request.user).select_related("unit"), pk=pk)
    ctx = {"f": record, **queries.feedback_context(request.user, record), "lang": _lang()}
    return render(request, "console/feedback_detail.html", ctx)


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer.objects.visible_to(request.user).select_related("home_unit"), pk=pk)
    ctx = {"c": customer, **queries.customer_history(request.user, customer), "lang": _lang()}
    return render(request, "console/customer_detail.html", ctx)
