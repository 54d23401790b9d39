"""The public survey page ``/s/<token>``: works without JavaScript, small enough for any phone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.http import require_http_methods

from manyi.core import ratelimit
from manyi.core.errors import error_response
from manyi.core.i18ntext import normalize_language, text_for
from manyi.core.privacy import ip_hash
from manyi.surveys.models import SurveyLink, SurveyVersion
from manyi.surveys.questions import scale_of

from .actions import SubmitRefused, answerable_version, check_submit_response, do_save_draft, link_refusal
from .models import Response, ResponseDraft
from .queries import link_by_token

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_signer = signing.TimestampSigner(salt="manyi.survey.form")


def _cookie_name(link: SurveyLink) -> str:
    return f"msid_{link.pk}"


def choose_language(request: HttpRequest, link: SurveyLink) -> str:
    """The language picked with the page's switch (?lang=), then the link's language, then
    Accept-Language (by quality), then the survey's fallback language. Only the survey's languages count."""
    langs = list(link.survey.languages)
    asked = normalize_language(request.GET.get("lang") or request.POST.get("lang"))
    if asked and asked in langs:
        return asked  # the respondent picked it on the page
    if link.language in langs:
        return str(link.language)
    # parse_accept_lang_header orders by quality value and drops malformed parts.
    for code, _q in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        lang = normalize_language(code)
        if lang and lang in langs:
            return lang
    return str(link.survey.fallback_language)


def _parse_sid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _limited(request: HttpRequest, scope: str, rate: str) -> HttpResponse | None:
    return ratelimit.refusal(request, scope, rate)


def _question_views(
    version: SurveyVersion, lang: str, fallback: str, raw: dict[str, Any], errors: dict[str, str]
):
    """Everything the template needs per question, texts already in the chosen language."""
    out = []
    for q in version.questions:
        name = f"q_{q['code']}"
        view: dict[str, Any] = {
            "code": q["code"],
            "type": q["type"],
            "name": name,
            "required": bool(q.get("required")),
            "label": text_for(q.get("label"), lang, fallback),
            "help": text_for(q.get("help"), lang, fallback),
            "error": errors.get(q["code"], ""),
            "show_if": q.get("show_if"),
            "value": raw.get(name, ""),
        }
        scale = q.get("scale") or {}
        if q["type"] in ("nps", "csat", "ces", "rating", "matrix", "servqual"):
            lo, hi = scale_of(q)
            labels = scale.get("labels") or []
            view["points"] = [
                {
                    "value": str(v),
                    "label": text_for(labels[v - lo], lang, fallback) if len(labels) > v - lo else "",
                }
                for v in range(lo, hi + 1)
            ]
            view["min_label"] = text_for(scale.get("min_label"), lang, fallback)
            view["max_label"] = text_for(scale.get("max_label"), lang, fallback)
        if q["type"] == "matrix":
            view["rows"] = [
                {
                    "name": f"{name}__{r['code']}",
                    "label": text_for(r.get("label"), lang, fallback),
                    "value": raw.get(f"{name}__{r['code']}", ""),
                }
                for r in q.get("rows", [])
            ]
        if q["type"] == "servqual":
            view["rows"] = [
                {
                    "name": f"{name}__expectation",
                    "label": _("What you expected"),
                    "value": raw.get(f"{name}__expectation", ""),
                },
                {
                    "name": f"{name}__perception",
                    "label": _("What you experienced"),
                    "value": raw.get(f"{name}__perception", ""),
                },
            ]
        if q["type"] in ("single", "multi"):
            chosen = raw.get(name) or ([] if q["type"] == "multi" else "")
            opts = [
                {"value": o["code"], "label": text_for(o.get("label"), lang, fallback)}
                for o in q.get("options", [])
            ]
            if q.get("allow_other"):
                opts.append({"value": "other", "label": _("Other")})
                view["other_name"] = f"{name}__other"
                view["other_value"] = raw.get(f"{name}__other", "")
            for o in opts:
                o["checked"] = o["value"] in chosen if isinstance(chosen, list) else o["value"] == chosen
            view["options"] = opts
        out.append(view)
    return out


def _render_form(
    request: HttpRequest,
    link: SurveyLink,
    version: SurveyVersion,
    lang: str,
    sid: uuid.UUID,
    *,
    raw: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    survey = link.survey
    fb = survey.fallback_language
    d = version.definition
    ctx = {
        "link": link,
        "lang": lang,
        "languages": [
            (code, name)
            for code, name in (("zh-hans", "中文"), ("en", "English"))
            if code in survey.languages
        ],
        "title": text_for(d.get("title"), lang, fb) or survey.display_name(lang),
        "intro": text_for(d.get("intro"), lang, fb),
        "unit_name": link.unit.display_name(lang),
        "questions": _question_views(version, lang, fb, raw or {}, errors or {}),
        "errors": errors or {},
        "sid": str(sid),
        "version_id": version.pk,
        "started": _signer.sign(str(int(timezone.now().timestamp()))),
    }
    resp = render(request, "responses/survey.html", ctx, status=status)
    resp.set_cookie(
        _cookie_name(link),
        str(sid),
        max_age=7 * 24 * 3600,
        path=f"/s/{link.token}",
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    resp["Cache-Control"] = "no-store"
    return resp


def _refusal_page(request: HttpRequest, refusal: SubmitRefused) -> HttpResponse:
    status = 410 if refusal.code in ("link_expired", "link_used") else 409
    if refusal.code == "survey_closed":
        status = 410
    return error_response(request, status, refusal.code, refusal.message)


def _link_or_404(request: HttpRequest, token: str) -> SurveyLink | HttpResponse:
    link = link_by_token(token)
    if link is None:
        return error_response(
            request,
            404,
            "unknown_link",
            _("This survey link is not valid. Please check the address or QR code."),
        )
    return link


@require_http_methods(["GET", "POST"])
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    """Show the survey (GET) or take the submission (POST)."""
    found = _link_or_404(request, token)
    if isinstance(found, HttpResponse):
        return found
    link = found
    lang = choose_language(request, link)
    translation.activate(lang)
    request.LANGUAGE_CODE = lang
    if request.method == "POST":
        return _submit(request, link, lang)
    if limited := _limited(request, "page", settings.MANYI_PUBLIC_RATE_LIMIT):
        return limited
    sid = _parse_sid(request.COOKIES.get(_cookie_name(link)))
    if request.GET.get("new") == "1" and not link.single_use:
        sid = None
    if sid is not None:
        done = Response.objects.filter(submission_id=sid, link=link).only("pk").first()
        if done is not None:
            return HttpResponseRedirect(reverse("responses:thanks", args=[link.token, sid]))
    if refusal := link_refusal(link):
        return _refusal_page(request, refusal)
    raw: dict[str, Any] = {}
    version: SurveyVersion | None = None
    if sid is not None:
        draft = ResponseDraft.objects.filter(submission_id=sid, link=link).select_related("version").first()
        if draft is not None:
            raw, version = dict(draft.answers), draft.version
    version = version or link.survey.published_version()
    if version is None:
        return _refusal_page(
            request, SubmitRefused("survey_closed", _("This survey is not taking answers at the moment."))
        )
    return _render_form(request, link, version, lang, sid or uuid.uuid4(), raw=raw)


def _started_at(request: HttpRequest) -> datetime | None:
    try:
        ts = int(_signer.unsign(request.POST.get("started", ""), max_age=7 * 24 * 3600))
    except (signing.BadSignature, ValueError):
        return None
    return datetime.fromtimestamp(ts, tz=UTC)


def _form_content_type_ok(request: HttpRequest) -> bool:
    return request.content_type in FORM_TYPES


def _submit(request: HttpRequest, link: SurveyLink, lang: str) -> HttpResponse:
    if not _form_content_type_ok(request):
        return error_response(
            request,
            415,
            "unsupported_content_type",
            _("Send the survey as a form (application/x-www-form-urlencoded or multipart/form-data)."),
        )
    if limited := _limited(request, "submit", settings.MANYI_SUBMIT_RATE_LIMIT):
        return limited
    sid = _parse_sid(request.POST.get("sid"))
    if sid is None:
        return error_response(
            request, 400, "missing_submission_id", _("The form is incomplete. Please reload the page.")
        )
    try:
        result = check_submit_response(
            link=link,
            submission_id=sid,
            data=request.POST,
            language=lang,
            version_id=request.POST.get("v"),
            started_at=_started_at(request),
            ip_hash=ip_hash(request),
        )
    except SubmitRefused as refusal:
        return _refusal_page(request, refusal)
    if result.errors:
        version = answerable_version(link, request.POST.get("v"))
        assert version is not None
        return _render_form(
            request, link, version, lang, sid, raw=result.raw, errors=result.errors, status=422
        )
    url = reverse("responses:thanks", args=[link.token, sid])
    if lang != link.survey.fallback_language:
        url += f"?lang={lang}"
    return HttpResponseRedirect(url, status=303)


@require_http_methods(["POST"])
def save_draft(request: HttpRequest, token: str) -> HttpResponse:
    """Autosave endpoint for the page's small script; answers 204."""
    found = _link_or_404(request, token)
    if isinstance(found, HttpResponse):
        return found
    link = found
    if not _form_content_type_ok(request):
        return error_response(request, 415, "unsupported_content_type", _("Send the answers as a form."))
    if limited := _limited(request, "page", settings.MANYI_PUBLIC_RATE_LIMIT):
        return limited
    sid = _parse_sid(request.POST.get("sid"))
    version = answerable_version(link, request.POST.get("v"))
    if sid is None or version is None or link_refusal(link):
        return error_response(request, 400, "cannot_save", _("These answers cannot be saved."))
    do_save_draft(
        link=link,
        submission_id=sid,
        version=version,
        data=request.POST,
        language=choose_language(request, link),
    )
    return HttpResponse(status=204)


def thanks(request: HttpRequest, token: str, sid: str) -> HttpResponse:
    """The thank-you page; the same for every repeat of one submission."""
    found = _link_or_404(request, token)
    if isinstance(found, HttpResponse):
        return found
    link = found
    parsed = _parse_sid(sid)
    response = (
        Response.objects.filter(submission_id=parsed, link=link).select_related("version").first()
        if parsed
        else None
    )
    if response is None:
        return error_response(request, 404, "unknown_submission", _("We could not find this answer."))
    lang = normalize_language(request.GET.get("lang")) or response.language
    if lang not in link.survey.languages:
        lang = link.survey.fallback_language
    translation.activate(lang)
    request.LANGUAGE_CODE = lang
    fb = link.survey.fallback_language
    d = response.version.definition
    return render(
        request,
        "responses/thanks.html",
        {
            "link": link,
            "lang": lang,
            "title": text_for(d.get("title"), lang, fb),
            "thanks": text_for(d.get("thanks"), lang, fb),
            "unit_name": link.unit.display_name(lang),
            "again": not link.single_use,
        },
    )
