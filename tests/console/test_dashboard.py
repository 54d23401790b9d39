"""The home dashboard: tiles, trend, league, distribution, comments, cases; filters and bad input."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from django.conf import settings
from django.http import QueryDict
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from manyi import metrics
from manyi.cases.models import Case
from manyi.console import dashboard
from manyi.console.dashboard import CSI_CODES, compare_estimates, csi_estimate
from manyi.console.filters import parse_filters
from manyi.metrics import Estimate
from manyi.responses.actions import check_submit_response
from manyi.responses.models import Response
from tests.conftest import Org, csi_answers

from .conftest import C_LEAKS, login

NOW = timezone.now()


@pytest.fixture(autouse=True)
def _own_data_dir(settings: Any, tmp_path: Any) -> None:
    """The analytics store lives in the data dir: each test gets an empty one."""
    settings.DATA_DIR = tmp_path


def answer(
    link: Any, nps: int, *, days_ago: int = 1, lang: str = "zh-hans", comment: str = "", csat: int = 4
) -> Response:
    data = csi_answers(nps=nps, comment=comment)
    data["q_csat"] = str(csat)
    result = check_submit_response(
        link=link,
        submission_id=uuid.uuid4(),
        data=data,
        language=lang,
        now=NOW - timedelta(days=days_ago, hours=1),
    )
    assert result.response is not None, result.errors
    return result.response


def build(user: Any, query: str = "", **kw: Any) -> dashboard.Dashboard:
    return dashboard.build(user, parse_filters(user, QueryDict(query)), **kw)


@pytest.fixture
def scored(org: Org) -> Org:
    """Store A: 30 promoters and 10 detractors this month, 40 detractors the month before;
    store B: 5 passives; store C (another region): 3 promoters."""
    for i in range(30):
        answer(org.link_a, 10, days_ago=1 + i % 20)
    for i in range(10):
        answer(org.link_a, 3, days_ago=2 + i % 20, comment=f"排队太久了，服务很差 {i}", csat=2)
    for i in range(40):
        answer(org.link_a, 2, days_ago=35 + i % 20)
    for _ in range(5):
        answer(org.link_b, 8, days_ago=3, lang="en", comment="Fine, nothing special")
    for _ in range(3):
        answer(org.link_c, 9, days_ago=4)
    return org


@pytest.mark.django_db
def test_tiles_give_nps_csat_ces_and_csi_each_with_n_and_interval(scored):
    dash = build(scored.manager_a)
    tiles = {t.metric: t for t in dash.tiles}
    assert list(tiles) == ["nps", "csat", "ces", "csi"]
    expected = metrics.nps(np.array([10] * 30 + [3] * 10))
    nps = tiles["nps"].estimate
    assert nps.n == 40 and nps.value == pytest.approx(expected.value)
    assert (nps.ci_low, nps.ci_high) == (pytest.approx(expected.ci_low), pytest.approx(expected.ci_high))
    assert tiles["csat"].estimate.value == pytest.approx(75.0)  # 30 of 40 answered 4
    assert tiles["csi"].estimate.value == pytest.approx(75.0)  # every dimension 4 on 1–5
    assert tiles["csi"].estimate.n == 40 and tiles["csi"].estimate.ci_low is not None
    assert tiles["ces"].estimate.n == 0 and tiles["ces"].estimate.value is None  # no CES question


@pytest.mark.django_db
def test_the_change_from_the_previous_period_is_marked_significant_when_it_is(scored):
    nps = next(t for t in build(scored.manager_a).tiles if t.metric == "nps")
    assert nps.previous is not None and nps.previous.value == pytest.approx(-100.0)
    assert nps.comparison is not None and nps.comparison.significant
    assert nps.change_state == "up" and nps.better is True
    html = login(scored.manager_a).get("/").content.decode()
    assert 'class="change change-up better"' in html


@pytest.mark.django_db
def test_a_change_within_the_noise_is_marked_not_significant(org):
    for i in range(20):
        answer(org.link_a, 10 if i % 2 else 0, days_ago=2 + i)
        answer(org.link_a, 10 if i % 3 else 0, days_ago=32 + i)
    nps = next(t for t in build(org.manager_a).tiles if t.metric == "nps")
    assert nps.comparison is not None and not nps.comparison.significant
    assert nps.change_state == "flat"
    assert 'class="change change-flat"' in login(org.manager_a).get("/").content.decode()


@pytest.mark.django_db
def test_the_trend_has_a_point_per_day_each_linking_to_its_responses(scored):
    dash = build(scored.manager_a, "period=7d")
    assert dash.trend_grain == "day"
    assert sum(p.estimate.n for p in dash.trend) == dash.tiles[0].estimate.n
    point = dash.trend[0]
    assert f"from={point.date_from.isoformat()}" in point.href and "metric=nps" in point.href
    day = datetime.combine(point.date_from, datetime.min.time(), tzinfo=UTC)
    behind = Response.objects.filter(
        unit=scored.store_a,
        nps__isnull=False,
        submitted_at__gte=day,
        submitted_at__lt=day + timedelta(days=1),
    ).count()
    assert point.estimate.n == behind


@pytest.mark.django_db
def test_the_trend_marks_days_that_differ_from_the_period_as_alerts(org):
    for _ in range(40):
        answer(org.link_a, 10, days_ago=3)
    for _ in range(40):
        answer(org.link_a, 0, days_ago=5)
    dash = build(org.manager_a, "period=7d")
    alerts = {p.period for p in dash.trend if p.alert}
    assert len(alerts) == 2
    data = dashboard.chart_data(dash)
    assert sum(1 for p in data["trend"] if p["alert"]) == 2


@pytest.mark.django_db
def test_a_long_range_is_trended_by_month(scored):
    today = timezone.now().date()
    dash = build(scored.manager_a, f"from={(today - timedelta(days=200)).isoformat()}&to={today.isoformat()}")
    assert dash.trend_grain == "month"
    assert all(re.fullmatch(r"\d{4}-\d{2}", p.period) for p in dash.trend)


@pytest.mark.django_db
def test_the_league_ranks_child_units_with_intervals_and_flags_small_n(scored):
    dash = build(scored.admin)
    assert dash.league_parent == scored.company
    names = [r.unit for r in dash.league]
    assert names == [scored.other_region, scored.region]  # West: 3 promoters (100); East: 45 answers
    west, east = dash.league
    assert west.estimate.suppressed and west.estimate.n == 3
    assert not east.estimate.suppressed and east.estimate.n == 45
    assert f"unit={scored.region.pk}" in east.href
    city = build(scored.admin, f"unit={scored.city.pk}")
    assert [r.unit for r in city.league] == [scored.store_a, scored.store_b]


@pytest.mark.django_db
def test_the_distribution_counts_promoters_passives_and_detractors(scored):
    dist = {b.key: b for b in build(scored.admin).distribution}
    assert (dist["promoter"].count, dist["passive"].count, dist["detractor"].count) == (33, 5, 10)
    assert dist["detractor"].share == pytest.approx(100 * 10 / 48)
    assert "bucket=detractor" in dist["detractor"].href


@pytest.mark.django_db
def test_latest_comments_come_with_their_sentiment(scored):
    comments = build(scored.manager_a).comments
    assert comments and all(c.response.unit_id == scored.store_a.pk for c in comments)
    assert {c.sentiment for c in comments} <= {"positive", "negative", "neutral"}
    assert any(c.sentiment == "negative" for c in comments)


@pytest.mark.django_db
def test_aspects_say_honestly_that_there_is_no_text_analysis_yet(scored):
    dash = build(scored.admin)
    assert dash.aspects is None
    assert 'id="no-text-analysis"' in login(scored.admin).get("/").content.decode()


@pytest.mark.django_db
def test_open_cases_and_sla_attainment_count_the_readers_cases(org):
    now = timezone.now()
    for i, late in enumerate([False, False, True]):
        Case.objects.create(
            unit=org.store_a,
            title=f"closed {i}",
            status="closed",
            created_at=now - timedelta(days=3),
            resolution_due=now - timedelta(days=2),
            closed_at=now - timedelta(days=1 if late else 3),
        )
    Case.objects.create(
        unit=org.store_a,
        title="open late",
        created_at=now - timedelta(days=2),
        resolution_due=now - timedelta(hours=1),
    )
    Case.objects.create(unit=org.store_c, title="other store", created_at=now - timedelta(days=2))
    cases = build(org.manager_a).cases
    assert cases is not None
    assert (cases.open, cases.overdue, cases.closed_in_period, cases.closed_on_time) == (1, 1, 3, 2)
    assert cases.attainment is not None and cases.attainment.value == pytest.approx(100 * 2 / 3)
    assert build(org.admin).cases.open == 2  # type: ignore[union-attr]


@pytest.mark.django_db
def test_channel_tier_and_language_filters_narrow_every_figure(scored):
    english = build(scored.admin, "lang=en")
    assert english.source in ("sqlite", "postgresql")
    assert english.tiles[0].estimate.n == 5
    assert [b.count for b in english.distribution] == [0, 5, 0]
    assert build(scored.admin, "channel=email").tiles[0].estimate.n == 0
    assert build(scored.admin, "tier=gold").tiles[0].estimate.n == 0  # anonymous answers have no tier


@pytest.mark.django_db
def test_the_store_and_the_database_give_the_same_figures(scored):
    from manyi.analytics.store import rebuild

    rebuild()
    from_store = build(scored.admin, "period=90d")
    assert from_store.source == "duckdb"
    from_db = build(scored.admin, "period=90d", prefer="database")
    assert from_db.source in ("sqlite", "postgresql")
    for a, b in zip(from_store.tiles, from_db.tiles, strict=True):
        assert (a.estimate.n, a.estimate.value) == (b.estimate.n, pytest.approx(b.estimate.value))
    assert [(r.unit, r.estimate.n) for r in from_store.league] == [
        (r.unit, r.estimate.n) for r in from_db.league
    ]
    # A response the store has not copied yet sends the dashboard to the database: never stale.
    answer(scored.link_a, 0, days_ago=1)
    assert build(scored.admin, "period=90d").source in ("sqlite", "postgresql")


@pytest.mark.django_db
def test_a_store_manager_sees_no_figure_of_another_store_whatever_the_filters(scored):
    client = login(scored.manager_a)
    for query in ("", f"unit={scored.store_c.pk}", f"unit={scored.other_region.pk}", "survey=999999"):
        resp = client.get(f"/?{query}")
        assert resp.status_code == 200
        body = resp.content.decode()
        for leak in C_LEAKS:
            assert leak not in body, (query, leak)
    dash = build(scored.manager_a, f"unit={scored.store_c.pk}")
    assert dash.filters.empty and all(t.estimate.n == 0 for t in dash.tiles)
    assert dash.league == [] or all(r.estimate.n == 0 for r in dash.league)
    assert dash.comments == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "period=custom&from=2026-99-99&to=x",
        "from=2026-02-30",
        "unit=../../etc",
        "unit=1e9",
        "survey=%00",
        "channel=%27%3B%20DROP%20TABLE",
        "tier=" + "x" * 5000,
        "lang=zh-hant",
        "metric=csi&bucket=passive&question=a%20b",
        "page=999999999&page_size=100000000",
    ],
)
def test_forged_or_malformed_filters_give_a_clear_message_never_a_500(world, query):
    resp = login(world.org.manager_a).get(f"/?{query}")
    assert resp.status_code == 200
    body = resp.content.decode()
    if "page=" not in query:
        assert 'role="alert"' in body
    for leak in C_LEAKS:
        assert leak not in body


@pytest.mark.django_db
def test_every_chart_element_links_to_the_response_list_with_the_same_filters(scored):
    resp = login(scored.admin).get(f"/?period=7d&unit={scored.region.pk}&metric=csat")
    data = json.loads(
        re.search(
            r'<script id="dashboard-data" type="application/json">(.*?)</script>', resp.content.decode(), re.S
        ).group(1)
    )  # type: ignore[union-attr]
    hrefs = (
        [p["href"] for p in data["trend"]]
        + [r["href"] for r in data["league"]]
        + [b["href"] for b in data["distribution"]]
    )
    assert hrefs
    for href in hrefs:
        assert href.startswith("/responses/?")
        assert "metric=" in href
    assert all(f"unit={scored.region.pk}" in p["href"] for p in data["trend"])
    assert data["metric"] == "csat"
    # Following a distribution link lists exactly the responses counted.
    detractors = next(b for b in data["distribution"] if b["key"] == "detractor")
    listed = login(scored.admin).get(detractors["href"])
    assert listed.status_code == 200


@pytest.mark.django_db
def test_echarts_is_loaded_on_the_dashboard_only(world):
    client = login(world.org.admin)
    assert "vendor/echarts/echarts.common.min" in client.get("/").content.decode()
    assert "echarts" not in client.get("/units/").content.decode()


def test_the_csi_interval_is_no_narrower_than_the_widest_assumption_allows():
    dims = [
        Estimate("mean", 4.0, 3.8, 4.2, 0.1, 100, 100.0, 0.95, "t", False),
        Estimate("mean", 3.0, 2.6, 3.4, 0.2, 90, 90.0, 0.95, "t", False),
    ]
    csi = csi_estimate(dims)
    assert csi.value == pytest.approx(((4 + 3) / 2 - 1) / 4 * 100)
    assert csi.se == pytest.approx((0.1 + 0.2) / 2 * 25)  # the mean of the SEs, rescaled
    assert csi.n == 100
    assert csi_estimate([]).value is None and csi_estimate([]).n == 0


@given(
    st.floats(min_value=1, max_value=5),
    st.floats(min_value=1, max_value=5),
    st.floats(min_value=0.001, max_value=1),
    st.floats(min_value=0.001, max_value=1),
)
def test_the_csi_always_lies_in_0_to_100_inside_its_interval(m1, m2, se1, se2):
    dims = [
        Estimate("mean", m1, None, None, se1, 50, 50.0, 0.95, "t", False),
        Estimate("mean", m2, None, None, se2, 50, 50.0, 0.95, "t", False),
    ]
    csi = csi_estimate(dims)
    assert csi.value is not None and csi.ci_low is not None and csi.ci_high is not None
    assert 0 <= csi.ci_low <= csi.value <= csi.ci_high <= 100


@given(st.floats(min_value=-100, max_value=100), st.floats(min_value=0.1, max_value=20))
def test_a_comparison_with_itself_is_never_significant(value, se):
    e = Estimate("csi", value, None, None, se, 100, 100.0, 0.95, "t", False)
    c = compare_estimates(e, e)
    assert c.delta == 0 and not c.significant and c.p_value == pytest.approx(1.0)


def test_the_csi_codes_are_the_rows_of_the_store_survey_matrix():
    from manyi.surveys.blueprints import blueprint

    matrix = next(q for q in blueprint("store_csi")["definition"]["questions"] if q["code"] == "csi")
    assert tuple(f"csi.{r['code']}" for r in matrix["rows"]) == CSI_CODES


@pytest.mark.django_db
def test_a_new_answer_shows_at_once_even_with_the_figures_cached(scored):
    first = build(scored.manager_a)
    assert build(scored.manager_a).tiles[0].estimate.n == first.tiles[0].estimate.n == 40
    answer(scored.link_a, 10, days_ago=1)
    assert build(scored.manager_a).tiles[0].estimate.n == 41


@pytest.mark.django_db
def test_cached_figures_are_never_shared_between_scopes(scored):
    assert build(scored.admin).tiles[0].estimate.n == 48
    assert build(scored.manager_a).tiles[0].estimate.n == 40
    assert build(scored.admin, "lang=en").tiles[0].estimate.n == 5


@pytest.mark.django_db
def test_the_aspects_most_criticised_come_from_the_text_analysis_and_lead_to_their_responses(org):
    from manyi.enrichment.actions import do_enrich_feedback
    from manyi.feedback.actions import do_record_survey_comment

    def enriched(nps: int, comment: str, days_ago: int) -> None:
        feedback = do_record_survey_comment(
            response_id=answer(org.link_a, nps, days_ago=days_ago, comment=comment).pk
        )
        assert feedback is not None
        do_enrich_feedback(feedback.pk)

    for i in range(40):
        enriched(2, "排队太久了，等了一个小时", 1 + i % 10)
    for _ in range(5):
        enriched(10, "店员很热情，服务很好", 2)
    dash = build(org.manager_a)
    assert dash.aspects, "the comments name aspects"
    top = dash.aspects[0]
    assert top["share"] > 50 and top["n"] >= 30 and top["lo"] is not None
    assert f"aspect={top['aspect']}" in top["href"]
    f = parse_filters(org.manager_a, QueryDict(top["href"].split("?", 1)[1]))
    listed = f.apply(Response.objects.visible_to(org.manager_a))
    assert listed.count() == top["n"] or listed.count() >= 30
    # Another store's manager sees no aspect of store A.
    assert not build(org.manager_c).aspects
    # The store gives the same aspects as the database.
    from manyi.analytics.store import rebuild

    rebuild()
    from_store = build(org.manager_a, prefer="store")
    assert from_store.source == "duckdb"
    assert [(a["aspect"], a["n"]) for a in from_store.aspects or []] == [
        (a["aspect"], a["n"]) for a in dash.aspects
    ]


@pytest.mark.django_db
def test_alerts_raised_by_the_alert_rules_are_marked_on_the_trend_and_listed(scored):
    from manyi.alerts.models import Alert, AlertRule

    day = (timezone.now() - timedelta(days=3)).astimezone(UTC).date()
    rule = AlertRule.objects.create(
        name="store drop", metric="nps", unit=scored.company, level="store", condition="drop", period="day"
    )
    for unit in (scored.store_a, scored.store_c):
        Alert.objects.create(
            rule=rule,
            unit=unit,
            period_start=day,
            period_end=day,
            metric="nps",
            n=40,
            value=-20.0,
            message=f"NPS dropped at {unit.code}",
        )
    dash = build(scored.manager_a, "period=7d")
    assert [a.message for a in dash.alerts] == ["NPS dropped at sh-001"]  # store C's alert is not in view
    data = dashboard.chart_data(dash)
    assert day.isoformat() in [p["period"] for p in data["trend"]]
    assert [p["period"] for p in data["trend"] if p["alert"]] == [day.isoformat()]
    html = login(scored.manager_a).get("/?period=7d").content.decode()
    assert "NPS dropped at sh-001" in html and "NPS dropped at cd-001" not in html
    assert build(scored.manager_a, "period=7d", metric="csi").alerts == []  # no alert rules on CSI


@pytest.mark.django_db
def test_a_league_whose_units_have_no_answers_says_so_instead_of_drawing_an_empty_chart(scored):
    from manyi.org.actions import do_create_unit
    from manyi.org.choices import UnitKind

    do_create_unit(
        code="sh-001-desk",
        name={"zh-hans": "上海一店服务台", "en": "Shanghai 1 desk"},
        kind=UnitKind.STORE,
        parent=scored.store_a,
    )
    client = login(scored.manager_a)
    client.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})
    body = client.get("/").content.decode()
    assert 'id="chart-league"' not in body
    assert "The unit below has no answers in these filters." in body
    assert 'id="chart-league"' in login(scored.admin).get("/").content.decode()


@pytest.mark.django_db
def test_latest_comments_name_each_aspect_once_in_the_page_language_and_link_to_its_responses(scored):
    from django.utils import translation

    from manyi import textanalytics as ta

    with translation.override("en"):
        comments = build(scored.manager_a).comments
    names = ta.default_taxonomy().names("en")
    for c in comments:
        codes = [code for code, _s in c.aspects]
        assert len(codes) == len(set(codes))
        assert [name for name, _s, _h in c.labelled] == [names.get(code, code) for code in codes]
        assert all(
            f"aspect={code}" in href
            for (code, _s), (_n, _s2, href) in zip(c.aspects, c.labelled, strict=True)
        )
    assert any(c.labelled for c in comments)
