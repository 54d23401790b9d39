"""Reads for rules: the facts a rule sees, the active rules, the validation context, and the dry run."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from manyi.org.models import OrgUnit

from .choices import AppliesTo, SourceKind
from .conditions import Facts, InvalidRule, RuleDefinition, StoredAnalysis, analysis_version, parse_definition
from .models import EvaluationCursor, Rule, RuleVersion

# --- units ----------------------------------------------------------------------------------------


class UnitIndex:
    """Codes and paths of every org unit, read once: the unit codes above a unit in a dict lookup."""

    def __init__(self) -> None:
        rows = list(OrgUnit.objects.values_list("id", "code", "path"))
        self.code = {pk: code for pk, code, _path in rows}
        self.path = {pk: path for pk, _code, path in rows}
        self._above: dict[int, frozenset[str]] = {}

    def codes_above(self, unit_id: int) -> frozenset[str]:
        """The unit's own code and the codes of all units above it."""
        got = self._above.get(unit_id)
        if got is None:
            ids = [int(p) for p in self.path.get(unit_id, "").strip("/").split("/") if p]
            got = frozenset(self.code[i] for i in ids if i in self.code)
            self._above[unit_id] = got
        return got


# --- facts ----------------------------------------------------------------------------------------

RESPONSE_FIELDS = ("id", "unit_id", "channel", "nps", "csat", "ces", "comment", "customer__tier")
FEEDBACK_FIELDS = (
    "id", "unit_id", "channel", "rating", "text", "category", "severity", "customer__tier", "response_id",
)  # fmt: skip


def _answer_value(number: float | None, text: str, choices: Any) -> Any:
    if number is not None:
        return number
    if choices is not None:
        return list(choices)
    return text


def load_facts(
    kind: str,
    ids: Sequence[int],
    *,
    units: UnitIndex,
    with_answers: bool = False,
    with_text: bool = False,
) -> dict[int, Facts | None]:
    """Facts for each id that exists; None for a feedback record that is a survey comment, since
    its response is the source rules see (so one answer never counts twice). ``with_text`` reads
    the stored enrichment of each text, for the text conditions (see ``stored_analyses``)."""
    out = _load_facts(kind, ids, units=units, with_answers=with_answers)
    if with_text:
        readings = stored_analyses(kind, [i for i, f in out.items() if f is not None and f.text])
        for source_id, reading in readings.items():
            facts = out.get(source_id)
            if facts is not None:
                facts._analysis = reading
    return out


def stored_analyses(kind: str, ids: Sequence[int]) -> dict[int, StoredAnalysis]:
    """The enrichment stored for each source's text by the current text models, keyed by source id:
    a response's comment is enriched as its survey-comment feedback record. Two queries per batch;
    a source without a current reading is left out (its text is analysed when a rule needs it)."""
    from manyi.enrichment.models import EnrichedAspect, TextEnrichment

    if not ids:
        return {}
    key = "feedback__response_id" if kind == SourceKind.RESPONSE else "feedback_id"
    rows = list(
        TextEnrichment.objects.filter(**{f"{key}__in": ids}, model_version=analysis_version()).values_list(
            "id", key, "sentiment", "sentiment_score", "flags"
        )
    )
    if not rows:
        return {}
    aspects: dict[int, list[tuple[str, str]]] = {}
    for eid, aspect, sentiment in EnrichedAspect.objects.filter(
        enrichment_id__in=[r[0] for r in rows]
    ).values_list("enrichment_id", "aspect", "sentiment"):
        aspects.setdefault(eid, []).append((aspect, sentiment))
    return {
        source_id: StoredAnalysis.of(label, score, flags or [], aspects.get(eid, []))
        for eid, source_id, label, score, flags in rows
    }


def _load_facts(
    kind: str, ids: Sequence[int], *, units: UnitIndex, with_answers: bool = False
) -> dict[int, Facts | None]:
    from manyi.feedback.models import FeedbackRecord
    from manyi.responses.models import Answer, Response

    out: dict[int, Facts | None] = {}
    if not ids:
        return out
    if kind == SourceKind.RESPONSE:
        answers: dict[int, dict[str, Any]] = {}
        if with_answers:
            for rid, code, number, text, choices in Answer.objects.filter(response_id__in=ids).values_list(
                "response_id", "question_code", "number", "text", "choices"
            ):
                answers.setdefault(rid, {})[code] = _answer_value(number, text, choices)
        for r in Response.objects.filter(pk__in=ids).values(*RESPONSE_FIELDS):
            out[r["id"]] = Facts(
                kind=kind,
                source_id=r["id"],
                unit_id=r["unit_id"],
                unit_codes=units.codes_above(r["unit_id"]),
                channel=r["channel"] or "",
                nps=r["nps"],
                csat=r["csat"],
                ces=r["ces"],
                text=r["comment"] or "",
                customer_tier=r["customer__tier"] or "",
                answers=answers.get(r["id"], {}),
            )
    else:
        for f in FeedbackRecord.objects.filter(pk__in=ids).values(*FEEDBACK_FIELDS):
            if f["response_id"] is not None:
                out[f["id"]] = None
                continue
            out[f["id"]] = Facts(
                kind=kind,
                source_id=f["id"],
                unit_id=f["unit_id"],
                unit_codes=units.codes_above(f["unit_id"]),
                channel=f["channel"] or "",
                rating=f["rating"],
                text=f["text"] or "",
                customer_tier=f["customer__tier"] or "",
                category=f["category"] or "",
                severity=f["severity"] or "",
            )
    return out


# --- rules ----------------------------------------------------------------------------------------


@dataclass
class ActiveRule:
    """A rule ready to evaluate: its current version parsed once."""

    rule: Rule
    version: RuleVersion
    definition: RuleDefinition
    unit_path: str

    def covers(self, facts: Facts, units: UnitIndex) -> bool:
        return units.path.get(facts.unit_id, "").startswith(self.unit_path)


_parsed: dict[int, tuple[Any, Any, RuleDefinition]] = {}


def parsed_version(version: RuleVersion) -> RuleDefinition:
    """A version's definition, parsed once per process. Versions never change, but an id can come
    back after a rolled-back transaction, so the cache is checked against the stored JSON."""
    got = _parsed.get(version.pk)
    if got is None or got[0] != version.condition or got[1] != version.actions:
        got = (version.condition, version.actions, parse_definition(version.condition, version.actions))
        _parsed[version.pk] = got
    return got[2]


def applies(kind: str, applies_to: str) -> bool:
    return applies_to == AppliesTo.BOTH or (
        applies_to == (AppliesTo.RESPONSES if kind == SourceKind.RESPONSE else AppliesTo.FEEDBACK)
    )


def active_rules(kind: str) -> list[ActiveRule]:
    """The active rules that look at this kind of source, in their order."""
    out = []
    for rule in (
        Rule.objects.filter(is_active=True, current_version__isnull=False)
        .select_related("current_version", "unit")
        .order_by("position", "id")
    ):
        if not applies(kind, rule.applies_to):
            continue
        assert rule.current_version is not None
        try:
            defn = parsed_version(rule.current_version)
        except InvalidRule:
            continue  # a version that no longer validates (a removed flag) is skipped, not fatal
        out.append(ActiveRule(rule, rule.current_version, defn, rule.unit.path))
    return out


def evaluated_through(kind: str) -> int:
    cursor = EvaluationCursor.objects.filter(kind=kind).only("evaluated_through").first()
    return cursor.evaluated_through if cursor else 0


def rule_by_ref(ref: str, qs: QuerySet[Rule] | None = None) -> Rule | None:
    """A rule by its id or its slug."""
    qs = qs if qs is not None else Rule.objects.all()
    if ref.isdigit():
        return qs.filter(pk=int(ref)).first()
    return qs.filter(slug=ref).first()


def validation_context() -> dict[str, Any]:
    """What a definition may name: unit codes, tiers, channels, question codes, SLA policies, users."""
    from django.contrib.auth import get_user_model

    from manyi.customers.models import Tier
    from manyi.feedback.choices import FeedbackChannel
    from manyi.responses.choices import Channel
    from manyi.surveys.choices import SurveyStatus, VersionStatus
    from manyi.surveys.models import Survey, SurveyVersion

    questions: set[str] = set()
    for qs in SurveyVersion.objects.values_list("definition", flat=True):
        for q in (qs or {}).get("questions") or []:
            code = q.get("code")
            if not code:
                continue
            questions.update((code, f"{code}.other"))
            for r in q.get("rows") or []:
                if r.get("code"):
                    questions.add(f"{code}.{r['code']}")
            if q.get("type") == "servqual":
                questions.update((f"{code}.expectation", f"{code}.perception"))
    try:
        from manyi.cases.models import SlaPolicy

        policies: set[int] | None = set(SlaPolicy.objects.filter(is_active=True).values_list("id", flat=True))
    except ImportError:  # pragma: no cover - the cases app without SLA policies
        policies = None
    return {
        "units": set(OrgUnit.objects.values_list("code", flat=True)),
        "tiers": set(Tier.values),
        "channels": set(Channel.values) | set(FeedbackChannel.values),
        "questions": questions,
        "sla_policies": policies,
        "users": set(get_user_model().objects.filter(is_active=True).values_list("username", flat=True)),
        "surveys": set(
            Survey.objects.filter(status=SurveyStatus.ACTIVE, versions__status=VersionStatus.PUBLISHED)
            .values_list("slug", flat=True)
            .distinct()
        ),
    }


# --- dry run --------------------------------------------------------------------------------------


@dataclass
class DryRunMatch:
    kind: str
    id: int
    unit: str
    when: datetime
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "id": self.id,
            "unit": self.unit,
            "at": self.when.isoformat(),
            "text": self.text,
        }


@dataclass
class DryRun:
    """Which past sources a definition would have matched; nothing is written."""

    since: datetime
    scanned: dict[str, int] = field(default_factory=lambda: {"response": 0, "feedback": 0})
    matched: dict[str, int] = field(default_factory=lambda: {"response": 0, "feedback": 0})
    sample: list[DryRunMatch] = field(default_factory=list)
    truncated: bool = False

    @property
    def count(self) -> int:
        return sum(self.matched.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "scanned": self.scanned,
            "matched": self.matched,
            "count": self.count,
            "truncated": self.truncated,
            "sample": [m.as_dict() for m in self.sample],
        }


def _chunks(ids: list[int], n: int = 1000) -> Iterator[list[int]]:
    for i in range(0, len(ids), n):
        yield ids[i : i + n]


def dry_run(
    *,
    definition: RuleDefinition,
    unit: OrgUnit,
    applies_to: str,
    since: datetime,
    user: Any = None,
    sample_size: int = 20,
    limit: int | None = None,
) -> DryRun:
    """Evaluate a definition on every response and feedback record since ``since`` in ``unit``'s
    subtree (and, with ``user``, only what they may read). Newest matches come first in the sample.
    ``limit`` caps how many sources of each kind are scanned (the newest); ``truncated`` says so."""
    from manyi.feedback.models import FeedbackRecord
    from manyi.responses.models import Response

    result = DryRun(since=since)
    units = UnitIndex()
    kinds: Iterable[tuple[str, Any, str]] = (
        (SourceKind.RESPONSE, Response, "submitted_at"),
        (SourceKind.FEEDBACK, FeedbackRecord, "occurred_at"),
    )
    for kind, model, when_field in kinds:
        if not applies(kind, applies_to):
            continue
        qs = model.objects.visible_to(user) if user is not None else model.objects.all()
        qs = qs.filter(**{f"{when_field}__gte": since, "unit__path__startswith": unit.path})
        if kind == SourceKind.FEEDBACK:
            qs = qs.filter(response__isnull=True)
        ids = list(
            qs.order_by(f"-{when_field}", "-id").values_list("id", flat=True)[
                : (limit + 1) if limit else None
            ]
        )
        if limit and len(ids) > limit:
            ids, result.truncated = ids[:limit], True
        for part in _chunks(ids):
            facts = load_facts(
                kind,
                part,
                units=units,
                with_answers=definition.needs_answers(),
                with_text=definition.needs_text_analysis(),
            )
            hits = [i for i in part if (f := facts.get(i)) is not None and definition.matches(f)]
            result.scanned[kind] += len(part)
            result.matched[kind] += len(hits)
            room = sample_size - len([m for m in result.sample if m.kind == kind])
            if room > 0 and hits:
                text_field = "comment" if kind == SourceKind.RESPONSE else "text"
                rows = model.objects.filter(pk__in=hits[:room]).values(
                    "id", "unit_id", when_field, text_field
                )
                for row in sorted(rows, key=lambda r: (r[when_field], r["id"]), reverse=True):
                    result.sample.append(
                        DryRunMatch(
                            kind,
                            row["id"],
                            units.code.get(row["unit_id"], ""),
                            row[when_field],
                            (row[text_field] or "")[:200],
                        )
                    )
    result.sample.sort(key=lambda m: m.when, reverse=True)
    return result


# --- who may edit ---------------------------------------------------------------------------------

EDIT_ROLES = ("admin", "cx_manager")


def editable_units(user: Any) -> QuerySet[OrgUnit]:
    """Units whose rules ``user`` may write: the subtrees where they are an administrator or CX manager."""
    from django.db.models import Q

    from manyi.org.models import RoleAssignment

    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return OrgUnit.objects.none()
    if getattr(user, "is_superuser", False):
        return OrgUnit.objects.filter(is_active=True)
    paths = set(
        RoleAssignment.objects.filter(user=user, role__in=EDIT_ROLES, unit__is_active=True).values_list(
            "unit__path", flat=True
        )
    )
    if not paths:
        return OrgUnit.objects.none()
    cond = Q()
    for p in paths:
        cond |= Q(path__startswith=p)
    return OrgUnit.objects.filter(cond, is_active=True)


def can_edit(user: Any, rule: Rule) -> bool:
    return editable_units(user).filter(pk=rule.unit_id).exists()
