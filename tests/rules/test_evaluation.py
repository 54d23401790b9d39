"""Evaluating rules: after commit, once per source, one case per source, and nothing lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from manyi.cases.models import Case
from manyi.feedback.actions import do_record_survey_comment
from manyi.integrations.actions import do_record_feedback
from manyi.notifications.models import Notification
from manyi.rules import actions as rule_actions
from manyi.rules.actions import do_catch_up, do_evaluate, do_save_rule
from manyi.rules.conditions import InvalidRule
from manyi.rules.models import (
    Evaluation,
    EvaluationCursor,
    ResurveyEntry,
    Rule,
    RuleMatch,
    RuleVersion,
    Tagging,
)
from manyi.rules.queries import dry_run, parsed_version
from tests.conftest import csi_answers

from .conftest import DETRACTOR, OPEN_CASE, make_rule, submit


def cases_of(response) -> int:
    return Case.objects.filter(response=response).count()


@pytest.mark.django_db
def test_a_detractor_opens_one_case_however_often_it_is_evaluated(org):
    make_rule(org.company)
    r = submit(org.link_a, nps=3, comment="排队太久")
    first = do_evaluate("response", [r.pk])
    again = do_evaluate("response", [r.pk, r.pk])
    assert (first.evaluated, first.matches, first.cases_opened) == (1, 1, 1)
    assert (again.evaluated, again.matches, again.skipped) == (0, 0, 1)
    case = Case.objects.get(response=r)
    assert (case.priority, case.unit, case.rule_version_id) == (
        "high",
        org.store_a,
        Rule.objects.get().current_version_id,
    )
    assert RuleMatch.objects.get().outcome == {"case": case.pk, "case_created": True}


@pytest.mark.django_db
def test_a_promoter_matches_nothing_and_is_still_marked_evaluated(org):
    make_rule(org.company)
    r = submit(org.link_a, nps=10)
    report = do_evaluate("response", [r.pk])
    assert (report.evaluated, report.matches) == (1, 0)
    assert Evaluation.objects.filter(kind="response", source_id=r.pk).exists()
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_two_rules_matching_one_response_open_one_case_and_record_both_matches(org):
    make_rule(org.company, slug="detractors")
    make_rule(org.company, {"field": "text.flags", "value": ["anger"]}, slug="angry", position=200)
    r = submit(org.link_a, nps=1, comment="气死我了，太过分")
    report = do_evaluate("response", [r.pk])
    assert (report.matches, report.cases_opened) == (2, 1)
    case = Case.objects.get()
    assert {m.rule.slug: m.outcome["case_created"] for m in RuleMatch.objects.select_related("rule")} == {
        "detractors": True,
        "angry": False,
    }
    assert all(m.outcome["case"] == case.pk for m in RuleMatch.objects.all())


@pytest.mark.django_db
def test_the_survey_comment_record_is_not_a_second_source(org):
    make_rule(org.company)
    r = submit(org.link_a, nps=2, comment="服务差")
    record = do_record_survey_comment(response_id=r.pk)
    report = do_evaluate("feedback", [record.pk])
    assert (report.evaluated, report.matches) == (1, 0)
    do_evaluate("response", [r.pk])
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_a_high_severity_complaint_opens_a_case_for_its_feedback_record(org):
    make_rule(
        org.company,
        {
            "all": [
                {"field": "severity", "op": ">=", "value": "high"},
                {"field": "category", "value": ["food_safety"]},
            ]
        },
        [{"type": "open_case", "priority": "urgent"}],
        slug="food-safety",
        applies_to="feedback",
    )
    now = timezone.now()
    bad = do_record_feedback(
        unit=org.store_b,
        channel="phone",
        occurred_at=now,
        text="吃完拉肚子",
        category="food_safety",
        severity="critical",
    )
    mild = do_record_feedback(
        unit=org.store_b,
        channel="phone",
        occurred_at=now,
        text="有点咸",
        category="food_safety",
        severity="low",
    )
    do_evaluate("feedback", [bad.pk, mild.pk])
    case = Case.objects.get()
    assert (case.feedback_id, case.priority, case.unit) == (bad.pk, "urgent", org.store_b)


@pytest.mark.django_db
def test_a_rule_sees_only_its_units_subtree(org):
    make_rule(org.store_c)
    a = submit(org.link_a, nps=0)
    c = submit(org.link_c, nps=0)
    do_evaluate("response", [a.pk, c.pk])
    assert [x.response_id for x in Case.objects.all()] == [c.pk]


@pytest.mark.django_db
def test_an_inactive_rule_does_nothing(org):
    make_rule(org.company, is_active=False)
    r = submit(org.link_a, nps=0)
    assert do_evaluate("response", [r.pk]).matches == 0


@pytest.mark.django_db
def test_editing_a_rule_writes_a_new_version_and_matches_record_the_version_that_matched(org):
    rule = make_rule(org.company, {"field": "nps", "op": "<=", "value": 3})
    v1 = rule.current_version
    rule = do_save_rule(
        condition={"field": "nps", "op": "<=", "value": 6},
        actions=[{"type": "open_case"}],
        unit=org.company,
        name="Detractors",
        rule=rule,
    )
    same = do_save_rule(
        condition={"field": "nps", "op": "<=", "value": 6},
        actions=[{"type": "open_case"}],
        unit=org.company,
        name="Renamed",
        rule=rule,
    )
    assert [v.number for v in RuleVersion.objects.filter(rule=rule).order_by("number")] == [1, 2]
    assert same.name == "Renamed" and same.current_version.number == 2
    r = submit(org.link_a, nps=5)
    do_evaluate("response", [r.pk])
    assert RuleMatch.objects.get().version.number == 2
    assert RuleVersion.objects.get(pk=v1.pk).condition["value"] == 3  # the old version is kept as it was
    with pytest.raises(ValueError, match="immutable"):
        v1.save()


@pytest.mark.django_db
def test_a_rule_with_an_invalid_condition_is_refused_with_the_exact_problem_and_nothing_is_written(org):
    with pytest.raises(InvalidRule) as exc:
        make_rule(
            org.company,
            {"all": [{"field": "nps", "op": "<=", "value": 6}, {"field": "unit", "value": ["nowhere"]}]},
        )
    assert [str(p) for p in exc.value.problems] == [
        "condition.all[1].value: no org unit has the code nowhere"
    ]
    assert not Rule.objects.exists() and not RuleVersion.objects.exists()


@pytest.mark.django_db
def test_a_slug_taken_and_an_unknown_user_are_refused_together(org):
    make_rule(org.company)
    with pytest.raises(InvalidRule) as exc:
        make_rule(org.company, actions=[{"type": "notify", "users": ["nobody"]}])
    assert [str(p) for p in exc.value.problems] == [
        "slug: another rule is called detractors",
        "actions[0].users: no active staff member is named nobody",
    ]


@pytest.mark.django_db
def test_notify_reaches_the_unit_manager_and_tags_and_the_resurvey_list_are_recorded(org):
    make_rule(
        org.company,
        DETRACTOR,
        [
            {"type": "open_case"},
            {"type": "notify", "roles": ["unit_manager"], "users": ["admin1"]},
            {"type": "tag", "tags": ["detractor", "callback"]},
            {"type": "resurvey", "list": "after-callback"},
        ],
    )
    r = submit(org.link_a, nps=2, comment="太慢了")
    report = do_evaluate("response", [r.pk])
    # The manager is the new case's assignee and hears of it from the case; the rule tells the admin.
    assert report.notified == 1
    by_event = {(n.event.type, n.recipient_id) for n in Notification.objects.select_related("event")}
    assert ("rule.matched", org.admin.pk) in by_event
    assert ("rule.matched", org.manager_a.pk) not in by_event
    assert ("case.assigned", org.manager_a.pk) in by_event
    assert sorted(t.tag.slug for t in Tagging.objects.select_related("tag")) == ["callback", "detractor"]
    entry = ResurveyEntry.objects.get()
    assert (entry.list_name, entry.source_id, entry.unit) == ("after-callback", r.pk, org.store_a)


@pytest.mark.django_db
def test_without_a_case_the_rule_notifies_the_unit_manager_itself(org):
    make_rule(org.company, DETRACTOR, [{"type": "notify", "roles": ["unit_manager"]}])
    r = submit(org.link_a, nps=2)
    assert do_evaluate("response", [r.pk]).notified == 1
    assert {n.recipient_id for n in Notification.objects.filter(event__type="rule.matched")} == {
        org.manager_a.pk
    }


@pytest.mark.django_db
def test_the_role_falls_back_to_the_nearest_unit_above_that_has_one(org):
    make_rule(org.company, DETRACTOR, [{"type": "notify", "roles": ["admin"]}])
    r = submit(org.link_b, nps=2)
    do_evaluate("response", [r.pk])
    assert {n.recipient_id for n in Notification.objects.all()} == {org.admin.pk}


@pytest.mark.django_db
def test_the_catch_up_evaluates_what_no_task_did_and_moves_its_cursor_one_run_behind(org):
    make_rule(org.company)
    # No on-commit task runs inside a test transaction: as if the worker had crashed.
    rs = [submit(org.link_a, nps=n) for n in (1, 9, 4)]
    first = do_catch_up()
    assert (first.evaluated, first.cases_opened) == (3, 2)
    assert first.evaluated_through["response"] == 0  # the first run has not seen anything yet
    second = do_catch_up()
    assert second.evaluated == 0
    assert second.evaluated_through["response"] == rs[-1].pk
    assert not Evaluation.objects.filter(kind="response").exists()  # markers under the cursor are dropped
    late = submit(org.link_b, nps=0)
    assert do_catch_up().cases_opened == 1
    assert do_evaluate("response", [rs[0].pk, late.pk]).evaluated == 0
    assert Case.objects.count() == 3


@pytest.mark.django_db
def test_without_active_rules_the_catch_up_just_moves_on(org):
    rs = [submit(org.link_a, nps=1) for _ in range(3)]
    do_catch_up()
    do_catch_up()
    assert EvaluationCursor.objects.get(kind="response").evaluated_through == rs[-1].pk
    make_rule(org.company)
    assert do_catch_up().evaluated == 0
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_a_source_whose_actions_fail_is_marked_with_the_error_and_the_others_go_through(org, monkeypatch):
    make_rule(org.company)
    good, bad = submit(org.link_a, nps=1), submit(org.link_b, nps=1)
    real = rule_actions._open_case

    def flaky(r, f, source, action, now):
        if f.source_id == bad.pk:
            raise RuntimeError("the case service is down")
        return real(r, f, source, action, now)

    monkeypatch.setattr(rule_actions, "_open_case", flaky)
    report = do_evaluate("response", [good.pk, bad.pk])
    assert (report.evaluated, report.failed) == (1, 1)
    assert Case.objects.get().response_id == good.pk
    marker = Evaluation.objects.get(source_id=bad.pk)
    assert (marker.outcome, marker.error) == ("failed", "RuntimeError: the case service is down")
    assert not RuleMatch.objects.filter(source_id=bad.pk).exists()


@pytest.mark.django_db
def test_the_dry_run_counts_past_matches_and_writes_nothing(org):
    rule = make_rule(org.company)
    old = datetime(2026, 1, 1, 4, tzinfo=UTC)
    for nps in (0, 3, 8, 10):
        submit(org.link_a, nps=nps, comment=f"nps {nps}", now=old)
    submit(org.link_c, nps=1, now=old)
    do_record_feedback(unit=org.store_a, channel="email", occurred_at=old, text="很差", rating=2)
    result = dry_run(
        definition=parsed_version(rule.current_version),
        unit=org.company,
        applies_to=rule.applies_to,
        since=old - timedelta(days=1),
        user=org.manager_a,
    )
    assert result.matched == {"response": 2, "feedback": 0}
    assert result.scanned == {"response": 4, "feedback": 1}
    assert sorted(m.text for m in result.sample) == ["nps 0", "nps 3"]
    assert not RuleMatch.objects.exists() and not Case.objects.exists() and not Evaluation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_detractor_through_the_survey_page_gets_a_case_when_the_worker_runs(org):
    import re
    import time

    from manyi.core import queueing

    make_rule(org.company)
    queueing.forget()  # another test in this process may have just enqueued the catch-up
    client = Client()
    page = client.get(f"/s/{org.link_a.token}").content.decode()
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    resp = client.post(f"/s/{org.link_a.token}", {**hidden, **csi_answers(nps=2, comment="等了很久")})
    assert resp.status_code == 303
    # Evaluation is enqueued after commit to run a second later (a burst shares one run); a batch
    # worker only takes tasks that are due, so wait for it like a running worker would.
    time.sleep(1.2)
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert Case.objects.count() == 1, (
        list(Evaluation.objects.values()),
        list(EvaluationCursor.objects.values()),
    )
    case = Case.objects.get()
    assert case.response.comment == "等了很久"
    assert Evaluation.objects.filter(kind="response", source_id=case.response_id).exists()


@pytest.mark.django_db
def test_a_rule_named_in_chinese_without_a_slug_is_numbered(org):
    first = do_save_rule(condition=DETRACTOR, actions=OPEN_CASE, unit=org.company, name="差评回访")
    second = do_save_rule(condition=DETRACTOR, actions=OPEN_CASE, unit=org.company, name="再次回访")
    assert (first.slug, second.slug) == ("rule-1", "rule-2")


@pytest.mark.django_db
def test_a_rules_notification_reaches_the_endpoints_that_take_rule_matched_only(org, settings):
    from manyi.notifications.actions import do_create_endpoint

    settings.MANYI_WEBHOOK_ALLOW = ["hooks.example.com"]
    wants = do_create_endpoint(
        unit=org.company,
        name="CRM",
        kind="webhook",
        url="https://hooks.example.com/a",
        events=["rule.matched"],
    )
    do_create_endpoint(
        unit=org.company,
        name="Other",
        kind="webhook",
        url="https://hooks.example.com/b",
        events=["case.closed"],
    )
    make_rule(org.company, DETRACTOR, [{"type": "notify", "users": ["admin1"]}])
    rs = [submit(org.link_a, nps=2), submit(org.link_b, nps=3)]
    do_evaluate("response", [r.pk for r in rs])
    hooks = Notification.objects.filter(event__type="rule.matched", endpoint__isnull=False)
    assert sorted(hooks.values_list("endpoint_id", flat=True)) == [wants.pk, wants.pk]
