"""Scoping probes for the builder, responses-export and jobs pages (used by test_scoping.py)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings

from manyi.core.models import BulkJob
from manyi.surveys.actions import do_create_link
from manyi.surveys.choices import LinkKind

Probes = dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]]


def builder_probes(w: Any) -> Probes:
    """The survey builder: store A's own survey against store C's (and C's QR sheet)."""
    a, c, org = w.a, w.c, w.org
    do_create_link(survey=c.survey, kind=LinkKind.UNIT, unit=org.store_c)
    own, other = [{"pk": a.survey.pk}], [{"pk": c.survey.pk}]
    return {
        "console:builder_edit": (own, other),
        "console:builder_question": (
            [{"pk": a.survey.pk, "code": "nps"}],
            [{"pk": c.survey.pk, "code": "nps"}],
        ),
        "console:builder_preview": (own, other),
        "console:builder_publish": (own, other),
        "console:builder_distribute": (own, other),
        # The company survey's sheet holds store A's QR code only, for store A's manager.
        "console:builder_qr_sheet": ([{"pk": org.survey.pk}], other),
    }


def _job(user: Any, direction: str) -> BulkJob:
    folder = Path(settings.DATA_DIR) / ("exports" if direction == "export" else "imports")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"probe-{uuid.uuid4().hex}.csv"
    path.write_text("row,column,value,reason\n2,score,11,out of range\n", encoding="utf-8")
    return BulkJob.objects.create(
        direction=direction,
        kind="responses",
        user=user,
        status="done",
        output=str(path),
        summary={"read": 1, "rejected": 1},
        options={"format": "csv"},
    )


def job_probes(w: Any) -> Probes:
    """Finished export and import jobs of store A's manager and of store C's, with their files."""
    mine = {d: _job(w.org.manager_a, d) for d in ("export", "import")}
    theirs = {d: _job(w.org.manager_c, d) for d in ("export", "import")}
    return {
        "console:job_detail": ([{"pk": mine["export"].pk}], [{"pk": theirs["export"].pk}]),
        "console:job_progress": ([{"pk": mine["import"].pk}], [{"pk": theirs["import"].pk}]),
        "console:job_download": ([{"pk": mine["export"].pk}], [{"pk": theirs["export"].pk}]),
        "console:job_errors": ([{"pk": mine["import"].pk}], [{"pk": theirs["import"].pk}]),
    }
