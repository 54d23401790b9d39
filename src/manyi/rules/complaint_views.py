"""The public complaint form of a unit, ``/c/<unit code>``: no JavaScript, phone-sized, bilingual.

Rate-limited like the survey page; a hidden submission id makes a double tap or a retry store one
complaint; a honeypot field quietly drops what bots fill in.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.http import require_http_methods

from manyi.core import ratelimit
from manyi.core.errors import error_response
from manyi.core.i18ntext import normalize_language
from manyi.org.models import OrgUnit

from .intake import PublicComplaintForm, do_record_public_complaint

LANGUAGES = (("zh-hans", "中文"), ("en", "English"))
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _language(request: HttpRequest, unit: OrgUnit) -> str:
    asked = normalize_language(request.GET.get("lang") or request.POST.get("lang"))
    codes = [c for c, _n in LANGUAGES]
    if asked in codes:
        return str(asked)
    for code, _q in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        lang = normalize_language(code)
        if lang in codes:
            return str(lang)
    return unit.locale if unit.locale in codes else "zh-hans"


def _unit(request: HttpRequest, code: str) -> OrgUnit | HttpResponse:
    unit = OrgUnit.objects.filter(code=code, is_active=True).first()
    if unit is None:
        return error_response(
            request,
            404,
            "unknown_unit",
            _("This complaint form does not exist. Please check the address or QR code."),
        )
    return unit


def _limited(request: HttpRequest, scope: str, rate: str) -> HttpResponse | None:
    return ratelimit.refusal(request, scope, rate)


def _render(
    request: HttpRequest, unit: OrgUnit, lang: str, form: PublicComplaintForm, sid: str, status: int = 200
) -> HttpResponse:
    resp = render(
        request,
        "complaints/form.html",
        {
            "unit": unit,
            "unit_name": unit.display_name(lang),
            "lang": lang,
            "languages": LANGUAGES,
            "form": form,
            "sid": sid,
            "title": _("Tell us what went wrong"),
        },
        status=status,
    )
    resp["Cache-Control"] = "no-store"
    return resp


@require_http_methods(["GET", "POST"])
def complaint_page(request: HttpRequest, code: str) -> HttpResponse:
    """Show the complaint form (GET) or take the complaint (POST)."""
    found = _unit(request, code)
    if isinstance(found, HttpResponse):
        return found
    unit = found
    lang = _language(request, unit)
    translation.activate(lang)
    request.LANGUAGE_CODE = lang
    if request.method == "GET":
        if limited := _limited(request, "complaint-page", settings.MANYI_PUBLIC_RATE_LIMIT):
            return limited
        return _render(request, unit, lang, PublicComplaintForm(), str(uuid.uuid4()))
    if request.content_type not in FORM_TYPES:
        return error_response(
            request,
            415,
            "unsupported_content_type",
            _("Send the complaint as a form (application/x-www-form-urlencoded or multipart/form-data)."),
        )
    if limited := _limited(request, "complaint", settings.MANYI_SUBMIT_RATE_LIMIT):
        return limited
    try:
        sid = uuid.UUID(str(request.POST.get("sid", "")))
    except ValueError:
        return error_response(
            request, 400, "missing_submission_id", _("The form is incomplete. Please reload the page.")
        )
    form = PublicComplaintForm(request.POST)
    if not form.is_valid():
        return _render(request, unit, lang, form, str(sid), status=422)
    thanks = reverse("complaints:thanks", args=[unit.code]) + f"?lang={lang}"
    if form.cleaned_data.get("website"):
        return HttpResponseRedirect(thanks, status=303)  # a bot: say thanks, store nothing
    do_record_public_complaint(unit=unit, submission_id=sid, data=form.cleaned_data, language=lang)
    return HttpResponseRedirect(thanks, status=303)


def complaint_thanks(request: HttpRequest, code: str) -> HttpResponse:
    found = _unit(request, code)
    if isinstance(found, HttpResponse):
        return found
    lang = _language(request, found)
    translation.activate(lang)
    request.LANGUAGE_CODE = lang
    return render(
        request,
        "complaints/thanks.html",
        {"unit": found, "unit_name": found.display_name(lang), "lang": lang, "title": _("Thank you")},
    )
