"""The rollups in the operational database (PostgreSQL), so that it answers dashboards fast too.

They hold what the store's ``rollup_day`` and ``rollup_month`` hold (see :mod:`manyi.analytics.store`):
a histogram ``c0`` … ``c10`` of the integer scores, and ``n_odd``, per unit × UTC day × survey ×
question and per unit × month × question (all surveys), the headline scores under the reserved
question ids of :data:`manyi.analytics.sql.HEADLINE_QUESTION_IDS`. They are written only by
:mod:`manyi.analytics.dbrollups` (from ``manyi analytics sync``/``rebuild`` and the ``sync_store``
task), never by the ORM, and read by the runner through :class:`manyi.analytics.DatabaseEngine`.

``RollupState`` holds the ids up to which they count responses and answers (``responses``,
``answers``) and their shape's version (``rollups``); rows above the marks are counted from the
facts in the same statement, so a query on them is as fresh as one on the facts.
"""

from __future__ import annotations

from django.db import models


class RollupQuestion(models.Model):
    """Question codes as the small integers the rollups use."""

    question_id = models.IntegerField(primary_key=True)
    code = models.CharField(max_length=96, unique=True)

    def __str__(self) -> str:
        return f"{self.question_id}: {self.code}"


class Histogram(models.Model):
    """The counts a rollup row holds: scores 0 … 10 (``c0`` … ``c10``) and the others (``n_odd``)."""

    n_odd = models.IntegerField(default=0)
    c0 = models.IntegerField(default=0)
    c1 = models.IntegerField(default=0)
    c2 = models.IntegerField(default=0)
    c3 = models.IntegerField(default=0)
    c4 = models.IntegerField(default=0)
    c5 = models.IntegerField(default=0)
    c6 = models.IntegerField(default=0)
    c7 = models.IntegerField(default=0)
    c8 = models.IntegerField(default=0)
    c9 = models.IntegerField(default=0)
    c10 = models.IntegerField(default=0)

    class Meta:
        abstract = True


class RollupDay(Histogram):
    id = models.BigAutoField(primary_key=True)
    unit_id = models.IntegerField()
    day = models.DateField()
    survey_id = models.IntegerField()
    question_id = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["unit_id", "day", "survey_id", "question_id"], name="analytics_rollupday_key"
            )
        ]
        indexes = [models.Index(fields=["question_id", "day"], name="analytics_rollupday_q_day")]

    def __str__(self) -> str:
        return f"unit {self.unit_id}, {self.day}, survey {self.survey_id}, question {self.question_id}"


class RollupMonth(Histogram):
    id = models.BigAutoField(primary_key=True)
    unit_id = models.IntegerField()
    month = models.DateField()
    question_id = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["unit_id", "month", "question_id"], name="analytics_rollupmonth_key"
            )
        ]
        indexes = [models.Index(fields=["question_id", "month"], name="analytics_rollupmonth_q_month")]

    def __str__(self) -> str:
        return f"unit {self.unit_id}, {self.month:%Y-%m}, question {self.question_id}"


class RollupState(models.Model):
    """``responses``/``answers``: the highest id the rollups count; ``rollups``: their version."""

    fact = models.CharField(max_length=16, primary_key=True)
    last_id = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.fact}: {self.last_id}"


class FactChange(models.Model):
    """A response whose copy in the store (and in the rollups) is out of date: it was changed or
    deleted after it may have been copied. Written by :func:`manyi.analytics.actions.record_changed_responses`
    in the writer's transaction; the next sync replaces the store's rows of the response with the
    operational database's (none when deleted), recomputes the rollups of the keys it had and has,
    and then deletes the entries it applied."""

    id = models.BigAutoField(primary_key=True)
    response_id = models.BigIntegerField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"response {self.response_id} changed"
