"""The survey builder: drafts, questions, display logic, a phone-size preview, publishing, distribution.

Every page starts from ``Survey.objects.visible_to(user)`` (404 outside the reader's scope) and then
asks :func:`builder_queries.can_edit_survey` (403: a company survey a store manager may read but not
change). Writes go through ``manyi.surveys.actions``. Each page works without JavaScript; with htmx
the question list is swapped in place.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods

from manyi.core.actions import do_audit
from manyi.core.errors import error_response
from manyi.core.i18ntext import normalize_language, text_for
from manyi.customers.models import Customer
from manyi.surveys.actions import (
    SurveyError,
    do_change_draft,
    do_create_link,
    do_create_link_batch,
    do_create_survey,
    do_publish,
    do_update_survey,
)
from manyi.surveys.choices import LinkKind, VersionStatus
from manyi.surveys.models import Survey, SurveyLink
from manyi.surveys.queries import survey_link_url
from manyi.surveys.questions import definition_errors, parse_answers

from . import builder_queries as bq
from . import queries
from .builder_forms import (
    AddQuestionForm,
    LinkBatchForm,
    QuestionForm,
    SurveyCreateForm,
    SurveyTextsForm,
    bilingual_initial,
    new_question,
)
from .qrsheet import QrSheetUnavailable, qr_sheet_pdf


def _lang() -> str:
    return get_language() or settings.LANGUAGE_CODE


def _forbidden(request: HttpRequest) -> HttpResponse:
    return error_response(
        request,
        403,
        "not_a_builder",
        _(
            "You may read this survey but not change it: surveys are built by administrators, CX "
            "managers and unit managers of the unit that owns them."
        ),
    )


def _editable(request: HttpRequest, pk: int) -> Survey | HttpResponse:
    survey = get_object_or_404(Survey.objects.visible_to(request.user).select_related("unit"), pk=pk)
    if not bq.can_edit_survey(request.user, survey):
        return _forbidden(request)
    return survey


def _question_forms(definition: dict[str, Any], lang: str) -> list[QuestionForm]:
    questions = list(definition.get("questions") or [])
    codes = {q["code"] for q in questions}
    return [
        QuestionForm(question=q, earlier=questions[:i], lang=lang, taken_codes=codes)
        for i, q in enumerate(questions)
    ]


def _editor_context(request: HttpRequest, survey: Survey, **extra: Any) -> dict[str, Any]:
    lang = _lang()
    definition, version = bq.draft_definition(survey)
    texts_initial = {
        **bilingual_initial("name", survey.name),
        **bilingual_initial("title", definition.get("title")),
        **bilingual_initial("intro", definition.get("intro")),
        **bilingual_initial("thanks", definition.get("thanks")),
        "languages": list(survey.languages),
    }
    ctx: dict[str, Any] = {
        "survey": survey,
        "version": version,
        "is_draft": version is not None and version.status == VersionStatus.DRAFT,
        "question_forms": _question_forms(definition, lang),
        "texts_form": SurveyTextsForm(initial=texts_initial),
        "add_form": AddQuestionForm(),
        "problems": definition_errors(definition, list(survey.languages)),
        "lang": lang,
    }
    ctx.update(extra)
    return ctx


def _back_to_editor(request: HttpRequest, survey: Survey, anchor: str = "") -> HttpResponse:
    url = reverse("console:builder_edit", args=[survey.pk]) + (f"#{anchor}" if anchor else "")
    return HttpResponseRedirect(url, status=303)


def _questions_fragment(request: HttpRequest, survey: Survey, **extra: Any) -> HttpResponse:
    """The question list and the publishing checklist, for htmx to swap in place."""
    return render(request, "console/builder/_questions.html", _editor_context(request, survey, **extra))


@login_required
@require_http_methods(["GET", "POST"])
def builder_new(request: HttpRequest) -> HttpResponse:
    """Create a survey: blank or from a template, owned by a unit the user may build for."""
    if not bq.can_build(request.user):
        return _forbidden(request)
    lang = _lang()
    units = bq.buildable_units(request.user)
    form = SurveyCreateForm(request.POST or None, units=units, lang=lang)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        name = {k: v for k, v in (("zh-hans", d["name_zh"].strip()), ("en", d["name_en"].strip())) if v}
        template = d.get("template") or None
        definition = None
        if not template:
            definition = {
                "title": dict(name),
                "thanks": {"zh-hans": "感谢您的反馈！", "en": "Thank you for your feedback!"},
                "questions": [],
            }
        survey = do_create_survey(
            slug=d["slug"], unit=d["unit"], template=template, name=name, definition=definition
        )
        do_audit(request.user, "survey.create", f"survey:{survey.pk}", {"slug": survey.slug})
        return _back_to_editor(request, survey)
    return render(
        request, "console/builder/new.html", {"form": form, "lang": lang}, status=422 if form.errors else 200
    )


@login_required
@require_http_methods(["GET", "POST"])
def builder_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The draft editor. POST ``action=texts`` saves the survey's texts; ``action=add`` adds a question."""
    found = _editable(request, pk)
    if isinstance(found, HttpResponse):
        return found
    survey = found
    if request.method == "GET":
        return render(request, "console/builder/edit.html", _editor_context(request, survey))
    action = request.POST.get("action")
    if action == "texts":
        form = SurveyTextsForm(request.POST)
        if not form.is_valid():
            ctx = _editor_context(request, survey)
            ctx["texts_form"] = form
            return render(request, "console/builder/edit.html", ctx, status=422)
        do_update_survey(survey=survey, name=form.name(), languages=form.cleaned_data["languages"])
        do_change_draft(survey=survey, change=form.apply)
        return _back_to_editor(request, survey, "texts")
    if action == "add":
        add = AddQuestionForm(request.POST)
        if not add.is_valid():
            return error_response(request, 400, "bad_type", _("Choose a question type from the list."))
        qtype = add.cleaned_data["type"]
        added: dict[str, Any] = {}

        def append(definition: dict[str, Any]) -> dict[str, Any]:
            questions = list(definition.get("questions") or [])
            added.update(new_question(qtype, questions))
            definition["questions"] = [*questions, dict(added)]
            return definition

        do_change_draft(survey=survey, change=append)
        if request.htmx:  # type: ignore[attr-defined]
            return _questions_fragment(request, survey, opened=added["code"])
        return _back_to_editor(request, survey, f"q-{added['code']}")
    return error_response(request, 400, "bad_action", _("Unknown action; the page may be out of date."))


@login_required
@require_http_methods(["GET", "POST"])
def builder_question(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    """One question: GET its editing form; POST ``action`` = ``save``, ``up``, ``down`` or ``delete``."""
    found = _editable(request, pk)
    if isinstance(found, HttpResponse):
        return found
    survey = found
    lang = _lang()
    definition, _version = bq.draft_definition(survey)
    questions = list(definition.get("questions") or [])
    index = next((i for i, q in enumerate(questions) if q.get("code") == code), None)
    if index is None:
        raise Http404
    codes = {q["code"] for q in questions}
    if request.method == "GET":
        form = QuestionForm(
            question=questions[index], earlier=questions[:index], lang=lang, taken_codes=codes
        )
        return render(
            request,
            "console/builder/_question.html",
            {
                "survey": survey,
                "qf": form,
                "index": index,
                "count": len(questions),
                "lang": lang,
                "open": True,
            },
        )
    action = request.POST.get("action", "save")
    if action in ("up", "down", "delete"):

        def rearrange(d: dict[str, Any]) -> dict[str, Any]:
            qs = list(d.get("questions") or [])
            i = next((j for j, q in enumerate(qs) if q.get("code") == code), None)
            if i is None:
                return d
            if action == "delete":
                qs.pop(i)
                # A question whose display logic named the deleted one is shown always again.
                for q in qs:
                    if (q.get("show_if") or {}).get("question") == code:
                        q.pop("show_if")
            else:
                j = i - 1 if action == "up" else i + 1
                if 0 <= j < len(qs):
                    qs[i], qs[j] = qs[j], qs[i]
            d["questions"] = qs
            return d

        do_change_draft(survey=survey, change=rearrange)
        if request.htmx:  # type: ignore[attr-defined]
            return _questions_fragment(request, survey)
        return _back_to_editor(request, survey, "questions")
    if action != "save":
        return error_response(request, 400, "bad_action", _("Unknown action; the page may be out of date."))
    form = QuestionForm(
        request.POST, question=questions[index], earlier=questions[:index], lang=lang, taken_codes=codes
    )
    if not form.is_valid():
        ctx = {
            "survey": survey,
            "qf": form,
            "index": index,
            "count": len(questions),
            "lang": lang,
            "open": True,
        }
        if request.htmx:  # type: ignore[attr-defined]
            # htmx swaps only successful answers: the fragment replaces just this question.
            response = render(request, "console/builder/_question.html", ctx)
            response["HX-Retarget"] = f"#q-{code}"
            response["HX-Reswap"] = "outerHTML"
            return response
        return render(request, "console/builder/question_page.html", ctx, status=422)
    updated = form.to_question()

    def replace(d: dict[str, Any]) -> dict[str, Any]:
        qs = list(d.get("questions") or [])
        for j, q in enumerate(qs):
            if q.get("code") == code:
                qs[j] = updated
            elif updated["code"] != code and (q.get("show_if") or {}).get("question") == code:
                q["show_if"] = {**q["show_if"], "question": updated["code"]}  # follow a renamed code
        d["questions"] = qs
        return d

    do_change_draft(survey=survey, change=replace)
    if request.htmx:  # type: ignore[attr-defined]
        return _questions_fragment(request, survey, saved=updated["code"])
    return _back_to_editor(request, survey, f"q-{updated['code']}")


@login_required
@require_http_methods(["GET", "POST"])
def builder_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what would be published and what stops it; POST: publish the draft as a new version."""
    found = _editable(request, pk)
    if isinstance(found, HttpResponse):
        return found
    survey = found
    ctx = _editor_context(request, survey)
    if request.method == "POST":
        try:
            version = do_publish(survey=survey)
        except SurveyError as exc:
            ctx["problems"] = exc.errors
            return render(request, "console/builder/publish.html", ctx, status=422)
        do_audit(request.user, "survey.publish", f"survey:{survey.pk}", {"version": version.number})
        return HttpResponseRedirect(
            reverse("console:builder_distribute", args=[survey.pk]) + "?published=1", status=303
        )
    return render(request, "console/builder/publish.html", ctx)


class _PreviewLink:
    """What the public template reads from a link, for a draft that has no link yet."""

    token = "preview"


@xframe_options_sameorigin
@login_required
@require_http_methods(["GET", "POST"])
def builder_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The real public survey page rendering the draft; a POST checks the answers and saves nothing."""
    found = _editable(request, pk)
    if isinstance(found, HttpResponse):
        return found
    survey = found
    from manyi.responses.views import _question_views  # the public page's own view of each question

    definition, version = bq.draft_definition(survey)
    if version is None:
        raise Http404
    langs = list(survey.languages)
    lang = normalize_language(request.GET.get("lang") or request.POST.get("lang")) or ""
    if lang not in langs:
        lang = _lang() if _lang() in langs else survey.fallback_language
    if request.GET.get("autosave"):
        return HttpResponse(status=204)  # the page's autosave has nothing to keep in a preview
    raw: dict[str, Any] = {}
    errors: dict[str, str] = {}
    done = False
    if request.method == "POST":
        parsed = parse_answers(version.questions, request.POST)
        raw, errors, done = parsed.raw, parsed.errors, not parsed.errors
    fb = survey.fallback_language
    url = reverse("console:builder_preview", args=[survey.pk])
    with translation.override(lang):
        ctx = {
            "link": _PreviewLink(),
            "preview": True,
            "preview_done": done,
            "preview_url": f"{url}?lang={lang}",
            "preview_draft_url": f"{url}?lang={lang}&autosave=1",
            "lang": lang,
            "languages": [
                (code, name) for code, name in (("zh-hans", "中文"), ("en", "English")) if code in langs
            ],
            "title": text_for(definition.get("title"), lang, fb) or survey.display_name(lang),
            "intro": text_for(definition.get("intro"), lang, fb),
            "thanks": text_for(definition.get("thanks"), lang, fb),
            "unit_name": survey.unit.display_name(lang),
            "questions": _question_views(version, lang, fb, raw, errors),
            "errors": errors,
            "sid": str(uuid.uuid4()),
            "version_id": version.pk,
            "started": "",
        }
        response = render(request, "responses/survey.html", ctx, status=422 if errors else 200)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def builder_distribute(request: HttpRequest, pk: int) -> HttpResponse:
    """Links and QR codes: the anonymous link, one QR link per store, the PDF sheet, personal batches.

    POST ``action`` = ``anonymous`` (make the survey's anonymous link), ``unit_links`` (a QR link for
    every store in scope that has none) or ``batch`` (single-use links, answered as a CSV download).
    """
    found = _editable(request, pk)
    if isinstance(found, HttpResponse):
        return found
    survey = found
    lang = _lang()
    units = bq.distribution_units(request.user, survey)
    batch = LinkBatchForm(units=units, lang=lang, initial={"unit": survey.unit_id})
    status = 200
    notice = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "anonymous":
            if not SurveyLink.objects.filter(
                survey=survey, kind=LinkKind.ANONYMOUS, unit=survey.unit
            ).exists():
                do_create_link(survey=survey, kind=LinkKind.ANONYMOUS, unit=survey.unit)
            return HttpResponseRedirect(request.path + "?made=anonymous", status=303)
        if action == "unit_links":
            missing = bq.stores_without_unit_link(request.user, survey)
            for unit in missing:
                do_create_link(survey=survey, kind=LinkKind.UNIT, unit=unit)
            do_audit(request.user, "survey.links", f"survey:{survey.pk}", {"unit_links": len(missing)})
            return HttpResponseRedirect(request.path + f"?made={len(missing)}", status=303)
        if action == "batch":
            batch = LinkBatchForm(request.POST, units=units, lang=lang)
            if batch.is_valid():
                made = _make_batch(request, survey, batch)
                if isinstance(made, HttpResponse):
                    return made
            status = 422
        else:
            return error_response(
                request, 400, "bad_action", _("Unknown action; the page may be out of date.")
            )
    made_now = request.GET.get("made", "")
    if made_now == "anonymous":
        notice = _("The anonymous link is ready.")
    elif made_now.isdigit():
        notice = _("{n} new store links with QR codes.").format(n=made_now)
    elif request.GET.get("published"):
        notice = _("Published. The survey's links now open the new version.")
    ctx = {
        "survey": survey,
        "lang": lang,
        "links": queries.survey_links(request.user, survey.pk),
        "missing": bq.stores_without_unit_link(request.user, survey),
        "has_anonymous": SurveyLink.objects.filter(
            survey=survey, kind=LinkKind.ANONYMOUS, unit=survey.unit
        ).exists(),
        "published": survey.published_version(),
        "batch_form": batch,
        "notice": notice,
    }
    return render(request, "console/builder/distribute.html", ctx, status=status)


def _make_batch(request: HttpRequest, survey: Survey, form: LinkBatchForm) -> HttpResponse | None:
    """Create the batch and answer it as a CSV download; None (with form errors) when customers are unknown."""
    d = form.cleaned_data
    ids: list[str] = d["customer_ids"]
    customers: list[Customer] = []
    if ids:
        found = {
            c.external_id: c for c in Customer.objects.visible_to(request.user).filter(external_id__in=ids)
        }
        unknown = [(n, x) for n, x in enumerate(ids, start=1) if x not in found]
        if unknown:
            shown = "; ".join(_("line {n}: “{id}”").format(n=n, id=x[:40]) for n, x in unknown[:10])
            more = len(unknown) - 10
            msg = _("No customer you can see has these external ids: {shown}").format(shown=shown)
            if more > 0:
                msg += " " + _("and {n} more.").format(n=more)
            form.add_error("customers", msg)
            return None
        customers = [found[x] for x in ids]
    expires = timezone.now() + timedelta(days=d["expires_days"]) if d.get("expires_days") else None
    try:
        links = do_create_link_batch(
            survey=survey,
            unit=d["unit"],
            customers=customers or None,
            count=d.get("count") or 0,
            language=d.get("language") or "",
            expires_at=expires,
        )
    except SurveyError as exc:
        form.add_error(None, "; ".join(exc.errors))
        return None
    do_audit(
        request.user,
        "survey.link_batch",
        f"survey:{survey.pk}",
        {"links": len(links), "unit": d["unit"].code, "customers": bool(customers)},
    )
    buf = io.StringIO()
    buf.write("\ufeff")  # Excel reads UTF-8 (Chinese) only with a BOM
    writer = csv.writer(buf)
    writer.writerow(["url", "token", "customer_external_id", "unit", "language", "expires_at"])
    for link in links:
        writer.writerow(
            [
                survey_link_url(link),
                link.token,
                link.customer.external_id if link.customer is not None else "",
                d["unit"].code,
                link.language,
                link.expires_at.isoformat() if link.expires_at else "",
            ]
        )
    response = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="links-{survey.slug}-{stamp}.csv"'
    return response


@login_required
def builder_qr_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    """A printable A4 PDF: every store's QR code with its name in Chinese and English."""
    survey = get_object_or_404(Survey.objects.visible_to(request.user).select_related("unit"), pk=pk)
    links = bq.unit_links_for_sheet(request.user, survey)
    if not links:
        return error_response(
            request,
            404,
            "no_store_links",
            _("This survey has no store links with QR codes yet: make them on the distribution page first."),
        )
    try:
        pdf = qr_sheet_pdf(
            title=survey.name,
            stores=[(link.unit.name, link.unit.code, survey_link_url(link)) for link in links],
        )
    except QrSheetUnavailable as exc:
        return error_response(request, 503, "no_cjk_font", str(exc))
    do_audit(request.user, "survey.qr_sheet", f"survey:{survey.pk}", {"stores": len(links)})
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="qr-{survey.slug}.pdf"'
    return response
