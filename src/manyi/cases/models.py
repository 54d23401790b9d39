"""Cases: the follow-up of an unhappy response or a complaint, with SLA policies, business calendars,
the root-cause taxonomy, the event log and the escalation ladder."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from manyi.core.i18ntext import LANG_ZH, text_for
from manyi.org.scoping import ScopedModel

from .choices import (
    CaseStatus,
    ContactChannel,
    EventKind,
    HolidayKind,
    Priority,
    Resolution,
    ResurveyStatus,
    RoutingMode,
    SlaTrack,
)


class RootCause(models.Model):
    """One node of the organisation's two-level root-cause taxonomy (top level has no parent)."""

    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.JSONField(_("name"), help_text=_('One name per language, e.g. {"zh-hans": "…", "en": "…"}'))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("root cause")
        verbose_name_plural = _("root causes")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.code

    def display_name(self, language: str) -> str:
        return text_for(self.name, language, LANG_ZH) or self.code

    def full_name(self, language: str) -> str:
        """ "Process › Waiting time": the parent's name, then this node's."""
        if self.parent is None:
            return self.display_name(language)
        return f"{self.parent.display_name(language)} › {self.display_name(language)}"


class SlaPolicy(ScopedModel):
    """Targets for first response and resolution, in business hours, for cases matching it.

    A policy set at a unit applies to its whole subtree; blank priority or channel match any. The
    most specific matching policy wins: more of priority/channel set first, then the deepest unit.
    """

    scope_includes_ancestors = True

    name = models.CharField(_("name"), max_length=120)
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="sla_policies")
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices, blank=True)
    channel = models.CharField(_("channel"), max_length=16, blank=True)
    first_response_hours = models.DecimalField(
        _("first response (business hours)"), max_digits=7, decimal_places=2
    )
    resolution_hours = models.DecimalField(_("resolution (business hours)"), max_digits=7, decimal_places=2)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["unit__path", "priority", "channel", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "priority", "channel"],
                condition=models.Q(is_active=True),
                name="sla_policy_one_active_per_match",
            )
        ]

    def __str__(self) -> str:
        return self.name


class BusinessCalendar(ScopedModel):
    """A unit's working hours per weekday and which public-holiday calendar it follows.

    Units without a calendar use their nearest ancestor's; with none at all, Monday–Friday 09:00–18:00.
    ``hours`` maps ISO weekday numbers ("1" = Monday … "7" = Sunday) to [["09:00", "18:00"], …].
    """

    unit = models.OneToOneField("org.OrgUnit", on_delete=models.CASCADE, related_name="business_calendar")
    hours = models.JSONField(_("working hours"))
    holiday_region = models.CharField(_("public holidays"), max_length=8, blank=True, default="CN")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return f"calendar of {self.unit_id}"


class CaseRouting(ScopedModel):
    """How a unit's new cases are assigned: to its manager (the default), by round-robin within a
    team, or left for someone to pick by hand. Units without one follow their nearest ancestor's."""

    unit = models.OneToOneField("org.OrgUnit", on_delete=models.CASCADE, related_name="case_routing")
    mode = models.CharField(
        _("assignment"), max_length=16, choices=RoutingMode.choices, default=RoutingMode.MANAGER
    )
    team = models.ForeignKey(
        "org.OrgUnit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The short survey a closed case's customer is asked; without one, the survey they answered.
    resurvey = models.ForeignKey(
        "surveys.Survey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("case routing")

    def __str__(self) -> str:
        return f"{self.unit_id}:{self.mode}"


class Holiday(models.Model):
    """A public holiday, or a make-up workday (调休) on a weekend, in one holiday region."""

    region = models.CharField(_("region"), max_length=8, default="CN")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=8, choices=HolidayKind.choices)
    name = models.JSONField(_("name"))

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["region", "date"]
        constraints = [models.UniqueConstraint(fields=["region", "date"], name="holiday_region_date")]

    def __str__(self) -> str:
        return f"{self.region} {self.date} {self.kind}"


class Case(ScopedModel):
    """A follow-up owed to a customer, opened from a response or a feedback record."""

    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="cases")
    response = models.OneToOneField(
        "responses.Response", on_delete=models.SET_NULL, null=True, blank=True, related_name="case"
    )
    feedback = models.OneToOneField(
        "feedback.FeedbackRecord", on_delete=models.SET_NULL, null=True, blank=True, related_name="case"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(_("status"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.NEW)
    priority = models.CharField(
        _("priority"), max_length=16, choices=Priority.choices, default=Priority.NORMAL
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    # The team (an org unit of kind team) whose members share the case by round-robin.
    team = models.ForeignKey(
        "org.OrgUnit", on_delete=models.SET_NULL, null=True, blank=True, related_name="team_cases"
    )
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), db_index=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    # Where the case came from: a rule version of manyi.rules (an id, so cases never import rules).
    rule_version_id = models.PositiveBigIntegerField(null=True, blank=True)
    sla_policy = models.ForeignKey(
        SlaPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    # Targets copied from the policy when the case opened, in business seconds, so editing a
    # policy never moves the clocks of cases already running.
    first_response_target = models.PositiveIntegerField(null=True, blank=True)
    resolution_target = models.PositiveIntegerField(null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    # Set while the case waits for the customer: the SLA clock is stopped since then.
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    # Highest escalation step reached so far (0, 50, 100, 150) and when the next one is due.
    escalation_level = models.PositiveSmallIntegerField(default=0, db_default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True, db_index=True)
    reopen_count = models.PositiveSmallIntegerField(_("reopened"), default=0, db_default=0)

    root_cause = models.ForeignKey(
        RootCause, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    resolution = models.CharField(
        _("resolution"), max_length=16, choices=Resolution.choices, blank=True, default="", db_default=""
    )
    compensation_amount = models.DecimalField(
        _("compensation amount"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    compensation_voucher = models.CharField(
        _("voucher"), max_length=64, blank=True, default="", db_default=""
    )
    resolution_note = models.TextField(_("resolution note"), blank=True, default="", db_default="")

    resurvey_link = models.ForeignKey(
        "surveys.SurveyLink", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resurvey_sent_at = models.DateTimeField(_("re-survey sent"), null=True, blank=True)
    resurvey_status = models.CharField(
        _("re-survey"), max_length=16, choices=ResurveyStatus.choices, blank=True, default="", db_default=""
    )

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["unit", "status"], name="case_unit_status"),
            models.Index(fields=["assignee", "status"], name="case_assignee_status"),
        ]

    def __str__(self) -> str:
        return f"case {self.pk}"

    @property
    def source(self) -> dict[str, object] | None:
        """{"type": "response"|"feedback", "id": …}: what opened the case."""
        if self.response_id is not None:
            return {"type": "response", "id": self.response_id}
        if self.feedback_id is not None:
            return {"type": "feedback", "id": self.feedback_id}
        return None


class CaseEvent(ScopedModel):
    """One line of a case's timeline: a note, a message to or from the customer, a change."""

    scope_unit_field = "case__unit"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=16, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField(_("text"), blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=ContactChannel.choices, blank=True)
    from_status = models.CharField(max_length=16, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=CaseStatus.choices, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), db_index=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.kind}"


class CaseEscalation(ScopedModel):
    """One step of the escalation ladder that fired for a case; each step fires exactly once."""

    scope_unit_field = "case__unit"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="escalations")
    track = models.CharField(_("clock"), max_length=16, choices=SlaTrack.choices)
    level = models.PositiveSmallIntegerField(_("percent of target"))
    # The case's reopen count when the step fired: a reopened case climbs the ladder again.
    cycle = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField(_("step due"))
    fired_at = models.DateTimeField(_("fired"))
    recipients = models.JSONField(_("recipients"), default=list)
    notified = models.BooleanField(_("notified"), default=False)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["fired_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "track", "level", "cycle"], name="case_escalation_once")
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.track}@{self.level}"
