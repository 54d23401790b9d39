"""Writes: enrich one feedback record, the open-text answers of one response, or everything pending.

Every write is idempotent: a text already enriched by the current model version is left alone, and
re-enriching replaces the row's reading and its aspects in one transaction. "Pending" means a text
with no enrichment yet, or one enriched by another model version (a new model re-enriches).

The language of each text is detected from the text itself (a respondent's interface language says
little about the language they write in).

The response's comment is stored twice, as an open-text answer and as the survey feedback record
made from it; it is enriched once, through the feedback record, so that counts do not double.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .choices import TextSource
from .models import EnrichedAspect, TextEnrichment

if TYPE_CHECKING:
    from manyi.textanalytics import Analysis, Analyzer

#: The ``model`` recorded on every enrichment; ``model_version`` is the analyzer's version string
#: (both sentiment models and the aspect taxonomy).
MODEL_NAME = "manyi-textanalytics"
#: Texts handled per run of the periodic task (the backfill command runs until nothing is left).
BATCH = 500
#: Texts never enriched before are analysed and written this many at a time.
CHUNK = 200

_analyzer: Analyzer | None = None


def analyzer() -> Analyzer:
    """The shipped models and taxonomy, loaded once per process."""
    global _analyzer
    if _analyzer is None:
        from manyi.textanalytics import Analyzer

        _analyzer = Analyzer()
    return _analyzer


def current_version() -> str:
    return analyzer().version


@dataclass
class _Text:
    """A text to enrich: its feedback record or answer, and what its enrichment copies from it."""

    target: Any
    text: str
    unit_id: int
    survey_id: int | None
    occurred_at: datetime


def _values(source: str, t: _Text, analysis: Analysis, version: str) -> dict[str, Any]:
    """The fields of the enrichment of ``t``, less its feedback record or answer."""
    return {
        "source": source,
        "unit_id": t.unit_id,
        "survey_id": t.survey_id,
        "occurred_at": t.occurred_at,
        "lang": analysis.lang,
        "sentiment": analysis.sentiment.label,
        "sentiment_score": float(analysis.sentiment.score),
        "confidence": float(analysis.sentiment.confidence),
        "keywords": list(analysis.keywords),
        "flags": [f.as_dict() for f in analysis.flags],
        "problems": list(analysis.problems),
        "model": MODEL_NAME,
        "model_version": version,
        "enriched_at": timezone.now(),
    }


def _key(source: str, t: _Text) -> dict[str, Any]:
    return {"feedback": t.target} if source == TextSource.FEEDBACK else {"answer": t.target}


def _aspect_rows(enrichment: TextEnrichment, analysis: Analysis) -> list[EnrichedAspect]:
    return [
        EnrichedAspect(
            enrichment=enrichment,
            aspect=a.aspect,
            sentiment=a.sentiment,
            score=float(a.score),
            span=a.span,
            term=a.term[:128],
        )
        for a in analysis.aspects
    ]


def _write(source: str, t: _Text, analysis: Analysis, version: str) -> TextEnrichment:
    """Enrich one text, replacing its earlier enrichment and aspects if it has one."""
    with transaction.atomic():
        enrichment, created = TextEnrichment.objects.update_or_create(
            **_key(source, t), defaults=_values(source, t, analysis, version)
        )
        if not created:
            enrichment.aspects.all().delete()
        EnrichedAspect.objects.bulk_create(_aspect_rows(enrichment, analysis))
    return enrichment


def _enrich_new(source: str, texts: list[_Text], version: str) -> int:
    """Enrich texts that have no enrichment yet, together: analysed in one batch and written with
    one insert per table in one transaction. Raises if any of them was enriched meanwhile (by the
    task a save queued); the caller then enriches them one at a time."""
    if not texts:
        return 0
    analyses = list(analyzer().analyze_many([t.text for t in texts], batch=len(texts)))
    rows = [
        TextEnrichment(**_key(source, t), **_values(source, t, a, version))
        for t, a in zip(texts, analyses, strict=True)
    ]
    with transaction.atomic():
        made = TextEnrichment.objects.bulk_create(rows)
        EnrichedAspect.objects.bulk_create(
            [row for e, a in zip(made, analyses, strict=True) for row in _aspect_rows(e, a)]
        )
    return len(made)


def _feedback_text(record: Any) -> _Text | None:
    """A feedback record's text to enrich (with ``response`` loaded), or None when it has none."""
    if not record.text.strip():
        return None
    survey_id = record.response.survey_id if record.response is not None else None
    return _Text(record, record.text, record.unit_id, survey_id, record.occurred_at)


def _answer_text(answer: Any, response: Any, codes: set[str]) -> _Text | None:
    """An answer's text to enrich, or None: not one of the open-text ``codes`` of its response's
    version, empty, or the response's comment (enriched as its feedback record)."""
    if answer.question_code not in codes or not answer.text.strip() or answer.text == response.comment:
        return None
    return _Text(answer, answer.text, response.unit_id, response.survey_id, response.submitted_at)


def _new_feedback(ids: Sequence[int]) -> list[_Text]:
    from manyi.feedback.models import FeedbackRecord

    records = FeedbackRecord.objects.filter(pk__in=ids, enrichment__isnull=True).select_related("response")
    return [t for r in records.order_by("id") if (t := _feedback_text(r)) is not None]


def _new_answers(ids: Sequence[int]) -> list[_Text]:
    """The answers among ``ids`` that :func:`do_enrich_response_answers` would enrich."""
    from manyi.responses.models import Answer

    answers = Answer.objects.filter(pk__in=ids, enrichment__isnull=True).select_related("response__version")
    codes: dict[int, set[str]] = {}
    out = []
    for a in answers.order_by("id"):
        r = a.response
        if r.version_id not in codes:
            codes[r.version_id] = open_text_codes(r.version.questions)
        if (t := _answer_text(a, r, codes[r.version_id])) is not None:
            out.append(t)
    return out


def do_enrich_feedback(feedback_id: int, *, force: bool = False) -> TextEnrichment | None:
    """Enrich one feedback record's text (None when it has none); ``force`` re-reads it even when
    the current model version already did."""
    from manyi.feedback.models import FeedbackRecord

    record = FeedbackRecord.objects.select_related("response").filter(pk=feedback_id).first()
    text = _feedback_text(record) if record is not None else None
    if text is None:
        return None
    version = current_version()
    existing = TextEnrichment.objects.filter(feedback_id=feedback_id).first()
    if existing is not None and existing.model_version == version and not force:
        return existing
    return _write(TextSource.FEEDBACK, text, analyzer().analyze(text.text), version)


def open_text_codes(questions: list[dict[str, Any]]) -> set[str]:
    """Answer codes of a survey version that hold free text: open questions and "other" boxes."""
    from manyi.surveys.choices import QuestionType

    codes = set()
    for q in questions:
        if q.get("type") == QuestionType.TEXT:
            codes.add(q["code"])
        codes.add(f"{q['code']}.other")
    return codes


def do_enrich_response_answers(response_id: int, *, force: bool = False) -> list[TextEnrichment]:
    """Enrich the open-text answers of one response, except its comment (see the module docs)."""
    from manyi.responses.models import Response

    response = Response.objects.select_related("version").filter(pk=response_id).first()
    if response is None:
        return []
    codes = open_text_codes(response.version.questions)
    version = current_version()
    done = []
    answers = response.answers.filter(question_code__in=codes).exclude(text="").select_related("enrichment")
    for answer in answers:
        text = _answer_text(answer, response, codes)
        if text is None:
            continue
        existing = getattr(answer, "enrichment", None)
        if existing is not None and existing.model_version == version and not force:
            done.append(existing)
            continue
        done.append(_write(TextSource.ANSWER, text, analyzer().analyze(text.text), version))
    return done


@dataclass
class EnrichReport:
    """What a backfill did."""

    feedback: int = 0
    answers: int = 0
    reenriched: int = 0
    errors: list[str] = field(default_factory=list)
    model_version: str = ""

    @property
    def total(self) -> int:
        return self.feedback + self.answers + self.reenriched

    def as_dict(self) -> dict[str, Any]:
        return {
            "feedback": self.feedback,
            "answers": self.answers,
            "reenriched": self.reenriched,
            "total": self.total,
            "errors": list(self.errors),
            "model": MODEL_NAME,
            "model_version": self.model_version,
        }


def _all_open_text_codes() -> set[str]:
    from manyi.surveys.models import SurveyVersion

    codes: set[str] = set()
    for version in SurveyVersion.objects.only("definition"):
        codes |= open_text_codes(version.questions)
    return codes


def pending_counts() -> dict[str, int]:
    """Texts waiting: feedback and answers never enriched, and enrichments of another version."""
    from manyi.feedback.models import FeedbackRecord

    version = current_version()
    return {
        "feedback": FeedbackRecord.objects.filter(enrichment__isnull=True).exclude(text="").count(),
        "answers": _missing_answers(_all_open_text_codes()).count(),
        "stale": TextEnrichment.objects.exclude(model_version=version).count(),
    }


def _missing_answers(codes: set[str]) -> Any:
    from manyi.responses.models import Answer

    return (
        Answer.objects.filter(enrichment__isnull=True, question_code__in=codes)
        .exclude(text="")
        .exclude(text=F("response__comment"))
    )


def do_enrich_pending(
    *,
    everything: bool = False,
    limit: int | None = BATCH,
    progress: Callable[[str], None] | None = None,
) -> EnrichReport:
    """Enrich what is pending (``everything``: re-read every text with the current models).

    ``limit`` caps the texts of each kind handled in this call (None: all of them, as the backfill
    command does). A text that fails is reported and the others go on.
    """
    from manyi.feedback.models import FeedbackRecord

    say = progress or (lambda _m: None)
    version = current_version()
    report = EnrichReport(model_version=version)

    def cap(qs: Any) -> Any:
        return qs if limit is None else qs[:limit]

    if everything:
        stale_ids = list(cap(TextEnrichment.objects.order_by("id").values_list("id", flat=True)))
    else:
        stale_ids = list(
            cap(
                TextEnrichment.objects.exclude(model_version=version)
                .order_by("id")
                .values_list("id", flat=True)
            )
        )
    for i, enrichment in enumerate(TextEnrichment.objects.filter(pk__in=stale_ids).order_by("id"), 1):
        try:
            if enrichment.feedback_id is not None:
                do_enrich_feedback(enrichment.feedback_id, force=True)
            else:
                _reenrich_answer(enrichment.answer_id)
            report.reenriched += 1
        except Exception as exc:  # one bad text must not stop the batch
            report.errors.append(f"enrichment {enrichment.pk}: {type(exc).__name__}: {exc}")
        if i % 200 == 0:
            say(f"text: re-enriched {i}/{len(stale_ids)}")

    feedback_ids = list(
        cap(
            FeedbackRecord.objects.filter(enrichment__isnull=True)
            .exclude(text="")
            .order_by("id")
            .values_list("id", flat=True)
        )
    )
    for done, chunk in _chunks(feedback_ids):
        try:
            report.feedback += _enrich_new(TextSource.FEEDBACK, _new_feedback(chunk), version)
        except Exception:
            # One was enriched meanwhile, or one text breaks the batch: one at a time, so that a
            # bad text costs only itself.
            for fid in chunk:
                try:
                    if do_enrich_feedback(fid) is not None:
                        report.feedback += 1
                except Exception as exc:
                    report.errors.append(f"feedback {fid}: {type(exc).__name__}: {exc}")
        say(f"text: feedback {done}/{len(feedback_ids)} enriched")

    answer_ids = list(
        cap(_missing_answers(_all_open_text_codes()).order_by("id").values_list("id", flat=True))
    )
    for done, chunk in _chunks(answer_ids):
        try:
            report.answers += _enrich_new(TextSource.ANSWER, _new_answers(chunk), version)
        except Exception:
            from manyi.responses.models import Answer

            rids = Answer.objects.filter(pk__in=chunk).values_list("response_id", flat=True).distinct()
            for rid in sorted(rids):
                try:
                    before = TextEnrichment.objects.filter(answer__response_id=rid).count()
                    do_enrich_response_answers(rid)
                    report.answers += TextEnrichment.objects.filter(answer__response_id=rid).count() - before
                except Exception as exc:
                    report.errors.append(f"response {rid}: {type(exc).__name__}: {exc}")
        say(f"text: answers {done}/{len(answer_ids)} enriched")
    return report


def _chunks(ids: list[int]) -> Iterator[tuple[int, list[int]]]:
    """``ids`` in chunks of CHUNK, each with how many ids are done once it is."""
    for lo in range(0, len(ids), CHUNK):
        yield min(lo + CHUNK, len(ids)), ids[lo : lo + CHUNK]


def _reenrich_answer(answer_id: int | None) -> None:
    from manyi.responses.models import Answer

    if answer_id is None:
        return
    answer = Answer.objects.filter(pk=answer_id).select_related("response").first()
    if answer is None:
        return
    if answer.text.strip() and answer.text != answer.response.comment:
        do_enrich_response_answers(answer.response_id, force=True)
    else:  # the answer is empty now, or became the comment: its reading no longer stands
        TextEnrichment.objects.filter(answer_id=answer_id).delete()
