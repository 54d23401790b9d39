"""Every feedback record and open-text answer is read by the text models after it is saved;
idempotent, versioned by model, and sliced like scores in the analytics store."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from typer.testing import CliRunner

from manyi.analytics import DatabaseEngine, MetricQuery, run, store, store_engine
from manyi.cli import app
from manyi.enrichment.actions import MODEL_NAME, current_version, do_enrich_feedback, do_enrich_pending
from manyi.enrichment.models import EnrichedAspect, TextEnrichment
from manyi.enrichment.queries import aspects_by_negative_share
from manyi.enrichment.tasks import PERIODIC, enrich_feedback, enrich_pending
from manyi.feedback.models import FeedbackRecord
from manyi.integrations.actions import do_record_feedback
from manyi.responses.actions import check_submit_response
from manyi.responses.models import Response
from manyi.responses.tasks import enrich_response
from tests.conftest import csi_answers

pytestmark = pytest.mark.django_db

MIXED = "菜很好吃，但是等了一个小时"


def submit(org: Any, comment: str, nps: int = 6) -> Response:
    result = check_submit_response(
        link=org.link_a,
        submission_id=uuid.uuid4(),
        data=csi_answers(nps=nps, comment=comment),
        language="zh-hans",
    )
    assert result.response is not None
    return result.response


def complaint(org: Any, text: str, unit: Any = None) -> FeedbackRecord:
    return do_record_feedback(
        unit=unit or org.store_b,
        channel="phone",
        occurred_at=datetime(2026, 11, 20, 9, tzinfo=UTC),
        text=text,
        language="zh-hans",
    )


def test_a_survey_comment_is_enriched_with_sentiment_aspects_flags_and_its_model_version(org: Any) -> None:
    response = submit(org, MIXED)
    enrich_response.call(response.pk)
    enrichment = TextEnrichment.objects.get()
    assert enrichment.source == "feedback" and enrichment.feedback is not None
    assert enrichment.feedback.response_id == response.pk
    assert enrichment.unit_id == org.store_a.pk and enrichment.survey_id == org.survey.pk
    assert enrichment.lang == "zh"
    assert (enrichment.model, enrichment.model_version) == (MODEL_NAME, current_version())
    aspects = {(a.aspect, a.sentiment) for a in enrichment.aspects.all()}
    assert ("food_taste", "positive") in aspects and ("wait_time", "negative") in aspects


def test_the_comment_is_enriched_once_not_again_as_an_open_text_answer(org: Any) -> None:
    response = submit(org, "服务员态度很差")
    enrich_response.call(response.pk)
    enrich_response.call(response.pk)
    assert TextEnrichment.objects.count() == 1
    assert not TextEnrichment.objects.filter(source="answer").exists()


def test_enriching_again_with_the_same_model_changes_nothing(org: Any) -> None:
    record = complaint(org, "等了一个小时，我要投诉")
    first = do_enrich_feedback(record.pk)
    second = do_enrich_feedback(record.pk)
    assert first is not None and second is not None
    assert first.pk == second.pk and first.enriched_at == second.enriched_at
    assert EnrichedAspect.objects.count() == first.aspects.count() > 0
    assert any(f["flag"] for f in second.flags)  # 投诉 raises the complaint flag, with its words


def test_feedback_from_an_integration_is_enriched_by_a_task_queued_on_commit(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        record = complaint(org, "The staff were rude and I waited an hour")
    queued = DBTaskResult.objects.filter(
        task_path="manyi.enrichment.tasks.enrich_feedback", status=TaskResultStatus.READY
    )
    assert queued.count() == 1 and queued.get().args_kwargs["args"] == [record.pk]
    assert enrich_feedback.call(record.pk) is not None
    enrichment = TextEnrichment.objects.get(feedback=record)
    assert enrichment.lang == "en" and enrichment.sentiment == "negative"


def test_a_new_model_version_re_enriches_on_the_next_periodic_run(org: Any) -> None:
    record = complaint(org, "排队太久了，服务员也不理人")
    enrichment = do_enrich_feedback(record.pk)
    assert enrichment is not None
    aspects_before = enrichment.aspects.count()
    TextEnrichment.objects.filter(pk=enrichment.pk).update(model_version="zh-2020-01-01+en-2020-01-01")
    report = enrich_pending.call()
    assert report["reenriched"] == 1 and report["model_version"] == current_version()
    again = TextEnrichment.objects.get(pk=enrichment.pk)
    assert again.model_version == current_version()
    assert again.aspects.count() == aspects_before  # replaced, not added to
    assert enrich_pending.call()["total"] == 0
    assert (enrich_pending, 120) in PERIODIC


def test_texts_that_are_not_really_text_are_enriched_with_their_problem_and_never_break_a_batch(
    org: Any,
) -> None:
    for text in ("😀😀😀", "x" * 12_000, "Ã¦Ã¸Ã¥ mojibake Ã©", "好"):
        complaint(org, text)
    report = do_enrich_pending(limit=None)
    assert report.feedback == 4 and report.errors == []
    long = TextEnrichment.objects.get(feedback__text="x" * 12_000)
    assert "truncated" in long.problems


def test_backfill_command_enriches_what_is_pending_with_progress_and_json(org: Any) -> None:
    for text in ("服务很好", "太贵了", "The app keeps crashing"):
        complaint(org, text)
    runner = CliRunner()
    result = runner.invoke(app, ["text", "enrich", "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["feedback"] == 3 and data["total"] == 3 and data["model"] == MODEL_NAME
    assert "text: feedback 3/3 enriched" in result.stderr
    again = json.loads(runner.invoke(app, ["text", "enrich", "--format", "json"]).stdout)
    assert again["total"] == 0
    everything = json.loads(runner.invoke(app, ["text", "enrich", "--all", "--format", "json"]).stdout)
    assert everything["reenriched"] == 3


def test_enrichments_reach_the_store_replaced_not_duplicated_and_slice_like_scores(
    org: Any, tmp_path: Path
) -> None:
    path = tmp_path / "text.duckdb"
    for text in ("等了一个小时", "排队太慢了", "上菜很快", "服务员态度很好", "服务员态度很差"):
        record = complaint(org, text)
        do_enrich_feedback(record.pk)
    assert store.sync(path).texts == 5
    counts = store.counts(path)
    assert counts["text_facts"] == 5 and counts["aspect_facts"] == EnrichedAspect.objects.count()
    for record in FeedbackRecord.objects.all():
        do_enrich_feedback(record.pk, force=True)
    assert store.sync(path).texts == 5
    assert store.counts(path)["text_facts"] == 5
    query = MetricQuery("negative_share", group_by=("aspect",))
    with store_engine(path) as duck:
        on_store = run(query, duck, scope=None).rows
        top = aspects_by_negative_share(engine=duck, scope=None, min_n=1)
        in_other_region = run(query, duck, scope=[org.other_region.path]).rows
    on_db = run(query, DatabaseEngine(), scope=None).rows
    assert [(r.group, r.estimate.n, r.estimate.value) for r in on_store] == [
        (r.group, r.estimate.n, r.estimate.value) for r in on_db
    ]
    assert top[0].aspect == "wait_time" and top[0].negative_share == 100.0 and top[0].zh_name
    assert in_other_region == []  # store b's complaints are outside the other region


def feedback_readings() -> dict[int | None, tuple[Any, ...]]:
    """What is stored for each enriched feedback record: sentiment, keywords and aspects."""
    return {
        e.feedback_id: (
            e.sentiment,
            e.sentiment_score,
            e.keywords,
            sorted(e.aspects.values_list("aspect", "span")),
        )
        for e in TextEnrichment.objects.filter(feedback__isnull=False)
    }


def test_a_backlog_is_enriched_in_batches_exactly_as_one_text_at_a_time(org: Any) -> None:
    texts = ["排队太久了，服务员也不理人", "服务很好", "The app keeps crashing", "太贵了", "   "]
    records = [complaint(org, t) for t in texts]
    TextEnrichment.objects.all().delete()
    report = do_enrich_pending(limit=None)
    assert report.errors == [] and report.feedback == 4  # the blank one has nothing to read
    batched = feedback_readings()
    TextEnrichment.objects.all().delete()
    for fid in batched:
        do_enrich_feedback(fid)
    one_by_one = feedback_readings()
    assert batched == one_by_one and set(batched) == {r.pk for r in records[:4]}


def test_a_text_enriched_meanwhile_sends_its_batch_one_at_a_time_and_nothing_is_lost_or_doubled(
    org: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from manyi.enrichment import actions

    records = [complaint(org, t) for t in ("排队太久了", "服务很好", "太贵了")]
    TextEnrichment.objects.all().delete()
    real = actions._new_feedback

    def raced(ids: Any) -> Any:
        texts = real(ids)
        do_enrich_feedback(records[1].pk)  # the task a save queued got there first
        return texts

    monkeypatch.setattr(actions, "_new_feedback", raced)
    report = do_enrich_pending(limit=None)
    assert report.errors == [] and report.feedback == 3
    assert TextEnrichment.objects.filter(feedback__in=records).count() == 3
