"""Sentiment and aspects slice like scores: the text metrics give the same n and figures on the
store and on the operational database, and match a count made by hand from the enrichments."""

from __future__ import annotations

from pathlib import Path

import pytest

from manyi import metrics
from manyi.analytics import DatabaseEngine, MetricQuery, run, store, store_engine
from manyi.analytics.query import Dimension
from manyi.enrichment.models import EnrichedAspect, TextEnrichment
from tests.analytics.test_parity import LAST_QUARTER, _id, _same

pytestmark = pytest.mark.django_db


def text_queries() -> list[MetricQuery]:
    groupings: list[tuple[Dimension, ...]] = [(), ("aspect",), ("aspect", "region"), ("unit",)]
    out = [MetricQuery("negative_share", group_by=g) for g in groupings]
    out += [
        MetricQuery("negative_share", group_by=("aspect",), period="month"),
        MetricQuery("negative_share", filters=LAST_QUARTER, group_by=("aspect",), compare_previous=True),
        MetricQuery("sentiment_mean"),
        MetricQuery("sentiment_mean", group_by=("region",), period="quarter"),
        MetricQuery("sentiment_mean", filters=LAST_QUARTER, group_by=("city",), compare_previous=True),
    ]
    return out


def test_the_demo_comments_were_enriched_and_copied_to_the_store(demo_store: Path) -> None:
    counts = store.counts(demo_store)
    assert counts["text_facts"] == TextEnrichment.objects.count() > 100
    assert counts["aspect_facts"] == EnrichedAspect.objects.count() > 100


@pytest.mark.parametrize("query", text_queries(), ids=_id)
def test_text_query_gives_identical_n_and_figures_on_store_and_operational_database(
    demo_store: Path, query: MetricQuery
) -> None:
    with store_engine(demo_store) as duck:
        on_store = run(query, duck, scope=None)
    on_db = run(query, DatabaseEngine(), scope=None)
    assert on_store.sources == tuple("facts" for _ in on_store.sources)
    assert [(r.group, r.period) for r in on_store.rows] == [(r.group, r.period) for r in on_db.rows]
    assert on_store.rows
    for s, d in zip(on_store.rows, on_db.rows, strict=True):
        assert s.estimate.n == d.estimate.n
        for field in ("value", "ci_low", "ci_high", "se"):
            assert _same(getattr(s.estimate, field), getattr(d.estimate, field)), (s, d)
        if query.compare_previous:
            assert s.comparison is not None and d.comparison is not None
            for field in ("delta", "ci_low", "ci_high", "p_value"):
                assert _same(getattr(s.comparison, field), getattr(d.comparison, field)), (s, d)


def test_negative_share_by_aspect_is_the_share_of_that_aspects_mentions_that_are_negative(
    demo_store: Path,
) -> None:
    with store_engine(demo_store) as duck:
        rows = {
            r.group["aspect"]: r.estimate
            for r in run(MetricQuery("negative_share", group_by=("aspect",)), duck, scope=None).rows
        }
    aspect, est = max(rows.items(), key=lambda kv: kv[1].n)
    labels = list(EnrichedAspect.objects.filter(aspect=aspect).values_list("sentiment", flat=True))
    expected = metrics.top_box(
        [1 if s == "negative" else 0 for s in labels], scale_min=0, scale_max=1, top_k=1
    )
    assert est.n == len(labels) == expected.n
    assert _same(est.value, expected.value) and _same(est.ci_low, expected.ci_low)


def test_sentiment_mean_is_the_mean_score_of_the_enriched_texts(demo_store: Path) -> None:
    scores = list(TextEnrichment.objects.values_list("sentiment_score", flat=True))
    with store_engine(demo_store) as duck:
        est = run(MetricQuery("sentiment_mean"), duck, scope=None).rows[0].estimate
    assert est.n == len(scores)
    assert est.value == pytest.approx(sum(scores) / len(scores), abs=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metric": "nps", "group_by": ("aspect",)}, "group by aspect with negative_share"),
        ({"metric": "sentiment_mean", "group_by": ("survey",)}, "filter by survey instead"),
        ({"metric": "negative_share", "group_by": ("question",)}, "not a question's score"),
    ],
)
def test_text_queries_that_make_no_sense_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MetricQuery(**kwargs)  # type: ignore[arg-type]
