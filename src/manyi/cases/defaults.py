"""Shipped reference data: the default root-cause taxonomy and the Chinese public holidays.

Both are JSON files in ``cases/data``; the data migration loads them, and ``load_holidays`` can load
a newer holiday file (``manyi cases holidays load FILE``) when the State Council publishes a year.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
HOLIDAYS_CN = DATA / "holidays_cn.json"
ROOT_CAUSES = DATA / "root_causes.json"


class HolidayFileError(ValueError):
    """A holiday file that cannot be loaded; the message names the entry and the problem."""


def holiday_rows(raw: dict[str, Any]) -> list[tuple[str, date, str, dict[str, str]]]:
    """(region, date, kind, name) for every day of a holiday file, checked."""
    region = str(raw.get("region") or "").strip().upper()
    if not region:
        raise HolidayFileError('the file needs a "region", like "CN"')
    rows: dict[date, tuple[str, date, str, dict[str, str]]] = {}
    for i, item in enumerate(raw.get("holidays") or [], start=1):
        try:
            start, end = date.fromisoformat(item["from"]), date.fromisoformat(item["to"])
        except (KeyError, TypeError, ValueError):
            raise HolidayFileError(
                f'holidays entry {i}: "from" and "to" must be dates like 2026-10-01'
            ) from None
        if end < start or (end - start).days > 31:
            raise HolidayFileError(f"holidays entry {i}: {start} to {end} is not a holiday span")
        name = {"zh-hans": str(item.get("zh-hans", "")), "en": str(item.get("en", ""))}
        day = start
        while day <= end:
            rows[day] = (region, day, "holiday", name)
            day += timedelta(days=1)
    for i, item in enumerate(raw.get("workdays") or [], start=1):
        try:
            day = date.fromisoformat(item["date"])
        except (KeyError, TypeError, ValueError):
            raise HolidayFileError(f'workdays entry {i}: "date" must be a date like 2026-02-14') from None
        if day in rows:
            raise HolidayFileError(f"workdays entry {i}: {day} is also listed as a holiday")
        rows[day] = (
            region,
            day,
            "workday",
            {"zh-hans": str(item.get("zh-hans", "")), "en": str(item.get("en", ""))},
        )
    return sorted(rows.values(), key=lambda r: r[1])


def load_holidays(holiday_model: Any, path: Path = HOLIDAYS_CN) -> int:
    """Insert or update the days of a holiday file; returns how many days it holds."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise HolidayFileError(f"{path}: {exc}") from None
    rows = holiday_rows(raw)
    for region, day, kind, name in rows:
        holiday_model.objects.update_or_create(region=region, date=day, defaults={"kind": kind, "name": name})
    return len(rows)


def load_root_causes(root_cause_model: Any) -> int:
    """Create the default taxonomy's missing nodes (never overwrites what an organisation edited)."""
    tree = json.loads(ROOT_CAUSES.read_text(encoding="utf-8"))
    made = 0
    for i, top in enumerate(tree):
        parent, created = root_cause_model.objects.get_or_create(
            code=top["code"], defaults={"name": {"zh-hans": top["zh-hans"], "en": top["en"]}, "position": i}
        )
        made += int(created)
        for j, child in enumerate(top.get("children", [])):
            _c, created = root_cause_model.objects.get_or_create(
                code=child["code"],
                defaults={
                    "name": {"zh-hans": child["zh-hans"], "en": child["en"]},
                    "position": j,
                    "parent": parent,
                },
            )
            made += int(created)
    return made
