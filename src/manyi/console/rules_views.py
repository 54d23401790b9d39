"""Console pages of rules (list, editor with dry run and version history), the staff complaint entry,
and the QR code of a unit's public complaint form. Every read goes through ``visible_to``."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import segno
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from manyi.org.models import OrgUnit
from manyi.rules import queries
from manyi.rules.actions import do_save_rule
from manyi.rules.choices import AppliesTo
from manyi.rules.conditions import InvalidRule, Problem, parse_definition
from manyi.rules.intake import StaffComplaintForm, UnitChoiceField, do_record_staff_complaint
from manyi.rules.models import ResurveyEntry, Rule, RuleMatch

QR_FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
# The console's dry run scans at most this many of the newest sources of each kind.
DRY_RUN_LIMIT = 20000

EXAMPLE_CONDITION = {
    "any": [
        {"field": "nps", "op": "<=", "value": 6},
        {"field": "text.flags", "op": "any", "value": ["anger", "legal", "safety"]},
    ]
}
EXAMPLE_ACTIONS = [
    {"type": "open_case", "priority": "high"},
    {"type": "notify", "roles": ["unit_manager"]},
    {"type": "tag", "tags": ["detractor"]},
]


def _lang() -> str:
    return get_language() or settings.LANGUAGE_CODE


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(
        label=_("Slug"),
        max_length=64,
        required=False,
        help_text=_("For the CLI; made from the name when empty."),
    )
    unit = UnitChoiceField(
        label=_("Applies to the unit and its subtree"), queryset=OrgUnit.objects.none(), empty_label=None
    )
    applies_to = forms.ChoiceField(label=_("Evaluated on"), choices=AppliesTo.choices, initial=AppliesTo.BOTH)
    position = forms.IntegerField(label=_("Order"), min_value=0, max_value=100000, initial=100)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    condition = forms.CharField(
        label=_("Condition (JSON)"),
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false", "class": "code"}),
    )
    actions = forms.CharField(
        label=_("Actions (JSON)"),
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "code"}),
    )
    note = forms.CharField(label=_("What changed (for the version history)"), max_length=200, required=False)
    since = forms.DateField(
        label=_("Dry run from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self, *args: Any, user: Any, rule: Rule | None = None, editable: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, forms.ModelChoiceField)
        if rule is not None and not editable:
            field.queryset = OrgUnit.objects.filter(pk=rule.unit_id)
        elif editable:
            field.queryset = queries.editable_units(user).order_by("path")
        else:  # a draft to dry-run only: any unit the user can read
            field.queryset = OrgUnit.objects.visible_to(user).filter(is_active=True).order_by("path")
        if rule is not None:
            self.fields["slug"].disabled = True


def _initial(rule: Rule | None) -> dict[str, Any]:
    since = timezone.localdate() - timedelta(days=30)
    if rule is None:
        return {
            "condition": json.dumps(EXAMPLE_CONDITION, ensure_ascii=False, indent=2),
            "actions": json.dumps(EXAMPLE_ACTIONS, ensure_ascii=False, indent=2),
            "is_active": True,
            "position": 100,
            "applies_to": AppliesTo.BOTH,
            "since": since,
        }
    v = rule.current_version
    return {
        "name": rule.name,
        "slug": rule.slug,
        "unit": rule.unit,
        "applies_to": rule.applies_to,
        "position": rule.position,
        "is_active": rule.is_active,
        "description": rule.description,
        "condition": json.dumps(v.condition if v else {}, ensure_ascii=False, indent=2),
        "actions": json.dumps(v.actions if v else [], ensure_ascii=False, indent=2),
        "since": since,
    }


def _attach(form: RuleForm, problems: list[Problem]) -> None:
    for p in problems:
        root = p.path.split(".")[0].split("[")[0]
        target = root if root in form.fields else None
        form.add_error(target, f"{p.path}: {p.message}" if target in ("condition", "actions") else p.message)


def _since(d: date | None, unit: OrgUnit) -> datetime:
    d = d or (timezone.localdate() - timedelta(days=30))
    return datetime.combine(d, time(0), tzinfo=ZoneInfo(unit.timezone))


def _editor(request: HttpRequest, rule: Rule | None) -> HttpResponse:
    user = request.user
    editable = queries.editable_units(user).exists() if rule is None else queries.can_edit(user, rule)
    dry: Any = None
    problems: list[Problem] = []
    if request.method == "POST":
        form = RuleForm(request.POST, user=user, rule=rule, editable=editable)
        op = request.POST.get("op", "save")
        if op == "save" and not editable:
            raise PermissionDenied
        if form.is_valid():
            d = form.cleaned_data
            if op == "dry_run":
                try:
                    defn = parse_definition(
                        d["condition"], d["actions"], context=queries.validation_context()
                    )
                except InvalidRule as exc:
                    problems = exc.problems
                else:
                    dry = queries.dry_run(
                        definition=defn,
                        unit=d["unit"],
                        applies_to=d["applies_to"],
                        since=_since(d.get("since"), d["unit"]),
                        user=user,
                        limit=DRY_RUN_LIMIT,
                    )
                    names = OrgUnit.objects.in_bulk({m.unit for m in dry.sample}, field_name="code")
                    for m in dry.sample:
                        m.unit_obj = names.get(m.unit)
            else:
                try:
                    saved = do_save_rule(
                        condition=d["condition"],
                        actions=d["actions"],
                        unit=d["unit"],
                        name=d["name"],
                        slug=d.get("slug") or "",
                        rule=rule,
                        description=d.get("description") or "",
                        applies_to=d["applies_to"],
                        is_active=bool(d.get("is_active")),
                        position=d["position"],
                        note=d.get("note") or "",
                        user=user,
                    )
                except InvalidRule as exc:
                    problems = exc.problems
                else:
                    return HttpResponseRedirect(reverse("console:rule_detail", args=[saved.pk]) + "?saved=1")
            _attach(form, problems)
    else:
        form = RuleForm(initial=_initial(rule), user=user, rule=rule, editable=editable)
    ctx: dict[str, Any] = {
        "rule": rule,
        "form": form,
        "problems": problems,
        "dry": dry,
        "editable": editable,
        "saved": request.GET.get("saved") == "1",
        "lang": _lang(),
        "fields_help": FIELD_HELP,
    }
    if rule is not None:
        versions = list(rule.versions.select_related("created_by").order_by("-number"))
        for v in versions:
            v.condition_json = json.dumps(v.condition, ensure_ascii=False, indent=2)  # type: ignore[attr-defined]
            v.actions_json = json.dumps(v.actions, ensure_ascii=False, indent=2)  # type: ignore[attr-defined]
        ctx["versions"] = versions
        ctx["matches"] = list(
            RuleMatch.objects.visible_to(user)
            .filter(rule=rule)
            .select_related("version", "unit")
            .order_by("-matched_at", "-id")[:20]
        )
        entries = ResurveyEntry.objects.filter(match__in=ctx["matches"]).select_related("decision")
        by_match = {e.match_id: e for e in entries}
        for m in ctx["matches"]:
            m.resurvey = by_match.get(m.pk)
        ctx["has_resurvey"] = bool(by_match)
    failed = bool(problems) or (request.method == "POST" and bool(form.errors))
    return render(request, "console/rules/edit.html", ctx, status=422 if failed else 200)


FIELD_HELP = [
    (
        "nps / csat / ces / rating",
        '{"field": "nps", "op": "<=", "value": 6}',
        _("Scores: NPS 0–10, CSAT 1–5, CES 1–7, a feedback record's rating 0–10."),
    ),
    (
        "answer",
        '{"field": "answer", "question": "csi.tangibles", "op": "<=", "value": 2}',
        _("Any question by its code; ops = != < <= > >= in not_in contains answered."),
    ),
    (
        "text",
        '{"field": "text", "op": "contains", "value": "退款"}',
        _("The comment's words: contains, not_contains, present, absent."),
    ),
    (
        "text.flags",
        '{"field": "text.flags", "op": "any", "value": ["anger", "legal"]}',
        _("Urgency flags: anger, churn, complaint, refund, legal, safety."),
    ),
    (
        "text.aspect",
        '{"field": "text.aspect", "value": "wait_time", "sentiment": "negative"}',
        _("An aspect mentioned, optionally with its sentiment."),
    ),
    (
        "text.sentiment",
        '{"field": "text.sentiment", "op": "=", "value": "negative"}',
        _("The comment's sentiment label, or its score with <= / >= (−1 to 1)."),
    ),
    (
        "customer.tier",
        '{"field": "customer.tier", "op": "in", "value": ["gold", "platinum"]}',
        _("The customer's value tier."),
    ),
    (
        "unit",
        '{"field": "unit", "op": "within", "value": ["sh-001"]}',
        _("The unit or its subtree, by unit code."),
    ),
    ("channel", '{"field": "channel", "op": "in", "value": ["phone", "web_form"]}', _("How it came in.")),
    (
        "category / severity",
        '{"field": "severity", "op": ">=", "value": "high"}',
        _("A complaint's category (in / not_in) and severity (low < medium < high < critical)."),
    ),
    ("all / any / not", '{"all": [ … ]}', _("Combine conditions.")),
]


@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    rules = (
        Rule.objects.visible_to(request.user)
        .select_related("unit", "current_version")
        .annotate(n_matches=Count("matches"))
        .order_by("position", "id")
    )
    ctx = {"rules": rules, "can_create": queries.editable_units(request.user).exists(), "lang": _lang()}
    return render(request, "console/rules/list.html", ctx)


@login_required
def rule_create(request: HttpRequest) -> HttpResponse:
    return _editor(request, None)


@login_required
def rule_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(
        Rule.objects.visible_to(request.user).select_related("unit", "current_version"), pk=pk
    )
    return _editor(request, rule)


@login_required
def complaint_create(request: HttpRequest) -> HttpResponse:
    """Staff entry of a complaint taken by phone, at the counter, or from an e-mail or call note."""
    if request.method == "POST":
        form = StaffComplaintForm(request.POST, user=request.user)
        if form.is_valid():
            record = do_record_staff_complaint(form=form, language=_lang())
            return HttpResponseRedirect(reverse("console:feedback_detail", args=[record.pk]))
        status = 422
    else:
        form = StaffComplaintForm(user=request.user)
        status = 200
    return render(
        request, "console/rules/complaint_form.html", {"form": form, "lang": _lang()}, status=status
    )


def complaint_form_url(unit: OrgUnit) -> str:
    return f"{settings.MANYI_BASE_URL}{reverse('complaints:form', args=[unit.code])}"


@login_required
def complaint_qr(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The QR code of a unit's public complaint form, as SVG or PNG; ``?download=1`` saves it."""
    unit = get_object_or_404(OrgUnit.objects.visible_to(request.user), pk=pk)
    if fmt not in QR_FORMATS:
        raise Http404
    qr = segno.make(complaint_form_url(unit), error="m")
    buf = io.BytesIO()
    if fmt == "svg":
        qr.save(buf, kind="svg", scale=4, border=2, xmldecl=False)
    else:
        qr.save(buf, kind="png", scale=10, border=2)
    response = HttpResponse(buf.getvalue(), content_type=QR_FORMATS[fmt])
    response["Cache-Control"] = "private, max-age=3600"
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="complaint-qr-{unit.code}.{fmt}"'
    return response


@login_required
def complaint_links(request: HttpRequest) -> HttpResponse:
    """Every visible unit's public complaint form address and QR code, to print for the counter."""
    units = OrgUnit.objects.visible_to(request.user).filter(is_active=True).order_by("path")
    page = Paginator(units, 50).get_page(request.GET.get("page"))
    rows = [{"unit": u, "url": complaint_form_url(u)} for u in page]
    return render(
        request, "console/rules/complaint_links.html", {"rows": rows, "page": page, "lang": _lang()}
    )
