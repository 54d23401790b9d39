"""A key-driver analysis, cached per survey, org-unit subtree and segmentation."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from manyi.org.scoping import ScopedModel

from .choices import AnalysisStatus, SegmentBy


class DriverAnalysis(ScopedModel):
    """The drivers of one survey's overall score among the responses of one unit's subtree.

    ``unit`` is None for the whole organisation (read by superusers only; everyone else reads the
    analyses of units in their scope). ``data_mark`` records the responses the analysis saw (their
    count and highest id); when it no longer matches, the periodic refresh recomputes the row.
    """

    survey = models.ForeignKey("surveys.Survey", on_delete=models.CASCADE, related_name="driver_analyses")
    unit = models.ForeignKey(
        "org.OrgUnit", on_delete=models.CASCADE, null=True, blank=True, related_name="driver_analyses"
    )
    # The unit's path, or "*" for the whole organisation: NULLs do not collide in a unique index.
    scope_key = models.CharField(max_length=255)
    segment_by = models.CharField(
        _("segments"), max_length=16, choices=SegmentBy.choices, default=SegmentBy.NONE
    )
    status = models.CharField(_("status"), max_length=16, choices=AnalysisStatus.choices)
    detail = models.TextField(_("detail"), blank=True)
    n_responses = models.PositiveIntegerField(_("responses"), default=0)
    data_mark = models.CharField(max_length=64)
    computed_at = models.DateTimeField(_("computed"))
    seconds = models.FloatField(default=0)
    result = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("driver analysis")
        verbose_name_plural = _("driver analyses")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "scope_key", "segment_by"], name="insights_driver_analysis_once"
            )
        ]

    def __str__(self) -> str:
        return f"drivers of survey {self.survey_id} in {self.scope_key} by {self.segment_by}"
