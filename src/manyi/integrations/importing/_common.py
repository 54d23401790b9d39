"""Lookups and cell checks shared by the import kinds."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.db import connection

from manyi.core.i18ntext import normalize_language
from manyi.org.models import OrgUnit

from ._errors import Reject
from ._read import cell_text

T = TypeVar("T")
IN_CHUNK = 900  # stays under every backend's limit on query parameters


@dataclass(frozen=True)
class UnitInfo:
    id: int
    path: str
    tz: ZoneInfo


class Units:
    """Org units by code, limited to what ``user`` may read (everything for the command line)."""

    def __init__(self, user: Any = None) -> None:
        qs = OrgUnit.objects.all() if user is None else OrgUnit.objects.visible_to(user)
        zones: dict[str, ZoneInfo] = {}
        self.by_code: dict[str, UnitInfo] = {}
        for pk, code, path, tz in qs.values_list("id", "code", "path", "timezone"):
            zone = zones.get(tz) or zones.setdefault(tz, ZoneInfo(tz))
            self.by_code[code] = UnitInfo(pk, path, zone)

    def get(self, code: str) -> UnitInfo:
        unit = self.by_code.get(code)
        if unit is None:
            raise Reject("is not an org unit code you can import into")
        return unit


def chunks[T](items: list[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else cell_text(value).strip()


def language(value: str) -> str:
    lang = normalize_language(value)
    if lang is None:
        raise Reject("must be zh-hans or en")
    return lang


TRUE = frozenset({"1", "yes", "y", "true", "t", "on", "是", "同意"})
FALSE = frozenset({"0", "no", "n", "false", "f", "off", "否", "不同意"})


def boolean(value: str) -> bool:
    v = value.strip().lower()
    if v in TRUE:
        return True
    if v in FALSE:
        return False
    raise Reject("must be yes or no")


def choice(value: str, allowed: Iterable[str]) -> str:
    v = value.strip().lower()
    allowed = list(allowed)
    if v not in allowed:
        raise Reject("must be one of " + ", ".join(allowed))
    return v


def max_len(value: str, n: int) -> str:
    if len(value) > n:
        raise Reject(f"is longer than {n} characters")
    return value


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


NOT_YOURS = "belongs to a record in a unit you cannot import into"


def hidden_ids(model: Any, ids: list[int], user: Any) -> set[int]:
    """Of these existing records, the ones ``user`` may not read (none for the command line)."""
    if user is None or not ids:
        return set()
    visible: set[int] = set()
    for part in chunks(ids):
        visible.update(model.objects.visible_to(user).filter(pk__in=part).values_list("id", flat=True))
    return set(ids) - visible
