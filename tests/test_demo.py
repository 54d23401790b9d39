"""The seeded demo company: its shape, its logins, the same data every time, and a story in the numbers."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Avg, Count, F, Q, Sum
from django.test import Client

from manyi.cases.models import Case
from manyi.core import demo
from manyi.customers.models import Customer
from manyi.feedback.models import FeedbackRecord
from manyi.org.models import OrgUnit, RoleAssignment
from manyi.responses.models import Answer, Response
from manyi.surveys.models import SurveyLink

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SMALL = 3000


def load(responses: int = SMALL, seed: int = 7) -> dict[str, Any]:
    return demo.load(seed=seed, responses=responses, progress=lambda _m: None, now=NOW)


def user(username: str) -> Any:
    return get_user_model().objects.get(username=username)


def fingerprint() -> str:
    """A digest of everything generated, free of database ids (which differ between databases)."""
    parts: list[Any] = [
        list(
            Response.objects.values("unit__code", "survey__slug", "channel", "language")
            .annotate(
                n=Count("id"),
                nps=Sum("nps"),
                csat=Sum("csat"),
                ces=Sum("ces"),
                seconds=Sum("duration_seconds"),
                comments=Count("id", filter=~Q(comment="")),
                customers=Count("customer"),
            )
            .order_by("unit__code", "survey__slug", "channel", "language")
        ),
        sorted(str(s) for s in Response.objects.values_list("submission_id", flat=True)),
        sorted(Response.objects.values_list("submitted_at", "comment")),
        list(
            Answer.objects.values("question_code")
            .annotate(n=Count("id"), total=Sum("number"))
            .order_by("question_code")
        ),
        list(
            FeedbackRecord.objects.values("channel", "category", "severity", "unit__code")
            .annotate(n=Count("id"))
            .order_by("channel", "category", "severity", "unit__code")
        ),
        sorted(Case.objects.values_list("unit__code", "title", "status", "priority", "assignee__username")),
        sorted(Case.objects.values_list("created_at", "closed_at", "resolution_due")),
        sorted(RoleAssignment.objects.values_list("user__username", "unit__code", "role")),
        sorted(Customer.objects.values_list("external_id", "name", "phone", "home_unit__code", "tier")),
        sorted(SurveyLink.objects.values_list("token", "unit__code", "kind")),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


@pytest.mark.django_db(transaction=True)
def test_demo_company_has_three_regions_twelve_cities_sixty_stores_and_about_300_staff():
    report = load()
    company = OrgUnit.objects.get(code=demo.COMPANY_CODE)
    assert company.parent is None
    kinds = dict(
        OrgUnit.objects.filter(path__startswith=company.path).values_list("kind").annotate(n=Count("id"))
    )
    assert (kinds["region"], kinds["city"], kinds["store"]) == (3, 12, 60)
    assert kinds.get("team", 0) >= 1
    assert 280 <= report["staff"] <= 330
    assert report["responses"] == Response.objects.count() == SMALL
    assert report["surveys"] == 4
    assert report["org_units"] == sum(kinds.values())
    assert report["feedback"] == FeedbackRecord.objects.count()
    assert report["cases"] == Case.objects.count() > 0
    roles = set(RoleAssignment.objects.values_list("role", flat=True))
    assert {"admin", "cx_manager", "unit_manager", "agent", "analyst", "viewer"} <= roles
    # Every store has a manager, and its QR code for each survey.
    stores = OrgUnit.objects.filter(kind="store")
    assert all(s.role_assignments.filter(role="unit_manager").exists() for s in stores)
    assert SurveyLink.objects.filter(kind="unit").count() == 60 * 4
    assert SurveyLink.objects.filter(kind="anonymous").count() == 4
    assert report["example_survey_path"].startswith("/s/")
    token = report["example_survey_path"].removeprefix("/s/")
    link = SurveyLink.objects.get(token=token)
    assert (link.unit.code, link.survey.template, link.kind) == (demo.DEMO_STORE, "store_csi", "unit")
    assert Client().get(report["example_survey_path"]).status_code == 200
    # 18 months ending before "now", every time zone-aware.
    first = Response.objects.order_by("submitted_at").first()
    last = Response.objects.order_by("-submitted_at").first()
    assert first and last
    assert NOW - timedelta(days=560) < first.submitted_at < NOW - timedelta(days=530)
    assert NOW - timedelta(days=2) < last.submitted_at < NOW
    assert first.submitted_at.tzinfo is not None


@pytest.mark.django_db(transaction=True)
def test_demo_logins_authenticate_with_the_demo_password_and_have_their_scope():
    report = load()
    assert [login["username"] for login in report["logins"]] == ["demo-admin", "demo-cx", "demo-store"]
    for login in report["logins"]:
        assert Client().login(username=login["username"], password="manyi-demo"), login
    company = OrgUnit.objects.get(code=demo.COMPANY_CODE)
    admin, cx, store_manager = user("demo-admin"), user("demo-cx"), user("demo-store")
    assert admin.is_superuser and admin.roles.filter(unit=company, role="admin").exists()
    assert not cx.is_superuser and cx.roles.filter(unit=company, role="cx_manager").exists()
    assert Response.objects.visible_to(cx).count() == SMALL
    store = store_manager.roles.get(role="unit_manager").unit
    assert store.kind == "store"
    visible = Response.objects.visible_to(store_manager)
    assert 0 < visible.count() < SMALL
    assert visible.count() == Response.objects.filter(unit__path__startswith=store.path).count()
    assert set(visible.values_list("unit__path", flat=True)) <= {
        p for p in OrgUnit.objects.filter(path__startswith=store.path).values_list("path", flat=True)
    }
    assert not Case.objects.visible_to(store_manager).exclude(unit__path__startswith=store.path).exists()


@pytest.mark.django_db(transaction=True)
def test_two_loads_with_the_same_seed_into_fresh_databases_give_identical_data():
    first_report = load()
    first = fingerprint()
    call_command("flush", "--no-input", verbosity=0)
    assert not OrgUnit.objects.exists()
    second_report = load()
    assert fingerprint() == first
    assert second_report == first_report


@pytest.mark.django_db(transaction=True)
def test_a_different_seed_gives_different_data():
    load(seed=1)
    first = fingerprint()
    call_command("flush", "--no-input", verbosity=0)
    load(seed=2)
    assert fingerprint() != first


@pytest.mark.django_db(transaction=True)
def test_loading_twice_adds_nothing_and_returns_the_same_report():
    first = load()
    counts = (
        Response.objects.count(),
        Answer.objects.count(),
        FeedbackRecord.objects.count(),
        Case.objects.count(),
    )
    second = load()
    assert second == first
    assert (
        Response.objects.count(),
        Answer.objects.count(),
        FeedbackRecord.objects.count(),
        Case.objects.count(),
    ) == counts
    assert get_user_model().objects.filter(username="demo-admin").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_demo_company_loads_next_to_an_existing_organisation(org):
    report = load()
    assert report["responses"] == SMALL
    assert OrgUnit.objects.filter(parent__isnull=True).count() == 2
    assert Response.objects.visible_to(org.manager_a).count() == 0


@pytest.mark.django_db(transaction=True)
def test_answers_have_the_storage_shape_of_the_questions_and_match_the_headline_scores():
    load()
    csi = Response.objects.filter(survey__template="store_csi").first()
    assert csi is not None
    answers = {a.question_code: a for a in csi.answers.all()}
    assert {"nps", "csat", *(f"csi.{d}" for d in demo.DIMS)} <= set(answers)
    assert set(answers) <= {
        "nps",
        "csat",
        *(f"csi.{d}" for d in demo.DIMS),
        "sq_wait.expectation",
        "sq_wait.perception",
        "comment",
        "contact_ok",
    }
    assert answers["nps"].number == csi.nps and answers["csat"].number == csi.csat
    assert csi.version.status == "published" and csi.link and csi.link.kind == "unit"
    assert csi.started_at + timedelta(seconds=csi.duration_seconds or 0) == csi.submitted_at
    # Headline columns equal their answers everywhere; every comment is an answer too.
    for code in ("nps", "csat", "ces"):
        assert not Answer.objects.filter(question_code=code).exclude(number=F(f"response__{code}")).exists()
        assert (
            Answer.objects.filter(question_code=code).count()
            == Response.objects.exclude(**{code: None}).count()
        )
    assert (
        Answer.objects.filter(question_code="comment").count() == Response.objects.exclude(comment="").count()
    )
    reasons = Answer.objects.filter(question_code="reasons").first()
    assert reasons and isinstance(reasons.choices, list) and reasons.choices
    assert reasons.response.nps is not None and reasons.response.nps <= 8


@pytest.mark.django_db(transaction=True)
def test_comments_in_chinese_and_english_follow_the_score_and_become_feedback():
    load()
    total = Response.objects.count()
    commented = Response.objects.exclude(comment="")
    assert 0.22 <= commented.count() / total <= 0.38
    english = commented.filter(language="en")
    chinese = commented.filter(language="zh-hans")
    assert english.count() > 50 and chinese.count() > 300
    assert all(c.isascii() for c in english.values_list("comment", flat=True))
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in c) for c in chinese.values_list("comment", flat=True))
    assert 0.10 <= Response.objects.filter(language="en").count() / total <= 0.20
    assert commented.values("comment").distinct().count() > 0.6 * commented.count()
    # Detractors complain, promoters praise.
    unhappy = " ".join(commented.filter(nps__lte=3, language="zh-hans").values_list("comment", flat=True))
    happy = " ".join(commented.filter(nps=10, language="zh-hans").values_list("comment", flat=True))
    praise, complaint = ("好", "满意", "方便", "干净", "新鲜"), ("太", "不", "没", "排", "慢", "脏", "贵")
    assert sum(unhappy.count(w) for w in complaint) > sum(unhappy.count(w) for w in praise)
    assert sum(happy.count(w) for w in praise) > sum(happy.count(w) for w in complaint)
    # Every comment is a survey feedback record, as the enrich task would have made it.
    assert FeedbackRecord.objects.filter(channel="survey").count() == commented.count()
    assert not commented.filter(feedback__isnull=True).exists()
    others = FeedbackRecord.objects.exclude(channel="survey")
    assert others.count() >= 100
    assert {"phone", "counter", "web_form", "review", "social"} <= set(
        others.values_list("channel", flat=True)
    )
    assert others.filter(severity__in=["high", "critical"]).exclude(category="").exists()


@pytest.mark.django_db(transaction=True)
def test_cases_follow_detractors_and_serious_complaints_and_belong_to_their_store_staff():
    load()
    cases = Case.objects.select_related("unit", "response", "feedback", "assignee")
    assert cases.filter(response__isnull=False).exists() and cases.filter(feedback__isnull=False).exists()
    for case in cases.filter(response__isnull=False)[:200]:
        r = case.response
        assert r.comment and ((r.nps is not None and r.nps <= 6) or (r.csat or 9) <= 2 or (r.ces or 9) <= 2)
    assert not cases.filter(feedback__severity__in=["low", "medium"]).exists()
    statuses = dict(cases.values_list("status").annotate(n=Count("id")))
    assert statuses.get("closed", 0) > statuses.get("new", 0)
    month_ago = NOW - timedelta(days=30)
    assert not cases.filter(created_at__lt=month_ago - timedelta(days=30), status="new").exists()
    # Open cases are the last days' work: none older than the longest a store takes (ten days), so
    # none is absurdly overdue; older cases were all resolved and closed.
    still_open = cases.exclude(status__in=["resolved", "closed"])
    assert not still_open.filter(created_at__lt=NOW - timedelta(days=10)).exists()
    assert not still_open.filter(resolution_due__lt=NOW - timedelta(days=10)).exists()
    assert not cases.filter(status="resolved", closed_at__isnull=False).exists()
    assert not cases.filter(status__in=["resolved", "closed"], resolved_at__isnull=True).exists()
    # The rules and SLA policies that opened them are there, each case is its rule's match, and the
    # rules have seen every loaded row: running the worker opens no case for the history.
    from manyi.rules.actions import do_catch_up
    from manyi.rules.models import Rule, RuleMatch

    assert sorted(Rule.objects.values_list("slug", flat=True)) == [
        "hejia-detractors",
        "hejia-food-safety",
        "hejia-serious-complaints",
    ]
    assert not cases.filter(sla_policy__isnull=True).exists()
    assert (
        not cases.filter(sla_policy__priority__isnull=False)
        .exclude(sla_policy__priority=F("priority"))
        .exists()
    )
    assert RuleMatch.objects.count() == cases.count()
    # Every case has its log: opened, and the call back, resolution and closing where it got that far.
    from manyi.cases.models import CaseEvent

    assert not cases.exclude(events__kind="opened").exists()
    assert not cases.filter(status__in=["in_progress", "closed"]).exclude(events__kind="contact_out").exists()
    closing = CaseEvent.objects.filter(kind="status", to_status="closed")
    assert closing.count() == statuses.get("closed", 0)
    assert not closing.filter(data__resolution=None).exists()
    before = cases.count()
    assert do_catch_up().matches == 0 and Case.objects.count() == before
    # Closed cases already asked their customer again: starting the worker sends no re-survey.
    from manyi.cases.recovery import catch_up as resurvey_catch_up

    assert not cases.filter(status="closed", resurvey_status="").exists()
    assert resurvey_catch_up(NOW) == 0
    for case in cases.exclude(assignee__isnull=True)[:300]:
        assert RoleAssignment.objects.filter(
            user=case.assignee, unit__path__startswith=case.unit.path
        ).exists(), case.title
    assert not cases.filter(first_response_due__isnull=True).exists()
    assert not cases.filter(status__in=["resolved", "closed"], closed_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_designated_stores_improve_or_decline_between_the_first_and_the_last_quarter():
    load(responses=12_000)
    first = Response.objects.order_by("submitted_at").first()
    assert first is not None
    start, end = first.submitted_at, NOW

    def mean_nps(code: str, since: datetime, until: datetime) -> float:
        value = Response.objects.filter(
            unit__code=code, submitted_at__gte=since, submitted_at__lt=until, nps__isnull=False
        ).aggregate(m=Avg("nps"))["m"]
        assert value is not None
        return float(value)

    quarter = timedelta(days=91)
    for code in demo.IMPROVING_STORES:
        assert mean_nps(code, end - quarter, end) > mean_nps(code, start, start + quarter) + 0.5, code
    for code in demo.DECLINING_STORES:
        assert mean_nps(code, end - quarter, end) < mean_nps(code, start, start + quarter) - 0.5, code


@pytest.mark.django_db(transaction=True)
def test_loading_refuses_when_another_unit_already_uses_the_demo_company_code():
    from manyi.org.actions import do_create_unit

    do_create_unit(code=demo.COMPANY_CODE, name={"zh-hans": "别家", "en": "Someone else"}, kind="company")
    with pytest.raises(RuntimeError, match="not the demo company"):
        load()
    assert not Response.objects.exists()
