"""The console's Drivers page: cached analyses per survey and unit, scoping, segments, periodic refresh."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse

from manyi.insights.actions import do_refresh_driver_analyses
from manyi.insights.choices import AnalysisStatus
from manyi.insights.models import DriverAnalysis
from manyi.insights.tasks import PERIODIC, refresh_driver_analyses
from manyi.responses.actions import do_record_response
from manyi.surveys.actions import do_create_survey, do_publish
from tests.conftest import Org

ROWS = ("tangibles", "reliability", "responsiveness", "assurance", "empathy")


def record(
    org: Org, n: int, seed: int = 1, units: tuple[str, ...] = ("store_a", "store_b", "store_c")
) -> None:
    """``n`` responses to the store CSI survey whose CSAT is driven mostly by reliability."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        r = rng.integers(1, 6, 5)
        csat = int(np.clip(round(0.9 * r[1] + 0.3 * r[2] - 0.6 + rng.normal(0, 0.5)), 1, 5))
        expectation = int(rng.integers(5, 8))
        answers: dict[str, Any] = {
            "nps": int(rng.integers(0, 11)),
            "csat": csat,
            "csi": dict(zip(ROWS, (int(v) for v in r), strict=True)),
            "sq_wait": {
                "expectation": expectation,
                "perception": max(1, expectation - int(rng.integers(0, 3))),
            },
        }
        unit = getattr(org, units[i % len(units)])
        result = do_record_response(
            survey=org.survey,
            unit=unit,
            answers=answers,
            language="zh-hans",
            channel="api" if i % 2 else "import",
        )
        assert result.response is not None, result.errors


def page(user: Any, pk: int, **params: Any):
    client = Client()
    client.force_login(user)
    return client.get(reverse("console:survey_drivers", args=[pk]), params)


@pytest.mark.django_db
def test_the_drivers_page_ranks_the_attribute_that_drives_satisfaction_first(org):
    record(org, 150)
    resp = page(org.admin, org.survey.pk)
    assert resp.status_code == 200
    body = resp.content.decode()
    assert 'id="drivers-table"' in body and 'id="drivers-ipa"' in body and "<svg" in body
    analysis = DriverAnalysis.objects.get(survey=org.survey, unit=org.company, segment_by="none")
    assert analysis.status == AnalysisStatus.OK and analysis.n_responses == 150
    drivers = analysis.result["drivers"]["drivers"]
    assert drivers[0]["attribute"] == "reliability"
    assert sum(d["share"] for d in drivers) == pytest.approx(100, abs=1e-3)
    assert all(d["ci_low"] <= d["share"] <= d["ci_high"] for d in drivers)
    # the SERVQUAL pair: perception is never above expectation here, so the gap is negative
    gap = analysis.result["servqual"]["attributes"][0]
    assert gap["name"] == "sq_wait" and gap["gap"] < 0 and gap["significant"]
    assert 'id="drivers-servqual"' in body and 'id="no-servqual"' not in body
    assert analysis.result["csi"]["value"] is not None


@pytest.mark.django_db
def test_a_second_visit_reads_the_cached_analysis(org):
    record(org, 60)
    assert page(org.admin, org.survey.pk).status_code == 200
    computed_at = DriverAnalysis.objects.get().computed_at
    assert page(org.admin, org.survey.pk).status_code == 200
    assert DriverAnalysis.objects.get().computed_at == computed_at


@pytest.mark.django_db
def test_a_store_manager_analyses_their_own_store_and_gets_404_for_another_stores_unit(org):
    record(org, 90)
    resp = page(org.manager_a, org.survey.pk)
    assert resp.status_code == 200
    analysis = DriverAnalysis.objects.get(survey=org.survey, unit=org.store_a)
    assert analysis.n_responses == 30
    body = resp.content.decode()
    assert "成都一店" not in body and "Chengdu 1" not in body
    assert page(org.manager_a, org.survey.pk, unit=org.store_c.pk).status_code == 404
    assert page(org.manager_a, org.survey.pk, unit=org.company.pk).status_code == 404
    assert not DriverAnalysis.objects.filter(unit=org.store_c).exists()


@pytest.mark.django_db
def test_too_few_responses_are_explained_with_the_numbers(org):
    record(org, 12)
    resp = page(org.admin, org.survey.pk)
    assert resp.status_code == 200
    analysis = DriverAnalysis.objects.get()
    assert analysis.status == AnalysisStatus.TOO_FEW
    assert analysis.result["complete"] == 12 and analysis.result["needed"] == 30
    assert 'id="drivers-status"' in resp.content.decode()


@pytest.mark.django_db
def test_segments_by_channel_are_analysed_and_their_differences_tested(org):
    record(org, 160)
    resp = page(org.admin, org.survey.pk, segment="channel")
    assert resp.status_code == 200
    analysis = DriverAnalysis.objects.get(segment_by="channel")
    seg = analysis.result["segments"]
    assert set(seg["groups"]) == {"api", "import"}
    assert seg["differences"] and all("p_value" in d for d in seg["differences"])
    assert 'id="drivers-segments"' in resp.content.decode()


@pytest.mark.django_db
def test_segments_by_region_name_the_regions(org):
    record(org, 160)
    resp = page(org.admin, org.survey.pk, segment="region")
    assert resp.status_code == 200
    groups = DriverAnalysis.objects.get(segment_by="region").result["segments"]["groups"]
    assert set(groups) == {"east", "west"}
    assert "华东区" in resp.content.decode() or "East" in resp.content.decode()


@pytest.mark.django_db
def test_a_survey_without_a_rating_matrix_says_so(org):
    survey = do_create_survey(slug="nps-only", unit=org.company, template="relational_nps")
    do_publish(survey=survey)
    resp = page(org.admin, survey.pk)
    assert resp.status_code == 200
    assert DriverAnalysis.objects.get(survey=survey).status == AnalysisStatus.NO_MATRIX


@pytest.mark.django_db
def test_the_periodic_refresh_recomputes_only_analyses_whose_responses_changed(org):
    assert (refresh_driver_analyses, 900) in PERIODIC
    from manyi.core.periodic import discover

    assert "manyi.insights.tasks.refresh_driver_analyses" in {p.name for p in discover()}
    record(org, 60)
    first = do_refresh_driver_analyses()
    assert first.computed >= 1
    assert DriverAnalysis.objects.filter(unit=None, segment_by="none").get().n_responses == 60
    again = do_refresh_driver_analyses()
    assert again.computed == 0 and again.fresh == first.computed
    record(org, 3, seed=2)
    third = do_refresh_driver_analyses()
    assert third.computed >= 1
    assert DriverAnalysis.objects.filter(unit=None, segment_by="none").get().n_responses == 63


@pytest.mark.django_db
def test_a_refresh_over_its_time_budget_leaves_the_rest_for_a_queued_next_run(org, monkeypatch):
    from django_tasks_db.models import DBTaskResult

    from manyi.insights import tasks

    record(org, 60)
    stale = do_refresh_driver_analyses(budget_seconds=0.0)
    assert stale.computed == 1 and stale.left >= 1
    DriverAnalysis.objects.all().delete()
    monkeypatch.setattr(tasks, "BUDGET_SECONDS", 0.0)
    out = refresh_driver_analyses.call()
    assert out["computed"] == 1 and out["left"] == stale.left
    queued = DBTaskResult.objects.filter(task_path="manyi.insights.tasks.refresh_driver_analyses")
    assert queued.count() == 1
    done = do_refresh_driver_analyses()
    assert done.left == 0 and done.computed == stale.left


@pytest.mark.django_db
def test_the_drivers_index_lists_the_surveys_with_a_link_to_their_page(org):
    client = Client()
    client.force_login(org.manager_a)
    resp = client.get(reverse("console:drivers_index"))
    assert resp.status_code == 200
    assert reverse("console:survey_drivers", args=[org.survey.pk]) in resp.content.decode()


@pytest.mark.parametrize("name", ["survey_drivers.html", "index.html"])
def test_the_drivers_templates_say_nothing_outside_translation_tags(name):
    from tests.console.test_templates import TEMPLATES, untranslated

    source = (TEMPLATES / "console" / "drivers" / name).read_text(encoding="utf-8")
    assert untranslated(source) == []
    assert "|safe" not in source


@pytest.mark.django_db
def test_a_cached_analysis_older_than_the_responses_says_so(org):
    record(org, 40)
    body = page(org.admin, org.survey.pk).content.decode()
    assert 'id="drivers-stale"' not in body
    record(org, 2, seed=3)
    body = page(org.admin, org.survey.pk).content.decode()
    assert 'id="drivers-stale"' in body and "42" in body
