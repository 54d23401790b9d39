"""Ids of store A's and store C's rule pages for the console scoping walk (tests/console/test_scoping.py)."""

from __future__ import annotations

from typing import Any

from manyi.rules.models import Rule


def rule_probes(w: Any) -> dict[str, tuple[list[dict[str, int]], list[dict[str, int]]]]:
    from .conftest import make_rule

    a = Rule.objects.filter(slug="probe-a").first() or make_rule(
        w.org.store_a, slug="probe-a", name=f"Rule {w.a.customer.external_id}"
    )
    c = Rule.objects.filter(slug="probe-c").first() or make_rule(
        w.org.store_c, slug="probe-c", name=f"Rule of {w.c.customer.external_id}"
    )
    return {
        "console:rule_detail": ([{"pk": a.pk}], [{"pk": c.pk}]),
        "console:complaint_qr_svg": ([{"pk": w.org.store_a.pk}], [{"pk": w.org.store_c.pk}]),
        "console:complaint_qr_png": ([{"pk": w.org.store_a.pk}], [{"pk": w.org.store_c.pk}]),
    }
