"""Ids of store A and store C for the case pages that take parameters (tests/console/test_scoping.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from manyi.cases.models import SlaPolicy


def _policy(unit: Any, name: str) -> SlaPolicy:
    policy, _ = SlaPolicy.objects.get_or_create(
        unit=unit,
        priority="urgent",
        channel="",
        defaults={"name": name, "first_response_hours": Decimal(1), "resolution_hours": Decimal(8)},
    )
    return policy


def case_probes(w: Any, c_secret: str) -> dict[str, tuple[list[dict[str, int]], list[dict[str, int]]]]:
    org = w.org
    a_policy = _policy(org.store_a, "urgent at store A")
    c_policy = _policy(org.store_c, f"urgent {c_secret}")
    return {
        "console:case_detail": ([{"pk": w.a.case.pk}], [{"pk": w.c.case.pk}]),
        "console:case_sla_edit": ([{"pk": a_policy.pk}], [{"pk": c_policy.pk}]),
        "console:case_calendar": (
            [{"unit_pk": org.store_a.pk}],
            [{"unit_pk": org.store_c.pk}, {"unit_pk": org.other_region.pk}],
        ),
    }
