"""The Drivers page of a survey: key drivers, importance–performance, SERVQUAL gaps, segments."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language

from manyi.insights import queries
from manyi.insights.actions import do_compute_driver_analysis
from manyi.insights.choices import SegmentBy
from manyi.insights.page import page_context
from manyi.surveys.models import Survey


@login_required
def survey_drivers(request: HttpRequest, pk: int) -> HttpResponse:
    """``?unit=<id>`` picks a subtree the reader may see (404 otherwise); ``?segment=`` tier, region
    or channel. A cached analysis is shown; the first visit computes it."""
    survey = get_object_or_404(Survey.objects.visible_to(request.user), pk=pk)
    units = queries.analysis_units(request.user)
    if not units:
        raise Http404
    unit = units[0]
    wanted = request.GET.get("unit", "")
    if wanted:
        unit = next((u for u in units if u is not None and str(u.pk) == wanted), None)
        if unit is None:
            raise Http404
    segment_by = request.GET.get("segment") or SegmentBy.NONE.value
    if segment_by not in SegmentBy.values:
        segment_by = SegmentBy.NONE.value
    analysis = queries.cached_analysis(survey, unit, segment_by)
    if analysis is None:
        analysis = do_compute_driver_analysis(survey=survey, unit=unit, segment_by=segment_by)
    mark, n_now = queries.data_mark(survey, unit)
    lang = get_language() or settings.LANGUAGE_CODE
    ctx = page_context(analysis, queries.survey_design(survey), lang)
    ctx.update(
        {
            "survey": survey,
            "units": units,
            "unit": unit,
            "segment_by": segment_by,
            "segment_choices": SegmentBy.choices,
            "stale": mark != analysis.data_mark,
            "n_now": n_now,
            "lang": lang,
        }
    )
    return render(request, "console/drivers/survey_drivers.html", ctx)


@login_required
def drivers_index(request: HttpRequest) -> HttpResponse:
    """The surveys the reader can see, each with a link to its Drivers page and what it can analyse."""
    lang = get_language() or settings.LANGUAGE_CODE
    surveys = queries.surveys_with_design(request.user)
    return render(request, "console/drivers/index.html", {"surveys": surveys, "lang": lang})
