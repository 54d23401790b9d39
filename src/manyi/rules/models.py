"""Rules as data: a rule, its immutable versions, the matches they made, and what evaluation has seen.

A *source* is what a rule is evaluated on: a survey response or a feedback record, named by
``(kind, source_id)`` so one table serves both.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from manyi.org.scoping import ScopedModel

from .choices import AppliesTo, EvaluationOutcome, ResurveyStatus, SourceKind


class Rule(ScopedModel):
    """A named rule owned by an org unit; it applies to the sources of that unit's subtree."""

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="rules")
    applies_to = models.CharField(
        _("applies to"), max_length=16, choices=AppliesTo.choices, default=AppliesTo.BOTH
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Rules run in this order; a lower number first (matters only for which rule opens the case).
    position = models.PositiveIntegerField(_("position"), default=100)
    current_version = models.ForeignKey(
        "RuleVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("rule")
        verbose_name_plural = _("rules")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.slug


class RuleVersion(ScopedModel):
    """One saved state of a rule's condition and actions; never changed once written."""

    scope_unit_field = "rule__unit"

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    condition = models.JSONField(_("condition"))
    actions = models.JSONField(_("actions"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("rule version")
        verbose_name_plural = _("rule versions")
        ordering = ["rule_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["rule", "number"], name="rule_version_number")]

    def __str__(self) -> str:
        return f"{self.rule_id} v{self.number}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("a rule version is immutable; save a new version instead")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class RuleMatch(ScopedModel):
    """A source matched a rule (at most once per rule); ``version`` is the version that matched."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="matches")
    version = models.ForeignKey(RuleVersion, on_delete=models.PROTECT, related_name="matches")
    kind = models.CharField(_("source"), max_length=16, choices=SourceKind.choices)
    source_id = models.PositiveBigIntegerField(_("source id"))
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.CASCADE, related_name="+")
    matched_at = models.DateTimeField(_("matched"), db_index=True)
    # What the actions did: {"case": 12, "case_created": true, "notified": 2, "tags": [...], ...}
    outcome = models.JSONField(_("outcome"), default=dict)

    class Meta:
        verbose_name = _("rule match")
        verbose_name_plural = _("rule matches")
        constraints = [
            models.UniqueConstraint(fields=["rule", "kind", "source_id"], name="rule_match_once"),
        ]
        indexes = [models.Index(fields=["kind", "source_id"], name="rule_match_source")]

    def __str__(self) -> str:
        return f"{self.rule_id}:{self.kind}:{self.source_id}"


class Evaluation(models.Model):
    """The marker that a source has been through every active rule (or failed, with the reason)."""

    kind = models.CharField(max_length=16, choices=SourceKind.choices)
    source_id = models.PositiveBigIntegerField()
    evaluated_at = models.DateTimeField()
    outcome = models.CharField(
        max_length=8, choices=EvaluationOutcome.choices, default=EvaluationOutcome.DONE
    )
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("rule evaluation")
        constraints = [models.UniqueConstraint(fields=["kind", "source_id"], name="rule_evaluation_once")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.source_id}"


class EvaluationCursor(models.Model):
    """Per source kind: every id up to ``evaluated_through`` has been evaluated.

    ``seen_through`` is the highest id the previous catch-up saw; the cursor never passes it, so a
    row whose id was taken by a transaction that committed late is still found by the next run.
    """

    kind = models.CharField(max_length=16, choices=SourceKind.choices, primary_key=True)
    evaluated_through = models.PositiveBigIntegerField(default=0)
    seen_through = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.kind}≤{self.evaluated_through}"


class Tag(models.Model):
    """A label that rules put on responses and feedback records ("angry", "refund-asked")."""

    slug = models.SlugField(_("tag"), max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Tagging(ScopedModel):
    """A tag on one source; the same tag is put on a source once."""

    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="taggings")
    kind = models.CharField(_("source"), max_length=16, choices=SourceKind.choices)
    source_id = models.PositiveBigIntegerField(_("source id"))
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.CASCADE, related_name="+")
    match = models.ForeignKey(RuleMatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("tagged"))

    class Meta:
        verbose_name = _("tagging")
        constraints = [
            models.UniqueConstraint(fields=["tag", "kind", "source_id"], name="rule_tagging_once"),
        ]
        indexes = [models.Index(fields=["kind", "source_id"], name="rule_tagging_source")]

    def __str__(self) -> str:
        return f"{self.tag_id}:{self.kind}:{self.source_id}"


class ResurveyEntry(ScopedModel):
    """A customer put on a named re-survey list by a rule, for the distribution to ask again."""

    list_name = models.SlugField(_("list"), max_length=64)
    kind = models.CharField(_("source"), max_length=16, choices=SourceKind.choices)
    source_id = models.PositiveBigIntegerField(_("source id"))
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    match = models.ForeignKey(RuleMatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(
        _("status"), max_length=16, choices=ResurveyStatus.choices, default=ResurveyStatus.PENDING
    )
    created_at = models.DateTimeField(_("added"))
    # What the periodic sender decided: the re-survey event, the decision logged by distribution
    # and, when invited, the invitation; ``reason`` is the decision's reason code or a ResurveySkip.
    event = models.ForeignKey(
        "distribution.ServiceEvent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision = models.ForeignKey(
        "distribution.Decision", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    invitation = models.ForeignKey(
        "distribution.Invitation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=24, blank=True, default="")
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("re-survey entry")
        verbose_name_plural = _("re-survey entries")
        constraints = [
            models.UniqueConstraint(fields=["list_name", "kind", "source_id"], name="rule_resurvey_once"),
        ]
        indexes = [models.Index(fields=["status", "id"], name="rule_resurvey_pending")]

    def __str__(self) -> str:
        return f"{self.list_name}:{self.kind}:{self.source_id}"

    @property
    def reason_text(self) -> str:
        """Why the entry is where it is, as a sentence in the active language ("" while waiting)."""
        from .choices import ResurveySkip

        if self.decision_id is not None:
            return self.decision.message  # type: ignore[union-attr]
        if self.reason == ResurveySkip.NO_PROGRAM:
            return _(
                "not sent: no distribution rule takes the event type resurvey:{list}; name a survey "
                "in the rule's resurvey action"
            ).format(list=self.list_name)
        if self.reason in ResurveySkip.values:
            return str(ResurveySkip(self.reason).label)
        return self.reason
