"""Alert rules (what to watch) and alerts (what was found, once per rule, unit and period)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from manyi.org.scoping import ScopedModel

from .choices import AlertCondition, AlertLevel, AlertMetric, AlertPeriod, AlertStatus


class AlertRule(ScopedModel):
    """A condition on a metric over the units under ``unit``, e.g. "a store's NPS drops
    significantly week over week" or "CSAT < 80 % with n ≥ 50"."""

    name = models.CharField(_("name"), max_length=120)
    metric = models.CharField(_("metric"), max_length=8, choices=AlertMetric.choices)
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="alert_rules")
    level = models.CharField(_("level"), max_length=16, choices=AlertLevel.choices, blank=True, default="")
    condition = models.CharField(_("condition"), max_length=16, choices=AlertCondition.choices)
    period = models.CharField(
        _("period"), max_length=8, choices=AlertPeriod.choices, default=AlertPeriod.WEEK
    )
    threshold = models.FloatField(
        _("threshold"), null=True, blank=True, help_text=_("NPS points or CSAT percent; CES in scale units.")
    )
    min_n = models.PositiveIntegerField(_("minimum n"), default=30)
    confidence = models.FloatField(_("confidence"), default=0.95)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Alert(ScopedModel):
    """What a rule found for one unit and one period; written once (the rule × unit × period is unique)."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="alerts")
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    metric = models.CharField(_("metric"), max_length=8, choices=AlertMetric.choices)
    n = models.PositiveIntegerField(_("n"), default=0)
    value = models.FloatField(_("value"), null=True)
    ci_low = models.FloatField(null=True)
    ci_high = models.FloatField(null=True)
    previous_value = models.FloatField(_("previous value"), null=True)
    delta = models.FloatField(_("change"), null=True)
    p_value = models.FloatField(_("p-value"), null=True)
    expected = models.FloatField(_("expected"), null=True)
    message = models.TextField(_("message"))
    status = models.CharField(
        _("status"), max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "unit", "period_start"], name="alert_once_per_rule_unit_period"
            )
        ]

    def __str__(self) -> str:
        return f"alert {self.pk}"
