"""Text conditions read the reading the enrichment stored (the one the analytics show); they analyse
the text themselves only when no reading of the current models is stored."""

from __future__ import annotations

import pytest

from manyi.enrichment.actions import do_enrich_feedback
from manyi.enrichment.models import EnrichedAspect, TextEnrichment
from manyi.feedback.actions import do_record_survey_comment
from manyi.rules.actions import do_evaluate
from manyi.rules.conditions import analyze_text
from manyi.rules.models import RuleMatch

from .conftest import make_rule, submit

LEGAL = {"field": "text.flags", "op": "any", "value": ["legal"]}
NEGATIVE_STAFF = {"field": "text.aspect", "value": "staff_attitude", "sentiment": "negative"}
TAG = [{"type": "tag", "tags": ["checked"]}]
COMMENT = "排队等了很久，不过最后还是买到了"


def enriched(org, comment: str = COMMENT) -> tuple[int, TextEnrichment]:
    response = submit(org.link_a, nps=5, comment=comment)
    record = do_record_survey_comment(response_id=response.pk)
    assert record is not None
    reading = do_enrich_feedback(record.pk)
    assert reading is not None
    return response.pk, reading


@pytest.mark.django_db
def test_a_flag_in_the_stored_reading_matches_even_where_a_fresh_analysis_would_not(org):
    make_rule(org.company, LEGAL, TAG)
    rid, reading = enriched(org)
    assert "legal" not in {f.flag for f in analyze_text(COMMENT).flags}
    # The stored reading is what the analytics count; the rule follows it.
    reading.flags = [{"flag": "legal", "words": ["起诉"]}]
    reading.save(update_fields=["flags"])
    assert do_evaluate("response", [rid]).matches == 1
    assert RuleMatch.objects.filter(source_id=rid).exists()


@pytest.mark.django_db
def test_stored_aspects_and_their_sentiment_decide_an_aspect_condition(org):
    make_rule(org.company, NEGATIVE_STAFF, TAG)
    rid, reading = enriched(org)
    reading.aspects.all().delete()
    EnrichedAspect.objects.create(
        enrichment=reading, aspect="staff_attitude", sentiment="negative", score=-0.8, span="x", term="x"
    )
    assert do_evaluate("response", [rid]).matches == 1


@pytest.mark.django_db
def test_a_reading_by_older_models_is_ignored_and_the_text_analysed_again(org):
    make_rule(org.company, LEGAL, TAG)
    rid, reading = enriched(org)
    TextEnrichment.objects.filter(pk=reading.pk).update(
        model_version="old-models", flags=[{"flag": "legal", "words": ["起诉"]}]
    )
    assert do_evaluate("response", [rid]).matches == 0


@pytest.mark.django_db
def test_without_a_stored_reading_the_text_is_analysed(org):
    make_rule(org.company, {"field": "text.sentiment", "op": "=", "value": "negative"}, TAG)
    response = submit(org.link_a, nps=1, comment="服务太差了，非常生气，再也不来了")
    assert not TextEnrichment.objects.exists()
    assert do_evaluate("response", [response.pk]).matches == 1
