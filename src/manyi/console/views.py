"""Staff console pages. Every read goes through ``objects.visible_to(request.user)``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language

from manyi.cases.models import Case
from manyi.customers.models import Customer
from manyi.feedback.models import FeedbackRecord
from manyi.org.models import OrgUnit
from manyi.responses.models import Response
from manyi.surveys.models import Survey

PAGE_SIZE = 50


def _lang() -> str:
    return get_language() or settings.LANGUAGE_CODE


def _page(request: HttpRequest, qs: Any) -> Any:
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


@login_required
def home(request: HttpRequest) -> HttpResponse:
    responses = Response.objects.visible_to(request.user)
    nps = responses.filter(nps__isnull=False).aggregate(
        n=Count("id"), promoters=Count("id", filter=Q(nps__gte=9)), detractors=Count("id", filter=Q(nps__lte=6))
    )
    score = None
    if nps["n"]:
        score = round(100 * (nps["promoters"] - nps["detractors"]) / nps["n"], 1)
    ctx = {
        "units": OrgUnit.objects.visible_to(request.user).count(),
        "responses": responses.count(),
        "open_cases": Case.objects.visible_to(request.user).exclude(status__in=["resolved", "closed"]).count(),
        "nps": score,
        "nps_n": nps["n"],
        "latest": responses.exclude(comment="").select_related("unit").order_by("-submitted_at")[:10],
        "lang": _lang(),
    }
    return render(request, "console/home.html", ctx)


@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    units = OrgUnit.objects.visible_to(request.user).order_by("path")
    return render(request, "console/unit_list.html", {"page": _page(request, units), "lang": _lang()})


@login_required
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    unit = get_object_or_404(OrgUnit.objects.visible_to(request.user), pk=pk)
    children = OrgUnit.objects.visible_to(request.user).filter(parent=unit)
    return render(request, "console/unit_detail.html", {"unit": unit, "children": children, "lang": _lang()})


@login_required
def survey_list(request: HttpRequest) -> HttpResponse:
    surveys = Survey.objects.visible_to(request.user).select_related("unit")
    return render(request, "console/survey_list.html", {"page": _page(request, surveys), "lang": _lang()})


@login_required
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    survey = get_object_or_404(Survey.objects.visible_to(request.user), pk=pk)
    from manyi.surveys.models import SurveyLink

    links = SurveyLink.objects.visible_to(request.user).filter(survey=survey).exclude(kind="personal")
    links = links.select_related("unit").order_by("unit__path")[:200]
    return render(
        request,
        "console/survey_detail.html",
        {"survey": survey, "versions": survey.versions.all(), "links": links, "lang": _lang(),
         "base_url": settings.MANYI_BASE_URL},
    )


@login_required
def response_list(request: HttpRequest) -> HttpResponse:
    qs = Response.objects.visible_to(request.user).select_related("unit", "survey").order_by("-submitted_at")
    return render(request, "console/response_list.html", {"page": _page(request, qs), "lang": _lang()})


@login_required
def response_detail(request: HttpRequest, pk: int) -> HttpResponse:
    response = get_object_or_404(
        Response.objects.visible_to(request.user).select_related("unit", "survey", "version", "customer"), pk=pk
    )
    return render(
        request,
        "console/response_detail.html",
        {"r": response, "answers": response.answers.order_by("id"), "lang": _lang()},
    )


@login_required
def feedback_list(request: HttpRequest) -> HttpResponse:
    qs = FeedbackRecord.objects.visible_to(request.user).select_related("unit").order_by("-occurred_at")
    return render(request, "console/feedback_list.html", {"page": _page(request, qs), "lang": _lang()})


@login_required
def feedback_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(FeedbackRecord.objects.visible_to(request.user).select_related("unit"), pk=pk)
    return render(request, "console/feedback_detail.html", {"f": record, "lang": _lang()})


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    qs = Case.objects.visible_to(request.user).select_related("unit", "assignee").order_by("-created_at")
    return render(request, "console/case_list.html", {"page": _page(request, qs), "lang": _lang()})


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(Case.objects.visible_to(request.user).select_related("unit", "assignee"), pk=pk)
    return render(request, "console/case_detail.html", {"c": case, "lang": _lang()})


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer.objects.visible_to(request.user).select_related("home_unit"), pk=pk)
    responses = Response.objects.visible_to(request.user).filter(customer=customer).order_by("-submitted_at")[:50]
    return render(request, "console/customer_detail.html", {"c": customer, "responses": responses, "lang": _lang()})
