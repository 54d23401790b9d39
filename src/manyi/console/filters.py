"""The console's filters: one parser for the dashboard, the responses list and their drill-down links.

Query parameters (the names are a contract shared by every console page that filters responses):

=========  ==========================================================================================
``period`` ``7d``, ``30d`` (default), ``90d``, ``month`` (this month), ``last_month``, ``quarter``
           (this quarter), ``last_quarter`` or ``custom`` (then ``from`` and ``to`` are required)
``from``   first day, ``YYYY-MM-DD`` (inclusive); with ``to`` and no ``period``, implies ``custom``
``to``     last day, ``YYYY-MM-DD`` (inclusive)
``unit``   an org unit id within the reader's scope (its whole subtree counts)
``survey`` a survey id the reader may see
``channel`` how the response came in (``link``, ``qr``, ``email``, …: ``responses.choices.Channel``)
``tier``   the customer's value tier (``standard``, ``silver``, ``gold``, ``platinum``)
``lang``   the language the survey was answered in (``zh-hans`` or ``en``)
=========  ==========================================================================================

Drill-down parameters, set by chart elements so that the list shows the responses behind them:

=========  ==========================================================================================
``metric`` ``nps``, ``csat``, ``ces`` or ``csi``: responses that carry that score
``bucket`` ``promoter``, ``passive`` or ``detractor`` (NPS 9–10, 7–8, 0–6)
``question`` a question code: responses that answered it (``csi.tangibles``)
``aspect`` an aspect code from text analysis: responses whose comment mentions it
=========  ==========================================================================================

Days are calendar days in UTC, the same days the analytics store buckets by, so a number on the
dashboard and the list behind it always count the same responses.

Nothing here raises on bad input. A malformed or impossible period falls back to the default with a
message; a value that names something unknown or outside the reader's scope (a forged id, an
unknown channel) gives a message and an *empty* result (:attr:`ConsoleFilters.empty`), never the
unfiltered data and never another unit's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from manyi.customers.models import Tier
from manyi.org.models import OrgUnit
from manyi.responses.choices import Channel
from manyi.surveys.models import Survey

if TYPE_CHECKING:
    from manyi.analytics.query import Filters as AnalyticsFilters
    from manyi.responses.models import Response

PERIODS = ("7d", "30d", "90d", "month", "last_month", "quarter", "last_quarter", "custom")
DEFAULT_PERIOD = "30d"
METRICS = ("nps", "csat", "ces", "csi")
BUCKETS = ("promoter", "passive", "detractor")
LANGS = ("zh-hans", "en")
#: The longest custom range, in days (about three years): longer asks are refused, not clipped.
MAX_DAYS = 1100
EARLIEST = date(2000, 1, 1)
#: Every parameter this module reads, in the order links are written.
PARAMS = (
    "period",
    "from",
    "to",
    "unit",
    "survey",
    "channel",
    "tier",
    "lang",
    "metric",
    "bucket",
    "question",
    "aspect",
)
FILTER_PARAMS = PARAMS[:8]
DRILL_PARAMS = PARAMS[8:]


def _period_labels() -> dict[str, str]:
    return {
        "7d": _("Last 7 days"),
        "30d": _("Last 30 days"),
        "90d": _("Last 90 days"),
        "month": _("This month"),
        "last_month": _("Last month"),
        "quarter": _("This quarter"),
        "last_quarter": _("Last quarter"),
        "custom": _("Custom range"),
    }


@dataclass(frozen=True)
class ConsoleFilters:
    """Validated filters. ``unit`` and ``survey`` are objects the reader may see, or ``None``."""

    period: str
    date_from: date
    date_to: date
    unit: OrgUnit | None = None
    survey: Survey | None = None
    channel: str = ""
    tier: str = ""
    lang: str = ""
    metric: str = ""
    bucket: str = ""
    question: str = ""
    aspect: str = ""
    #: Messages for the reader, one per problem, naming the parameter and what was expected.
    errors: tuple[str, ...] = ()
    #: True when a value named something unknown or out of scope: show nothing rather than guess.
    empty: bool = False
    #: The raw values as given, for re-filling the form.
    raw: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    @property
    def period_label(self) -> str:
        if self.period == "custom":
            return _("{start} to {end}").format(
                start=self.date_from.isoformat(), end=self.date_to.isoformat()
            )
        return _period_labels()[self.period]

    @property
    def has_response_filters(self) -> bool:
        """True when a filter needs the operational tables (the store holds no channel, tier or language)."""
        return bool(self.channel or self.tier or self.lang)

    def previous(self) -> tuple[date, date]:
        """The equally long range that ends the day before ``date_from``."""
        return self.date_from - timedelta(days=self.days), self.date_from - timedelta(days=1)

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """``[start, end)`` as aware UTC datetimes: midnight of ``date_from`` to the midnight after ``date_to``."""
        return (
            datetime.combine(self.date_from, time.min, tzinfo=UTC),
            datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=UTC),
        )

    def params(self, *, drill: bool = True, **overrides: Any) -> dict[str, str]:
        """The query parameters that reproduce these filters; ``overrides`` set or (with "") drop some.

        A preset period is written as itself; a custom one as ``from``/``to``. Invalid input is never
        written back: the parameters describe what is actually shown.
        """
        out: dict[str, str] = {"period": self.period}
        if self.period == "custom":
            out["from"] = self.date_from.isoformat()
            out["to"] = self.date_to.isoformat()
        if self.unit is not None:
            out["unit"] = str(self.unit.pk)
        if self.survey is not None:
            out["survey"] = str(self.survey.pk)
        for name in ("channel", "tier", "lang"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if drill:
            for name in DRILL_PARAMS:
                if getattr(self, name):
                    out[name] = getattr(self, name)
        for key, value in overrides.items():
            key = "from" if key == "from_" else key
            if value in (None, ""):
                out.pop(key, None)
            else:
                out[key] = str(value)
        if ("from" in overrides or "from_" in overrides) and "period" not in overrides:
            out["period"] = "custom"
        return {k: out[k] for k in PARAMS if k in out}

    def query_string(self, *, drill: bool = True, **overrides: Any) -> str:
        """:meth:`params` as ``a=1&b=2`` (no leading ``?``)."""
        return urlencode(self.params(drill=drill, **overrides))

    def analytics_filters(self, *, previous: bool = False) -> AnalyticsFilters:
        """The same dates, unit subtree and survey for :class:`manyi.analytics.Filters`."""
        from manyi.analytics.query import Filters

        start, end = self.previous() if previous else (self.date_from, self.date_to)
        return Filters(
            date_from=start,
            date_to=end,
            units=(self.unit.path,) if self.unit is not None else (),
            surveys=(self.survey.pk,) if self.survey is not None else (),
        )

    def apply(self, responses: QuerySet[Response], *, drill: bool = True) -> QuerySet[Response]:
        """Narrow an already scoped queryset of responses (``Response.objects.visible_to(user)``)."""
        if self.empty:
            return responses.none()
        start, end = self.utc_bounds()
        qs = responses.filter(submitted_at__gte=start, submitted_at__lt=end)
        if self.unit is not None:
            qs = qs.filter(unit__path__startswith=self.unit.path)
        if self.survey is not None:
            qs = qs.filter(survey_id=self.survey.pk)
        if self.channel:
            qs = qs.filter(channel=self.channel)
        if self.tier:
            qs = qs.filter(customer__tier=self.tier)
        if self.lang:
            qs = qs.filter(language=self.lang)
        if not drill:
            return qs
        if self.metric in ("nps", "csat", "ces"):
            qs = qs.filter(**{f"{self.metric}__isnull": False})
        elif self.metric == "csi":
            qs = qs.filter(
                answers__question_code__startswith="csi.", answers__number__isnull=False
            ).distinct()
        if self.bucket:
            qs = qs.filter(bucket_q(self.bucket))
        if self.question:
            qs = qs.filter(answers__question_code=self.question).distinct()
        if self.aspect:
            # Responses whose comment (read through its feedback record) or another open-text
            # answer the text models read as naming the aspect.
            qs = qs.filter(
                Q(feedback__enrichment__aspects__aspect=self.aspect)
                | Q(answers__enrichment__aspects__aspect=self.aspect)
            ).distinct()
        return qs


def bucket_q(bucket: str) -> Q:
    """Responses whose NPS answer falls in ``bucket``."""
    return {
        "promoter": Q(nps__gte=9, nps__lte=10),
        "passive": Q(nps__gte=7, nps__lte=8),
        "detractor": Q(nps__gte=0, nps__lte=6),
    }[bucket]


def _first(params: Mapping[str, Any], name: str) -> str:
    """The parameter as one stripped string ("" when absent); a list (QueryDict) gives its last value."""
    getter = getattr(params, "get", None)
    value = getter(name) if getter is not None else None
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = value[-1] if value else ""
    return str(value).strip()[:200]


def _parse_day(raw: str, name: str, errors: list[str]) -> date | None:
    try:
        day = date.fromisoformat(raw)
        if len(raw) != 10:
            raise ValueError
    except ValueError:
        errors.append(
            _("“{name}” must be a date written YYYY-MM-DD, got “{value}”.").format(name=name, value=raw)
        )
        return None
    return day


def preset_range(period: str, today: date) -> tuple[date, date]:
    """The days a preset covers, ending ``today`` (or the last day of the previous month/quarter)."""
    if period in ("7d", "30d", "90d"):
        return today - timedelta(days=int(period[:-1]) - 1), today
    if period == "month":
        return today.replace(day=1), today
    if period == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    first_month = 3 * ((today.month - 1) // 3) + 1
    quarter_start = today.replace(month=first_month, day=1)
    if period == "quarter":
        return quarter_start, today
    if period == "last_quarter":
        end = quarter_start - timedelta(days=1)
        return end.replace(month=3 * ((end.month - 1) // 3) + 1, day=1), end
    raise ValueError(f"unknown period {period!r}")


def parse_filters(user: Any, params: Mapping[str, Any], *, today: date | None = None) -> ConsoleFilters:
    """Read and check the filter parameters for ``user``; never raises on bad input."""
    today = today or timezone.now().astimezone(UTC).date()
    errors: list[str] = []
    empty = False
    raw = {name: _first(params, name) for name in PARAMS}

    # --- the period -------------------------------------------------------------------------------
    period = raw["period"] or ("custom" if raw["from"] or raw["to"] else DEFAULT_PERIOD)
    if period not in PERIODS:
        errors.append(
            _("Unknown period “{value}”; choose one of {choices}. Showing the last 30 days.").format(
                value=period, choices=", ".join(PERIODS)
            )
        )
        period = DEFAULT_PERIOD
    date_from, date_to = preset_range(DEFAULT_PERIOD, today)
    if period == "custom":
        start = _parse_day(raw["from"], "from", errors) if raw["from"] else None
        end = _parse_day(raw["to"], "to", errors) if raw["to"] else None
        if not raw["from"] or not raw["to"]:
            errors.append(_("A custom period needs both “from” and “to” (YYYY-MM-DD)."))
        problem = ""
        if start is not None and end is not None:
            if start > end:
                problem = _("“from” ({start}) is after “to” ({end}).").format(start=start, end=end)
            elif (end - start).days + 1 > MAX_DAYS:
                problem = _("The range is {days} days long; at most {max} days can be shown at once.").format(
                    days=(end - start).days + 1, max=MAX_DAYS
                )
            elif start < EARLIEST or end > today + timedelta(days=1):
                problem = _("Dates must lie between {earliest} and today ({today}).").format(
                    earliest=EARLIEST, today=today
                )
        if problem:
            errors.append(problem)
        if start is not None and end is not None and not problem:
            date_from, date_to = start, end
        else:
            period = DEFAULT_PERIOD
            errors.append(_("Showing the last 30 days instead."))
    else:
        date_from, date_to = preset_range(period, today)

    # --- what the rows belong to ------------------------------------------------------------------
    unit = None
    if raw["unit"]:
        unit = _visible_unit(user, raw["unit"])
        if unit is None:
            errors.append(
                _("Unit “{value}” is not an org unit you can see; nothing is shown.").format(
                    value=raw["unit"]
                )
            )
            empty = True
    survey = None
    if raw["survey"]:
        survey = _visible_survey(user, raw["survey"])
        if survey is None:
            errors.append(
                _("Survey “{value}” is not a survey you can see; nothing is shown.").format(
                    value=raw["survey"]
                )
            )
            empty = True

    def choice(name: str, allowed: tuple[str, ...] | list[str], label: str) -> str:
        nonlocal empty
        value = raw[name]
        if value and value not in allowed:
            errors.append(
                _("Unknown {label} “{value}”; expected one of {choices}. Nothing is shown.").format(
                    label=label, value=value, choices=", ".join(allowed)
                )
            )
            empty = True
            return ""
        return value

    channel = choice("channel", list(Channel.values), _("channel"))
    tier = choice("tier", list(Tier.values), _("customer tier"))
    lang = choice("lang", LANGS, _("language"))
    metric = choice("metric", METRICS, _("metric"))
    bucket = choice("bucket", BUCKETS, _("NPS group"))
    question = raw["question"]
    if question and not _is_code(question):
        errors.append(
            _("“question” must be a question code such as csi.tangibles, got “{value}”.").format(
                value=question
            )
        )
        question, empty = "", True
    aspect = raw["aspect"]
    if aspect and not _is_code(aspect):
        errors.append(
            _("“aspect” must be an aspect code such as waiting, got “{value}”.").format(value=aspect)
        )
        aspect, empty = "", True

    return ConsoleFilters(
        period=period,
        date_from=date_from,
        date_to=date_to,
        unit=unit,
        survey=survey,
        channel=channel,
        tier=tier,
        lang=lang,
        metric=metric,
        bucket=bucket,
        question=question,
        aspect=aspect,
        errors=tuple(errors),
        empty=empty,
        raw=raw,
    )


def _is_code(value: str) -> bool:
    return 0 < len(value) <= 96 and all(c.isalnum() or c in "._-" for c in value) and value.isascii()


def _id(value: str) -> int | None:
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return int(value)


def _visible_unit(user: Any, value: str) -> OrgUnit | None:
    pk = _id(value)
    if pk is None:
        return None
    return OrgUnit.objects.visible_to(user).filter(pk=pk, is_active=True).first()


def _visible_survey(user: Any, value: str) -> Survey | None:
    pk = _id(value)
    if pk is None:
        return None
    return Survey.objects.visible_to(user).filter(pk=pk).first()


@dataclass(frozen=True)
class UnitOption:
    """One line of the unit picker: the unit, indented by its depth below the reader's top units."""

    pk: int
    name: str
    level: int

    @property
    def label(self) -> str:
        """The name indented by its level, so a plain ``<select>`` reads as a tree."""
        return "\u3000" * self.level + ("└ " if self.level else "") + self.name


def unit_options(user: Any, lang: str, limit: int = 2000) -> list[UnitOption]:
    """The units the reader may pick, as a tree in path order (a store manager sees only their store)."""
    units = list(
        OrgUnit.objects.visible_to(user)
        .filter(is_active=True)
        .only("pk", "name", "code", "locale", "depth", "path")
        .order_by("path")[:limit]
    )
    top = min((u.depth for u in units), default=0)
    return [UnitOption(u.pk, u.display_name(lang), max(0, u.depth - top)) for u in units]


def survey_options(user: Any, lang: str) -> list[tuple[int, str]]:
    """The surveys the reader may filter by."""
    return [(s.pk, s.display_name(lang)) for s in Survey.objects.visible_to(user).order_by("id")[:500]]


def choice_options() -> dict[str, list[tuple[str, str]]]:
    """The labelled choices of the fixed filters, for the form."""
    return {
        "periods": list(_period_labels().items()),
        "channels": [(str(v), str(label)) for v, label in Channel.choices],
        "tiers": [(str(v), str(label)) for v, label in Tier.choices],
        "langs": [("zh-hans", "简体中文"), ("en", "English")],
    }
