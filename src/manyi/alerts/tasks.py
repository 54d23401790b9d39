"""Periodic work: evaluate the alert rules (idempotent: an alert is written once per rule × unit × period)."""

from __future__ import annotations

from typing import Any

from django.tasks import task


@task()
def evaluate_alert_rules() -> dict[str, Any]:
    """Evaluate every active rule for its last complete period and record what it finds."""
    from .actions import do_evaluate_alert_rules

    return do_evaluate_alert_rules().as_dict()


#: Hourly: a day's or week's figures change as late responses arrive; alerts for a period are
#: written once, the first time the condition holds.
PERIODIC = [(evaluate_alert_rules, 3600)]
