"""Writes for rules: saving rules as new versions, and evaluating sources against them.

Evaluation is idempotent at three levels: a source gets one ``Evaluation`` marker (unique), a rule
matches a source once (``RuleMatch`` unique on rule and source), and a source opens at most one
case (the case's one-to-one link to its response or feedback record). A batch is evaluated in one
transaction, so a worker killed half-way leaves nothing behind and the next run does it again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from manyi.org.models import OrgUnit, RoleAssignment

from .choices import AppliesTo, EvaluationOutcome, ResurveySkip, ResurveyStatus, SourceKind
from .conditions import (
    Facts,
    InvalidRule,
    NotifyAction,
    OpenCaseAction,
    Problem,
    ResurveyAction,
    TagAction,
    definition_json,
    parse_definition,
)
from .models import Evaluation, EvaluationCursor, ResurveyEntry, Rule, RuleMatch, RuleVersion, Tag, Tagging
from .queries import ActiveRule, UnitIndex, active_rules, load_facts, validation_context

log = logging.getLogger(__name__)

# Sources evaluated per transaction: large enough to amortise the queries, small enough that the
# write lock (SQLite) is held for well under a second.
BATCH = 250

# --- saving rules ---------------------------------------------------------------------------------


def check_rule_definition(condition: Any, actions: Any) -> tuple[Any, Any]:
    """Validate against what the organisation knows; return the JSON to store or raise InvalidRule."""
    defn = parse_definition(condition, actions, context=validation_context())
    return definition_json(defn)


@transaction.atomic
def do_save_rule(
    *,
    condition: Any,
    actions: Any,
    unit: OrgUnit,
    name: str,
    slug: str = "",
    rule: Rule | None = None,
    description: str = "",
    applies_to: str = AppliesTo.BOTH,
    is_active: bool = True,
    position: int = 100,
    note: str = "",
    user: Any = None,
    now: datetime | None = None,
) -> Rule:
    """Create a rule, or save a new version of ``rule``; an invalid definition writes nothing.

    A version is written only when the condition or actions changed; name, unit, order and the
    active switch are properties of the rule and change in place.
    """
    now = now or timezone.now()
    problems: list[Problem] = []
    name = name.strip()
    if not name:
        problems.append(Problem("name", _("is required")))
    elif len(name) > 200:
        problems.append(Problem("name", _("must have at most 200 characters")))
    if applies_to not in AppliesTo.values:
        problems.append(Problem("applies_to", _("must be one of {v}").format(v=", ".join(AppliesTo.values))))
    slug = (slug or "").strip()
    if rule is None:
        # A name in Chinese has no Latin letters to make a slug of: number it instead.
        slug = slug or slugify(name)[:64] or (_numbered_slug() if name else "")
        if not slug:
            problems.append(Problem("slug", _("is required (letters, digits, - and _)")))
        elif slug != slugify(slug) or len(slug) > 64:
            problems.append(Problem("slug", _("use lower-case letters, digits, - and _ only")))
        elif Rule.objects.filter(slug=slug).exists():
            problems.append(Problem("slug", _("another rule is called {slug}").format(slug=slug)))
    lists: list[tuple[str, Any]] = []
    try:
        cond_json, actions_json = check_rule_definition(condition, actions)
    except InvalidRule as exc:
        problems.extend(exc.problems)
    else:
        lists, list_problems = _resurvey_lists(actions_json)
        problems.extend(list_problems)
    if problems:
        raise InvalidRule(problems)
    from manyi.distribution.actions import do_ensure_resurvey_rule

    for list_name, survey in lists:
        do_ensure_resurvey_rule(list_name=list_name, survey=survey)
    owner = user if getattr(user, "pk", None) else None
    if rule is None:
        rule = Rule.objects.create(
            slug=slug,
            name=name,
            description=description,
            unit=unit,
            applies_to=applies_to,
            is_active=is_active,
            position=position,
            created_by=owner,
            created_at=now,
            updated_at=now,
        )
    else:
        rule = Rule.objects.select_for_update().get(pk=rule.pk)
        rule.name, rule.description, rule.unit = name, description, unit
        rule.applies_to, rule.is_active, rule.position, rule.updated_at = applies_to, is_active, position, now
        rule.save(
            update_fields=["name", "description", "unit", "applies_to", "is_active", "position", "updated_at"]
        )
    current = rule.current_version
    if current is None or current.condition != cond_json or current.actions != actions_json:
        number = (rule.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = RuleVersion.objects.create(
            rule=rule,
            number=number,
            condition=cond_json,
            actions=actions_json,
            note=note[:200],
            created_by=owner,
            created_at=now,
        )
        rule.current_version = version
        rule.save(update_fields=["current_version"])
    return rule


def _numbered_slug() -> str:
    n = Rule.objects.count() + 1
    while Rule.objects.filter(slug=f"rule-{n}").exists():
        n += 1
    return f"rule-{n}"


def _resurvey_lists(actions_json: list[dict[str, Any]]) -> tuple[list[tuple[str, Any]], list[Problem]]:
    """The (list, survey) pairs the resurvey actions name, and the lists another survey owns."""
    from manyi.distribution.actions import resurvey_rule_conflict
    from manyi.surveys.models import Survey

    pairs: list[tuple[str, Any]] = []
    problems: list[Problem] = []
    for i, a in enumerate(actions_json):
        if a.get("type") != "resurvey" or not a.get("survey"):
            continue
        survey = Survey.objects.get(slug=a["survey"])
        conflict = resurvey_rule_conflict(a["list"], survey)
        if conflict:
            problems.append(Problem(f"actions[{i}].survey", conflict))
        else:
            pairs.append((a["list"], survey))
    return pairs, problems


# --- evaluation -----------------------------------------------------------------------------------


@dataclass
class EvaluationReport:
    """What one evaluation call did."""

    evaluated: int = 0
    skipped: int = 0  # already evaluated, or gone
    matches: int = 0
    cases_opened: int = 0
    notified: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: EvaluationReport) -> None:
        self.evaluated += other.evaluated
        self.skipped += other.skipped
        self.matches += other.matches
        self.cases_opened += other.cases_opened
        self.notified += other.notified
        self.failed += other.failed
        self.errors.extend(other.errors)

    def as_dict(self) -> dict[str, Any]:
        return {
            "evaluated": self.evaluated,
            "skipped": self.skipped,
            "matches": self.matches,
            "cases_opened": self.cases_opened,
            "notified": self.notified,
            "failed": self.failed,
        }


def do_evaluate(
    kind: str,
    ids: Iterable[int],
    *,
    rules: list[ActiveRule] | None = None,
    now: datetime | None = None,
) -> EvaluationReport:
    """Run every active rule on these sources, once each; safe to call again and concurrently."""
    kind = SourceKind(kind)
    todo = sorted({int(i) for i in ids})
    report = EvaluationReport()
    # Already evaluated (by a greedy neighbour or the catch-up): two small reads, no rules loaded.
    through = (
        EvaluationCursor.objects.filter(kind=kind).values_list("evaluated_through", flat=True).first() or 0
    )
    done = set(Evaluation.objects.filter(kind=kind, source_id__in=todo).values_list("source_id", flat=True))
    report.skipped = sum(1 for i in todo if i <= through or i in done)
    todo = [i for i in todo if i > through and i not in done]
    if not todo:
        return report
    rules = active_rules(kind) if rules is None else rules
    units = UnitIndex()
    for start in range(0, len(todo), BATCH):
        report.add(_evaluate_batch(kind, todo[start : start + BATCH], rules, units, now))
    return report


def _evaluate_batch(
    kind: str, ids: list[int], rules: list[ActiveRule], units: UnitIndex, now: datetime | None
) -> EvaluationReport:
    for _attempt in range(3):
        try:
            return _evaluate_in_transaction(kind, ids, rules, units, now)
        except OperationalError:
            raise  # the database is busy or gone: the task fails and the catch-up runs it again
        except IntegrityError:
            # Another worker evaluated some of these at the same moment; its markers are
            # committed now, so the next attempt skips them.
            continue
        except Exception:
            break
    # Something in the batch fails: evaluate one source at a time so the others go through and
    # the failing one is marked with its error instead of blocking the queue.
    report = EvaluationReport()
    for source_id in ids:
        try:
            report.add(_evaluate_in_transaction(kind, [source_id], rules, units, now))
        except IntegrityError:
            report.skipped += 1
        except OperationalError:
            raise
        except Exception as exc:
            log.exception("rule evaluation of %s %s failed", kind, source_id)
            Evaluation.objects.get_or_create(
                kind=kind,
                source_id=source_id,
                defaults={
                    "evaluated_at": timezone.now(),
                    "outcome": EvaluationOutcome.FAILED,
                    "error": f"{type(exc).__name__}: {exc}"[:2000],
                },
            )
            report.failed += 1
            report.errors.append(f"{kind} {source_id}: {type(exc).__name__}: {exc}")
    return report


def _evaluate_in_transaction(
    kind: str, ids: list[int], rules: list[ActiveRule], units: UnitIndex, now: datetime | None
) -> EvaluationReport:
    report = EvaluationReport()
    now = now or timezone.now()
    with transaction.atomic():
        through = (
            EvaluationCursor.objects.filter(kind=kind).values_list("evaluated_through", flat=True).first()
            or 0
        )
        done = set(
            Evaluation.objects.filter(kind=kind, source_id__in=ids).values_list("source_id", flat=True)
        )
        todo = [i for i in ids if i > through and i not in done]
        report.skipped = len(ids) - len(todo)
        if not todo:
            return report
        facts = load_facts(
            kind,
            todo,
            units=units,
            with_answers=any(r.definition.needs_answers() for r in rules),
            with_text=any(r.definition.needs_text_analysis() for r in rules),
        )
        present = [i for i in todo if i in facts]
        report.skipped += len(todo) - len(present)
        # The markers go in first: on PostgreSQL a concurrent evaluation of the same source waits
        # here and then fails on the unique index, so only one of them runs the actions.
        Evaluation.objects.bulk_create(
            [Evaluation(kind=kind, source_id=i, evaluated_at=now) for i in present]
        )
        report.evaluated = len(present)
        hits: list[tuple[ActiveRule, Facts]] = []
        for i in present:
            f = facts[i]
            if f is None:
                continue
            for r in rules:
                if r.covers(f, units) and r.definition.matches(f):
                    hits.append((r, f))
        if hits:
            matched_before = set(
                RuleMatch.objects.filter(
                    kind=kind, source_id__in={f.source_id for _r, f in hits}
                ).values_list("rule_id", "source_id")
            )
            todo_hits = [(r, f) for r, f in hits if (r.rule.pk, f.source_id) not in matched_before]
            batch = _Batch(sources=_load_sources(kind, (f.source_id for _r, f in todo_hits)))
            for r, f in todo_hits:
                _apply(r, f, now, report, batch)
    return report


@dataclass
class _Batch:
    """What the matches of one batch share: their sources loaded at once, tags and recipients."""

    sources: dict[int, Any]
    tags: dict[str, Tag] = field(default_factory=dict)
    recipients: dict[tuple[int, tuple[str, ...], tuple[str, ...]], list[Any]] = field(default_factory=dict)
    hooks: dict[int, list[Any]] = field(default_factory=dict)

    def tag(self, slug: str) -> Tag:
        if slug not in self.tags:
            self.tags[slug] = Tag.objects.get_or_create(slug=slug)[0]
        return self.tags[slug]

    def endpoints(self, unit: OrgUnit) -> list[Any]:
        """The webhook and chat-bot endpoints that take ``rule.matched`` for ``unit``, read once."""
        if unit.pk not in self.hooks:
            from manyi.notifications.queries import matching_endpoints

            self.hooks[unit.pk] = matching_endpoints(unit, "rule.matched")
        return self.hooks[unit.pk]

    def people(self, unit: OrgUnit, action: NotifyAction) -> list[Any]:
        key = (unit.pk, tuple(action.roles), tuple(action.users))
        if key not in self.recipients:
            self.recipients[key] = recipients_for(unit, action)
        return self.recipients[key]


def _load_sources(kind: str, ids: Iterable[int]) -> dict[int, Any]:
    from manyi.feedback.models import FeedbackRecord
    from manyi.responses.models import Response

    model: Any = Response if kind == SourceKind.RESPONSE else FeedbackRecord
    return model.objects.select_related("unit", "customer").in_bulk(sorted(set(ids)))


def _apply(r: ActiveRule, f: Facts, now: datetime, report: EvaluationReport, batch: _Batch) -> None:
    """Run the rule's actions and record the match, inside the caller's transaction."""
    report.matches += 1
    source = batch.sources[f.source_id]
    unit = source.unit
    outcome: dict[str, Any] = {}
    case = None
    for action in r.definition.actions:
        if isinstance(action, OpenCaseAction):
            case, created = _open_case(r, f, source, action, now)
            outcome["case"] = case.pk if case is not None else None
            outcome["case_created"] = created
            report.cases_opened += int(created)
    for action in r.definition.actions:
        if isinstance(action, NotifyAction):
            people = batch.people(unit, action)
            if outcome.get("case_created") and case is not None and case.assignee_id is not None:
                # The case has just told its assignee (case.assigned); one e-mail per event is enough.
                people = [p for p in people if p.pk != case.assignee_id]
            sent = _notify(r, f, source, unit, action, case, people, batch.endpoints(unit))
            outcome["notified"] = outcome.get("notified", 0) + sent
            report.notified += sent
        elif isinstance(action, TagAction):
            outcome["tags"] = sorted({*outcome.get("tags", []), *action.tags})
        elif isinstance(action, ResurveyAction):
            outcome["resurvey"] = action.list
    match = RuleMatch.objects.create(
        rule=r.rule,
        version=r.version,
        kind=f.kind,
        source_id=f.source_id,
        unit_id=f.unit_id,
        matched_at=now,
        outcome=outcome,
    )
    if outcome.get("tags"):
        Tagging.objects.bulk_create(
            [
                Tagging(
                    tag=batch.tag(t),
                    kind=f.kind,
                    source_id=f.source_id,
                    unit_id=f.unit_id,
                    match=match,
                    created_at=now,
                )
                for t in outcome["tags"]
            ],
            ignore_conflicts=True,
        )
    if "resurvey" in outcome:
        ResurveyEntry.objects.bulk_create(
            [
                ResurveyEntry(
                    list_name=outcome["resurvey"],
                    kind=f.kind,
                    source_id=f.source_id,
                    unit_id=f.unit_id,
                    customer_id=source.customer_id,
                    match=match,
                    created_at=now,
                )
            ],
            ignore_conflicts=True,
        )


def _title(r: ActiveRule, f: Facts, action: OpenCaseAction) -> str:
    if action.title:
        return action.title[:200]
    if f.kind == SourceKind.RESPONSE:
        score = f" (NPS {f.nps:g})" if f.nps is not None else ""
        head = _("Response {id}{score}").format(id=f.source_id, score=score)
    else:
        head = _("Feedback {id}").format(id=f.source_id)
    return f"{r.rule.name}: {head}"[:200]


def _open_case(
    r: ActiveRule, f: Facts, source: Any, action: OpenCaseAction, now: datetime
) -> tuple[Any, bool]:
    from manyi.cases.actions import open_case

    policy = None
    if action.sla_policy is not None:
        from manyi.cases.models import SlaPolicy

        policy = SlaPolicy.objects.filter(pk=action.sla_policy, is_active=True).first()
    with translation.override(source.unit.locale or None):
        title = _title(r, f, action)
    is_response = f.kind == SourceKind.RESPONSE
    case, created = open_case(
        unit=source.unit,
        title=title,
        response=source if is_response else None,
        feedback=None if is_response else source,
        customer=source.customer,
        priority=action.priority,
        sla_policy=policy,
        opened_by_rule=r.version,
        now=now,
    )
    return case, created


def recipients_for(unit: OrgUnit, action: NotifyAction) -> list[Any]:
    """Holders of each role at the unit or, when nobody holds it there, at the nearest unit above;
    plus the named users. Each person once, active staff only."""
    people: dict[int, Any] = {}
    if action.roles:
        path_ids = [int(p) for p in unit.path.strip("/").split("/") if p]
        held: dict[tuple[str, int], list[Any]] = {}
        for ra in RoleAssignment.objects.filter(
            unit_id__in=path_ids, role__in=action.roles, user__is_active=True
        ).select_related("user"):
            held.setdefault((ra.role, ra.unit_id), []).append(ra.user)
        for role in action.roles:
            for uid in reversed(path_ids):
                if (role, uid) in held:
                    for u in held[(role, uid)]:
                        people[u.pk] = u
                    break
    if action.users:
        for u in get_user_model().objects.filter(username__in=action.users, is_active=True):
            people[u.pk] = u
    return list(people.values())


def _notify(
    r: ActiveRule,
    f: Facts,
    source: Any,
    unit: OrgUnit,
    action: NotifyAction,
    case: Any,
    recipients: list[Any],
    endpoints: list[Any] | None = None,
) -> int:
    from django.conf import settings

    from manyi.notifications.actions import notify

    if not recipients:
        return 0
    with translation.override(unit.locale or None):
        unit_name = unit.display_name(translation.get_language() or "zh-hans")
        what = (
            _("a survey response")
            if f.kind == SourceKind.RESPONSE
            else _("a {channel} feedback record").format(channel=f.channel)
        )
        subject = _("Rule {rule}: {what} at {unit}").format(rule=r.rule.name, what=what, unit=unit_name)
        lines = [subject]
        if f.nps is not None:
            lines.append(_("NPS: {n}").format(n=f"{f.nps:g}"))
        if f.rating is not None:
            lines.append(_("Rating: {n}").format(n=f"{f.rating:g}"))
        if f.text:
            lines.append(_("Comment: {text}").format(text=f.text[:500]))
        if case is not None:
            lines.append(
                _("Case {id}: {url}").format(id=case.pk, url=f"{settings.MANYI_BASE_URL}/cases/{case.pk}/")
            )
        body = "\n".join(lines)
    context = {
        "rule": {"id": r.rule.pk, "slug": r.rule.slug, "version": r.version.number},
        "source": {"type": f.kind, "id": f.source_id},
        "unit": unit.code,
        "case": case.pk if case is not None else None,
        "nps": f.nps,
        "rating": f.rating,
        "text": f.text[:500],
    }
    notify(
        "rule.matched",
        recipients=recipients,
        subject=subject,
        body=body,
        context=context,
        unit=unit,
        case=case,
        endpoints=endpoints,
    )
    return len(recipients)


# --- catch-up -------------------------------------------------------------------------------------


@dataclass
class CatchUpReport(EvaluationReport):
    evaluated_through: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "evaluated_through": self.evaluated_through}


def _source_model(kind: str) -> Any:
    from manyi.feedback.models import FeedbackRecord
    from manyi.responses.models import Response

    return Response if kind == SourceKind.RESPONSE else FeedbackRecord


def do_catch_up(*, limit: int = 5000, now: datetime | None = None) -> CatchUpReport:
    """Evaluate every source no evaluation has seen yet (after a crash, an import, a lost task),
    up to ``limit`` per kind, and move each kind's cursor past what is done."""
    report = CatchUpReport()
    for kind in SourceKind.values:
        report.add(_catch_up_kind(kind, limit, now, report))
    return report


def _catch_up_kind(kind: str, limit: int, now: datetime | None, report: CatchUpReport) -> EvaluationReport:
    model = _source_model(kind)
    cursor, _new = EvaluationCursor.objects.get_or_create(kind=kind, defaults={"updated_at": timezone.now()})
    start = cursor.evaluated_through
    newest = model.objects.aggregate(m=Max("id"))["m"] or 0
    rules = active_rules(kind)
    sub = EvaluationReport()
    if rules:
        pending = _pending(kind, model, start, limit)
        sub = do_evaluate(kind, pending, rules=rules, now=now)
        first_open = _pending(kind, model, start, 1)
        reach = first_open[0] - 1 if first_open else newest
    else:
        reach = newest  # nothing to evaluate against: what came in while no rule was active is done
    # Never past what the previous run saw: an id taken by a transaction still open then is
    # committed by now, and is found by this run if it is still unevaluated.
    through = max(start, min(reach, cursor.seen_through))
    EvaluationCursor.objects.filter(kind=kind).update(
        evaluated_through=through, seen_through=max(newest, cursor.seen_through), updated_at=timezone.now()
    )
    # Markers at or below the cursor are no longer needed: the cursor says the same.
    Evaluation.objects.filter(kind=kind, source_id__lte=through, outcome=EvaluationOutcome.DONE).delete()
    report.evaluated_through[kind] = through
    return sub


def _pending(kind: str, model: Any, after: int, limit: int) -> list[int]:
    from django.db.models import Exists, OuterRef

    qs = model.objects.filter(pk__gt=after)
    if kind == SourceKind.FEEDBACK:
        qs = qs.filter(response__isnull=True)
    marked = Evaluation.objects.filter(kind=kind, source_id=OuterRef("pk"))
    return list(qs.filter(~Exists(marked)).order_by("pk").values_list("pk", flat=True)[:limit])


def do_evaluate_with_neighbours(
    kind: str, ids: Sequence[int], *, neighbours: int = BATCH
) -> EvaluationReport:
    """Evaluate ``ids`` and, when that was real work, up to ``neighbours`` other sources still waiting.

    Under load the queue holds one task per new answer; the first task that runs takes the ones
    behind it into the same batch (one transaction, rules and units read once), and their own tasks
    then find them done with two small reads.
    """
    report = do_evaluate(kind, ids)
    if report.evaluated and neighbours > 0:
        model = _source_model(kind)
        after = (
            EvaluationCursor.objects.filter(kind=kind).values_list("evaluated_through", flat=True).first()
            or 0
        )
        report.add(do_evaluate(kind, _pending(kind, model, after, neighbours)))
    return report


def enqueue_evaluation(kind: str, source_id: int) -> None:
    """After the current transaction commits, have the new source evaluated within about a second.

    Debounced per process (``core.queueing.enqueue_soon``): a burst of submissions enqueues one
    catch-up run, not one task row per response, which kept the survey page's cost on PostgreSQL
    from doubling. The catch-up evaluates everything not yet evaluated, this source included.
    """
    from manyi.core.queueing import enqueue_soon

    from .tasks import catch_up_rules

    transaction.on_commit(lambda: enqueue_soon(catch_up_rules))


def evaluate_now(kind: str, ids: Sequence[int]) -> EvaluationReport:
    """Evaluate in this process (the CLI, tests); the same code the background task runs."""
    return do_evaluate(kind, ids)


# --- re-survey lists ------------------------------------------------------------------------------

# An entry not sent within this long after it was added is skipped: asking "how do you feel now?"
# months after the answer it follows up on would puzzle the customer.
RESURVEY_EXPIRES = timedelta(days=30)


@dataclass
class ResurveyReport:
    """What one pass over the pending re-survey entries did."""

    invited: int = 0
    skipped: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


def do_send_resurveys(*, now: datetime | None = None, limit: int = 500) -> ResurveyReport:
    """Hand each waiting re-survey entry to the distribution, which decides (opt-out, consent,
    channel, quiet hours, fatigue, cadence, quota) and logs why; the entry records the outcome:
    invited (with its invitation, sent later by the invitation scanner) or skipped with the reason.

    Idempotent and safe to run concurrently: an entry's event is keyed by the entry, so a repeat
    returns the first decision instead of inviting twice, and only a waiting entry is updated.
    """
    now = now or timezone.now()
    report = ResurveyReport()
    entries = list(
        ResurveyEntry.objects.filter(status=ResurveyStatus.PENDING)
        .select_related("customer", "unit")
        .order_by("pk")[:limit]
    )
    for entry in entries:
        try:
            status = _send_entry(entry, now)
        except Exception:  # one bad entry never stops the others; it stays waiting for the next pass
            log.exception("rules: re-survey entry %s could not be decided", entry.pk)
            report.failed += 1
            continue
        if status == ResurveyStatus.INVITED:
            report.invited += 1
        elif status == ResurveyStatus.SKIPPED:
            report.skipped += 1
    return report


def _send_entry(entry: ResurveyEntry, now: datetime) -> str:
    from manyi.distribution.actions import do_record_resurvey
    from manyi.distribution.choices import Outcome

    def finish(status: str, reason: str, **links: Any) -> str:
        ResurveyEntry.objects.filter(pk=entry.pk, status=ResurveyStatus.PENDING).update(
            status=status, reason=reason, decided_at=now, **links
        )
        return status

    if entry.customer is None:
        return finish(ResurveyStatus.SKIPPED, ResurveySkip.NO_CUSTOMER)
    if now - entry.created_at > RESURVEY_EXPIRES:
        return finish(ResurveyStatus.SKIPPED, ResurveySkip.EXPIRED)
    result = do_record_resurvey(
        list_name=entry.list_name,
        key=f"{entry.kind}:{entry.source_id}",
        customer=entry.customer,
        unit=entry.unit,
        added_at=entry.created_at,
        follows=entry.source_id if entry.kind == SourceKind.RESPONSE else None,
        attributes={"kind": entry.kind, "source_id": entry.source_id, "rule_match": entry.match_id},
        now=now,
    )
    decisions = result.decisions
    if not decisions:
        return finish(ResurveyStatus.SKIPPED, ResurveySkip.NO_PROGRAM, event=result.event)
    chosen = next((d for d in decisions if d.outcome == Outcome.SCHEDULED), decisions[0])
    if chosen.outcome == Outcome.SCHEDULED:
        return finish(
            ResurveyStatus.INVITED,
            chosen.reason,
            event=result.event,
            decision=chosen,
            invitation_id=chosen.invitation_id,
        )
    return finish(ResurveyStatus.SKIPPED, chosen.reason, event=result.event, decision=chosen)
