"""The console's filter parser: presets, custom ranges, scope and forged values."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qsl

import pytest
from django.http import QueryDict
from django.utils import translation

from manyi.console.filters import (
    DEFAULT_PERIOD,
    PARAMS,
    ConsoleFilters,
    parse_filters,
    preset_range,
    unit_options,
)
from manyi.responses.models import Response

TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _english() -> Any:
    """Messages are checked in English (the Chinese catalogue says the same)."""
    with translation.override("en"):
        yield


def parse(user, query: str = "", today: date = TODAY) -> ConsoleFilters:
    return parse_filters(user, QueryDict(query), today=today)


def test_the_parameter_names_are_the_agreed_contract():
    assert PARAMS == (
        "period",
        "from",
        "to",
        "unit",
        "survey",
        "channel",
        "tier",
        "lang",
        "metric",
        "bucket",
        "question",
        "aspect",
    )


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("7d", date(2026, 11, 17), TODAY),
        ("30d", date(2026, 10, 25), TODAY),
        ("90d", date(2026, 8, 26), TODAY),
        ("month", date(2026, 11, 1), TODAY),
        ("last_month", date(2026, 10, 1), date(2026, 10, 31)),
        ("quarter", date(2026, 10, 1), TODAY),
        ("last_quarter", date(2026, 7, 1), date(2026, 9, 30)),
    ],
)
def test_each_preset_covers_the_days_it_names(period, start, end):
    assert preset_range(period, TODAY) == (start, end)


def test_last_quarter_seen_in_january_is_october_to_december_of_the_year_before():
    assert preset_range("last_quarter", date(2027, 1, 15)) == (date(2026, 10, 1), date(2026, 12, 31))
    assert preset_range("last_month", date(2027, 1, 15)) == (date(2026, 12, 1), date(2026, 12, 31))


@pytest.mark.django_db
def test_no_parameters_mean_the_last_30_days_ending_today(org):
    f = parse(org.admin)
    assert f.period == DEFAULT_PERIOD and (f.date_from, f.date_to) == (date(2026, 10, 25), TODAY)
    assert f.errors == () and not f.empty
    assert f.previous() == (date(2026, 9, 25), date(2026, 10, 24))


@pytest.mark.django_db
def test_a_custom_range_is_read_from_from_and_to(org):
    f = parse(org.admin, "from=2026-01-01&to=2026-01-31")
    assert f.period == "custom" and (f.date_from, f.date_to) == (date(2026, 1, 1), date(2026, 1, 31))
    assert f.errors == ()
    assert "from=2026-01-01" in f.query_string() and "period=custom" in f.query_string()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("period=custom&from=2026-13-01&to=2026-01-31", ["“from”", "YYYY-MM-DD", "2026-13-01"]),
        ("period=custom&from=yesterday&to=2026-01-31", ["“from”", "yesterday"]),
        ("period=custom&from=2026-01-01", ["“from” and “to”"]),
        ("period=custom&from=2026-02-01&to=2026-01-01", ["after"]),
        ("period=custom&from=2020-01-01&to=2026-01-01", ["at most 1100 days"]),
        ("period=custom&from=1900-01-01&to=1900-02-01", ["between 2000-01-01"]),
        ("period=forever", ["Unknown period", "forever"]),
    ],
)
def test_a_malformed_or_impossible_period_falls_back_to_30_days_with_a_message(org, query, words):
    f = parse(org.admin, query)
    assert f.period == DEFAULT_PERIOD and (f.date_from, f.date_to) == (date(2026, 10, 25), TODAY)
    text = " ".join(f.errors)
    for word in words:
        assert word in text, text
    assert not f.empty  # the reader's own data under the default period is still shown


@pytest.mark.django_db
def test_a_unit_outside_the_readers_scope_gives_a_message_and_nothing(org):
    f = parse(org.manager_a, f"unit={org.store_c.pk}")
    assert f.unit is None and f.empty
    assert str(org.store_c.pk) in f.errors[0]
    assert f.apply(Response.objects.visible_to(org.manager_a)).query is not None
    assert not f.apply(Response.objects.visible_to(org.manager_a)).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "unit=1%20OR%201=1",
        "unit=-1",
        "unit=99999999999999999999999",
        "unit=%EF%BC%91",  # a full-width digit one
        "survey=abc",
        "survey=999999",
        "channel=carrier-pigeon",
        "tier=diamond",
        "lang=fr",
        "metric=revenue",
        "bucket=fans",
        "question=csi.x'%20OR%20'1'='1",
        "aspect=%3Cscript%3E",
    ],
)
def test_a_forged_value_gives_a_message_and_an_empty_result_never_other_data(world, query):
    f = parse(world.org.manager_a, query)
    assert f.empty and f.errors
    assert not f.apply(Response.objects.visible_to(world.org.manager_a)).exists()


@pytest.mark.django_db
def test_a_survey_owned_above_the_reader_can_be_chosen(org):
    f = parse(org.manager_a, f"survey={org.survey.pk}")
    assert f.survey == org.survey and not f.empty


@pytest.mark.django_db
def test_the_parameters_written_back_read_as_the_same_filters(world):
    org = world.org
    query = f"from=2026-01-01&to=2026-01-31&unit={org.city.pk}&survey={org.survey.pk}&channel=qr&tier=gold&lang=en&metric=nps&bucket=detractor"
    f = parse(org.admin, query)
    assert f.errors == ()
    again = parse(org.admin, f.query_string())
    assert again == f
    assert dict(parse_qsl(f.query_string(drill=False))).keys() == {
        "period",
        "from",
        "to",
        "unit",
        "survey",
        "channel",
        "tier",
        "lang",
    }


@pytest.mark.django_db
def test_apply_keeps_the_responses_of_the_period_unit_and_nps_group(world):
    org = world.org
    scoped = Response.objects.visible_to(org.manager_a)
    january = "from=2026-01-01&to=2026-01-31"
    assert set(parse(org.manager_a, january).apply(scoped)) == {world.a.response, world.visiting_response}
    detractors = parse(org.manager_a, f"{january}&bucket=detractor").apply(scoped)
    assert list(detractors) == [world.a.response]
    promoters = parse(org.manager_a, f"{january}&metric=nps&bucket=promoter").apply(scoped)
    assert list(promoters) == [world.visiting_response]
    assert not parse(org.manager_a, "from=2026-02-01&to=2026-02-28").apply(scoped).exists()
    # A unit filter narrows to its subtree, and the admin's company-wide view holds store C too.
    admin = Response.objects.visible_to(org.admin)
    assert world.c.response in parse(org.admin, january).apply(admin)
    assert world.c.response not in parse(org.admin, f"{january}&unit={org.region.pk}").apply(admin)
    answered = parse(org.admin, f"{january}&question=csi.tangibles&lang=zh-hans").apply(admin)
    assert world.c.response in answered


@pytest.mark.django_db
def test_the_unit_picker_of_a_store_manager_lists_only_their_store(org):
    assert [o.pk for o in unit_options(org.manager_a, "en")] == [org.store_a.pk]
    tree = unit_options(org.admin, "en")
    assert [o.pk for o in tree][:3] == [org.company.pk, org.region.pk, org.city.pk]
    assert tree[0].level == 0 and tree[1].level == 1 and tree[1].label.endswith("East")
