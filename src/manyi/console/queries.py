"""Reads for the staff console. Every query starts from ``objects.visible_to(user)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from manyi.cases.choices import CaseStatus
from manyi.cases.models import Case
from manyi.core.i18ntext import text_for
from manyi.customers.models import Customer
from manyi.feedback.models import FeedbackRecord
from manyi.org.choices import Role
from manyi.org.models import OrgUnit, RoleAssignment
from manyi.responses.models import Answer, Response
from manyi.surveys.choices import LinkKind, QuestionType
from manyi.surveys.models import SurveyLink, SurveyVersion
from manyi.surveys.questions import SCALE_TYPES, SERVQUAL_PARTS, is_visible, scale_of

OPEN_CASE_EXCLUDED = (CaseStatus.RESOLVED, CaseStatus.CLOSED)


@dataclass(frozen=True)
class ScopeLine:
    """One role the signed-in staff member holds, and where."""

    role: str
    unit: OrgUnit | None  # None: a superuser, who sees the whole organisation


def staff_scope(user: Any) -> list[ScopeLine]:
    """The roles shown next to the user's name in the top bar."""
    if not getattr(user, "is_authenticated", False):
        return []
    if getattr(user, "is_superuser", False):
        return [ScopeLine(role=str(Role.ADMIN.label), unit=None)]
    assignments = RoleAssignment.objects.filter(user=user).select_related("unit").order_by("unit__path")
    return [ScopeLine(role=str(ra.get_role_display()), unit=ra.unit) for ra in assignments]


def nps_from_counts(promoters: int, passives: int, detractors: int) -> Any:
    """NPS with its interval from counts (the metrics package works on scores: 10, 8 and 0 stand in)."""
    import numpy as np

    from manyi import metrics

    scores = np.repeat(np.array([10.0, 8.0, 0.0]), [promoters, passives, detractors])
    return metrics.nps(scores)


def home_summary(user: Any) -> dict[str, Any]:
    """Counts, NPS with its n, and the latest comments, all within the user's scope."""
    responses = Response.objects.visible_to(user)
    nps = responses.filter(nps__isnull=False).aggregate(
        n=Count("id"),
        promoters=Count("id", filter=Q(nps__gte=9)),
        detractors=Count("id", filter=Q(nps__lte=6)),
    )
    score = ci_low = ci_high = None
    suppressed = False
    if nps["n"]:
        est = nps_from_counts(
            nps["promoters"], nps["n"] - nps["promoters"] - nps["detractors"], nps["detractors"]
        )
        score, ci_low, ci_high, suppressed = est.value, est.ci_low, est.ci_high, est.suppressed
    return {
        "units": OrgUnit.objects.visible_to(user).count(),
        "responses": responses.count(),
        "open_cases": Case.objects.visible_to(user).exclude(status__in=OPEN_CASE_EXCLUDED).count(),
        "nps": score,
        "nps_n": nps["n"],
        "nps_ci_low": ci_low,
        "nps_ci_high": ci_high,
        "nps_suppressed": suppressed,
        "promoters": nps["promoters"],
        "detractors": nps["detractors"],
        "latest": responses.exclude(comment="").select_related("unit").order_by("-submitted_at", "-id")[:10],
    }


def visible_link(user: Any, survey_pk: int, link_pk: int) -> SurveyLink | None:
    """A survey's shared link (anonymous or per unit) if the user may see it; personal links never."""
    return (
        SurveyLink.objects.visible_to(user)
        .filter(pk=link_pk, survey_id=survey_pk)
        .exclude(kind=LinkKind.PERSONAL)
        .select_related("survey", "unit")
        .first()
    )


def survey_links(user: Any, survey_pk: int) -> QuerySet[SurveyLink]:
    """The shared links of a survey that the user may see, store by store."""
    return (
        SurveyLink.objects.visible_to(user)
        .filter(survey_id=survey_pk)
        .exclude(kind=LinkKind.PERSONAL)
        .select_related("unit")
        .order_by("unit__path", "id")
    )


@dataclass(frozen=True)
class QuestionLine:
    code: str
    type_label: str
    label: str
    required: bool
    rows: list[str]


def version_questions(version: SurveyVersion | None, lang: str) -> list[QuestionLine]:
    """The questions of a version with their labels in ``lang``."""
    if version is None:
        return []
    out = []
    for q in version.questions:
        try:
            type_label = str(QuestionType(str(q.get("type"))).label)
        except ValueError:
            type_label = str(q.get("type"))
        rows = [_label(r.get("label"), lang) or str(r.get("code")) for r in q.get("rows", [])]
        rows += [_label(o.get("label"), lang) or str(o.get("code")) for o in q.get("options", [])]
        out.append(
            QuestionLine(
                code=str(q.get("code")),
                type_label=type_label,
                label=_label(q.get("label"), lang),
                required=bool(q.get("required")),
                rows=rows,
            )
        )
    return out


@dataclass(frozen=True)
class AnswerLine:
    """One line of a response as a person reads it."""

    code: str
    label: str
    value: str = ""
    row: str = ""  # matrix row or SERVQUAL half
    note: str = ""  # the label of the point chosen on a labelled scale ("Very satisfied")
    score: float | None = None
    scale_min: int = 0
    scale_max: int | None = None
    is_text: bool = False
    answered: bool = True
    hidden: bool = False  # not shown to the respondent because of display logic

    @property
    def percent(self) -> int:
        """Where the score sits on its scale, 0–100, for a small bar."""
        if self.score is None or not self.scale_max or self.scale_max <= self.scale_min:
            return 0
        share = (self.score - self.scale_min) / (self.scale_max - self.scale_min)
        return max(0, min(100, round(100 * share)))


def _label(content: Any, lang: str) -> str:
    return text_for(content, lang, "zh-hans") or text_for(content, "en", "en")


def _num(n: float | None) -> str:
    return "" if n is None else f"{n:g}"


def answer_sheet(response: Response, lang: str) -> list[AnswerLine]:
    """Every answer of the response in question order, labelled from the version it answered."""
    answers: dict[str, Answer] = {a.question_code: a for a in response.answers.all()}
    questions = response.version.questions if response.version_id else []
    values = _values(questions, answers)
    lines: list[AnswerLine] = []
    for q in questions:
        code, qtype = str(q.get("code")), q.get("type")
        label = _label(q.get("label"), lang) or code
        if code not in answers and not is_visible(q, values):
            lines.append(AnswerLine(code, label, answered=False, hidden=True))
            continue
        if qtype in SCALE_TYPES:
            a = answers.pop(code, None)
            if a is None or a.number is None:
                lines.append(AnswerLine(code, label, answered=False))
                continue
            lo, hi = scale_of(q)
            point_labels = (q.get("scale") or {}).get("labels") or []
            idx = int(a.number) - lo
            note = _label(point_labels[idx], lang) if 0 <= idx < len(point_labels) else ""
            lines.append(
                AnswerLine(code, label, _num(a.number), note=note, score=a.number, scale_min=lo, scale_max=hi)
            )
        elif qtype in (QuestionType.MATRIX, QuestionType.SERVQUAL):
            lo, hi = scale_of(q)
            if qtype == QuestionType.MATRIX:
                parts = [(str(r.get("code")), _label(r.get("label"), lang)) for r in q.get("rows", [])]
            else:
                names = {
                    "expectation": pgettext("servqual", "Expectation"),
                    "perception": pgettext("servqual", "Perception"),
                }
                parts = [(p, names[p]) for p in SERVQUAL_PARTS]
            for part, part_label in parts:
                a = answers.pop(f"{code}.{part}", None)
                if a is None or a.number is None:
                    lines.append(AnswerLine(code, label, row=part_label or part, answered=False))
                else:
                    lines.append(
                        AnswerLine(
                            code,
                            label,
                            _num(a.number),
                            row=part_label or part,
                            score=a.number,
                            scale_min=lo,
                            scale_max=hi,
                        )
                    )
        elif qtype in (QuestionType.SINGLE, QuestionType.MULTI):
            options = {str(o.get("code")): _label(o.get("label"), lang) for o in q.get("options", [])}
            other = answers.pop(f"{code}.other", None)
            options["other"] = _("Other: {text}").format(text=other.text) if other else _("Other")
            a = answers.pop(code, None)
            chosen = ([a.text] if qtype == QuestionType.SINGLE else list(a.choices or [])) if a else []
            chosen = [c for c in chosen if c]
            if not chosen:
                lines.append(AnswerLine(code, label, answered=False))
                continue
            sep = "、" if lang.startswith("zh") else ", "
            lines.append(AnswerLine(code, label, sep.join(options.get(c, c) for c in chosen)))
        elif qtype == QuestionType.TEXT:
            a = answers.pop(code, None)
            if a is None or not a.text:
                lines.append(AnswerLine(code, label, answered=False))
            else:
                lines.append(AnswerLine(code, label, a.text, is_text=True))
        elif qtype == QuestionType.CONSENT:
            a = answers.pop(code, None)
            if a is None or a.number is None:
                lines.append(AnswerLine(code, label, answered=False))
            else:
                lines.append(AnswerLine(code, label, _("Yes") if a.number else _("No")))
    # Answers whose code is not in the definition still show, under their code.
    for code, a in sorted(answers.items()):
        value = a.text or _num(a.number) or ", ".join(str(c) for c in a.choices or [])
        lines.append(AnswerLine(code, code, value, is_text=bool(a.text)))
    return lines


def _values(questions: list[dict[str, Any]], answers: dict[str, Answer]) -> dict[str, Any]:
    """Stored answers in the shape display logic reads (``is_visible``), by question code."""
    values: dict[str, Any] = {}
    for q in questions:
        a = answers.get(str(q.get("code")))
        if a is None:
            continue
        if q.get("type") == QuestionType.MULTI:
            values[a.question_code] = list(a.choices or [])
        elif a.number is not None:
            values[a.question_code] = int(a.number) if float(a.number).is_integer() else a.number
        else:
            values[a.question_code] = a.text
    return values


def response_context(user: Any, response: Response) -> dict[str, Any]:
    """What a response detail shows beside the answers; each related record only if in the user's scope."""
    return {
        "case": Case.objects.visible_to(user).filter(response=response).first(),
        "feedback": FeedbackRecord.objects.visible_to(user).filter(response=response).first(),
        "customer": (
            Customer.objects.visible_to(user).filter(pk=response.customer_id).first()
            if response.customer_id
            else None
        ),
    }


def feedback_context(user: Any, record: FeedbackRecord) -> dict[str, Any]:
    """The case, response and customer of a feedback record, each only if in the user's scope."""
    return {
        "case": Case.objects.visible_to(user).filter(feedback=record).first(),
        "response": (
            Response.objects.visible_to(user).filter(pk=record.response_id).first()
            if record.response_id
            else None
        ),
        "customer": (
            Customer.objects.visible_to(user).filter(pk=record.customer_id).first()
            if record.customer_id
            else None
        ),
    }


def case_context(user: Any, case: Case) -> dict[str, Any]:
    """The response, feedback record and customer a case follows up, each only if in the user's scope."""
    return {
        "response": (
            Response.objects.visible_to(user).filter(pk=case.response_id).first()
            if case.response_id
            else None
        ),
        "feedback": (
            FeedbackRecord.objects.visible_to(user).filter(pk=case.feedback_id).first()
            if case.feedback_id
            else None
        ),
        "customer": (
            Customer.objects.visible_to(user).filter(pk=case.customer_id).first()
            if case.customer_id
            else None
        ),
    }


def customer_history(user: Any, customer: Customer) -> dict[str, Any]:
    """A customer's latest responses, feedback and cases within the user's scope."""
    return {
        "responses": Response.objects.visible_to(user)
        .filter(customer=customer)
        .select_related("unit", "survey")
        .order_by("-submitted_at")[:50],
        "feedback": FeedbackRecord.objects.visible_to(user)
        .filter(customer=customer)
        .select_related("unit")
        .order_by("-occurred_at")[:50],
        "cases": Case.objects.visible_to(user)
        .filter(customer=customer)
        .select_related("unit")
        .order_by("-created_at")[:50],
    }
