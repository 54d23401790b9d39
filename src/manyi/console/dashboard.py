"""The home dashboard's figures for one reader and one set of filters.

Every figure comes from the analytics runner (:func:`manyi.analytics.run`), which counts in SQL and
estimates with :mod:`manyi.metrics`; nothing here loops over responses. The runner reads the DuckDB
store when the store has copied every response and answer (its watermark is at the newest id), and
the operational database otherwise, so a number is never stale. Filters the store does not hold
(channel, customer tier, language) run the same queries on the operational tables, narrowed by a
subquery (:class:`FilteredEngine`).

Scope is decided once, from :func:`manyi.org.scoping.scope_paths`, and passed to every query.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, F, Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from manyi.analytics.engines import DatabaseEngine, DuckDBEngine, Engine
from manyi.analytics.query import KIND_DIMENSIONS, Filters, MetricQuery
from manyi.analytics.runner import QueryResult, run
from manyi.analytics.sql import Dialect
from manyi.cases.models import Case
from manyi.metrics import Comparison, Estimate
from manyi.org.models import OrgUnit
from manyi.org.scoping import scope_paths
from manyi.responses.models import Answer, Response

from .filters import ConsoleFilters
from .queries import OPEN_CASE_EXCLUDED

logger = logging.getLogger(__name__)

MIN_N = 30
CONFIDENCE = 0.95
HEADLINE = ("nps", "csat", "ces")
METRICS = ("nps", "csat", "ces", "csi")
#: The CSI dimensions: the rows of the ``csi`` rating matrix of the store survey template (1–5).
CSI_QUESTION = "csi"
CSI_DIMENSIONS = ("tangibles", "reliability", "responsiveness", "assurance", "empathy")
CSI_CODES = tuple(f"{CSI_QUESTION}.{d}" for d in CSI_DIMENSIONS)
#: Ranges up to this many days are trended by day, longer ones by month.
DAILY_UP_TO = 92
LATEST_COMMENTS = 8
LEAGUE_LIMIT = 200


def bucket_labels() -> dict[str, str]:
    return {
        "promoter": _("Promoters (9–10)"),
        "passive": _("Passives (7–8)"),
        "detractor": _("Detractors (0–6)"),
    }


def metric_labels() -> dict[str, str]:
    return {
        "nps": _("NPS"),
        "csat": _("CSAT"),
        "ces": _("CES"),
        "csi": _("CSI"),
    }


def metric_help() -> dict[str, str]:
    return {
        "nps": _("Net Promoter Score: promoters (9–10) minus detractors (0–6), in points from −100 to 100"),
        "csat": _("Customer satisfaction: the share answering 4 or 5 on a 1–5 scale, in percent"),
        "ces": _("Customer effort: the mean answer on a 1–7 scale (higher is easier)"),
        "csi": _(
            "Customer satisfaction index: the mean of the five service dimensions rated 1–5, rescaled to 0–100"
        ),
    }


UNITS = {"nps": "", "csat": "%", "ces": "", "csi": ""}


# --- engines ------------------------------------------------------------------------------------


class FilteredEngine:
    """The operational engine with responses narrowed by channel, customer tier and language.

    The values are literals checked by :func:`manyi.console.filters.parse_filters` against fixed
    choices (and again here), so they are written into the subquery rather than bound.
    """

    def __init__(self, base: DatabaseEngine, f: ConsoleFilters) -> None:
        from manyi.customers.models import Customer

        responses = Response._meta.db_table
        answers = Answer._meta.db_table
        cond: list[str] = []
        join = ""
        for column, value in (("channel", f.channel), ("language", f.lang)):
            if value:
                cond.append(f"r0.{column} = '{_literal(value)}'")
        if f.tier:
            join = f" JOIN {Customer._meta.db_table} c0 ON c0.id = r0.customer_id"
            cond.append(f"c0.tier = '{_literal(f.tier)}'")
        sub = f"(SELECT r0.* FROM {responses} r0{join} WHERE {' AND '.join(cond) or '1 = 1'})"
        d = base.dialect
        self._dialect = replace(
            d,
            responses=replace(d.responses, from_sql=f"{sub} f"),
            answers=replace(d.answers, from_sql=f"{answers} f JOIN {sub} r ON r.id = f.response_id"),
        )
        self._base = base

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    def fetch(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        return self._base.fetch(sql, params)


def _literal(value: str) -> str:
    if not value or not all(c.isalnum() or c == "-" for c in value) or not value.isascii():
        raise ValueError(f"not a plain filter value: {value!r}")
    return value


def _store_is_current(engine: DuckDBEngine) -> bool:
    """True when the store has copied every response and answer the operational database holds."""
    marks = dict(engine.con.execute("SELECT fact, last_id FROM sync_state").fetchall())
    newest_response = Response.objects.aggregate(m=Max("id"))["m"] or 0
    # The store copies numeric answers only, so its watermark is the newest numeric answer's id.
    newest_answer = (
        Answer.objects.filter(number__isnull=False).order_by("-id").values_list("id", flat=True).first() or 0
    )
    # Equal, not "at least": a store copied from another database (a higher watermark) is not ours.
    return (
        int(marks.get("responses", -1)) == newest_response and int(marks.get("answers", -1)) == newest_answer
    )


@contextmanager
def dashboard_engine(f: ConsoleFilters, prefer: str = "auto") -> Iterator[Engine]:
    """The engine for these filters: the store when it can answer and is current, else the database.

    ``prefer`` is ``auto``, ``store`` (fail without a store) or ``database``.
    """
    if f.has_response_filters:
        yield FilteredEngine(DatabaseEngine(), f)
        return
    if prefer != "database":
        from manyi.analytics.store import default_path, read_connection

        path = default_path()
        if path.exists() or prefer == "store":
            with read_connection(path) as con:
                engine = DuckDBEngine(con)
                if prefer == "store" or _store_is_current(engine):
                    yield engine
                    return
    yield DatabaseEngine()


# --- figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    """One metric for the period: its estimate, the previous period's and the change between them."""

    metric: str
    label: str
    help: str
    unit: str
    estimate: Estimate
    previous: Estimate | None
    comparison: Comparison | None
    href: str

    @property
    def change_state(self) -> str:
        """``up``/``down`` when the change is significant, ``flat`` when not, ``none`` without one."""
        c = self.comparison
        if c is None or c.delta is None:
            return "none"
        if not c.significant:
            return "flat"
        return "up" if c.delta > 0 else "down"

    @property
    def better(self) -> bool | None:
        """Whether a significant change is for the better (every metric here: higher is better)."""
        c = self.comparison
        if c is None or c.delta is None or not c.significant:
            return None
        return c.delta > 0


@dataclass(frozen=True)
class Point:
    period: str
    date_from: date
    date_to: date
    estimate: Estimate
    href: str
    alert: bool = False
    q_value: float | None = None


@dataclass(frozen=True)
class LeagueRow:
    unit: OrgUnit
    name: str
    estimate: Estimate
    href: str


@dataclass(frozen=True)
class Bucket:
    key: str
    label: str
    count: int
    share: float | None
    href: str


@dataclass(frozen=True)
class CaseSummary:
    open: int
    overdue: int
    closed_in_period: int
    closed_on_time: int
    attainment: Estimate | None
    href: str


@dataclass(frozen=True)
class Comment:
    response: Response
    sentiment: str  # positive / neutral / negative / ""
    score: float | None
    aspects: list[tuple[str, str]]  # (aspect code, sentiment), each aspect once
    #: (name in the page's language, sentiment, link to the responses naming it), each aspect once
    labelled: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class RecordedAlert:
    """An alert the alert rules raised for a unit in view, in the period shown."""

    unit_name: str
    period_start: date
    period_end: date
    message: str
    value: float | None
    delta: float | None
    status: str
    href: str


@dataclass
class Dashboard:
    """Everything the home page shows."""

    filters: ConsoleFilters
    metric: str
    source: str
    tiles: list[Tile] = field(default_factory=list)
    trend: list[Point] = field(default_factory=list)
    trend_grain: str = "day"
    overall: Estimate | None = None
    league: list[LeagueRow] = field(default_factory=list)
    league_parent: OrgUnit | None = None
    distribution: list[Bucket] = field(default_factory=list)

    @property
    def league_has_answers(self) -> bool:
        """True when some unit of the league has answers (else the chart would be an empty frame)."""
        return any(r.estimate.n for r in self.league)

    aspects: list[dict[str, Any]] | None = None  # None: no text analysis in the store yet
    comments: list[Comment] = field(default_factory=list)
    cases: CaseSummary | None = None
    alerts: list[RecordedAlert] = field(default_factory=list)


def list_url(f: ConsoleFilters, **overrides: Any) -> str:
    """The responses list behind a chart element: the same filters plus the drill-down ones."""
    return f"{reverse('console:response_list')}?{f.query_string(drill=False, **overrides)}"


def _empty_estimate(metric: str) -> Estimate:
    return Estimate(metric, None, None, None, None, 0, 0.0, CONFIDENCE, "none", True)


def _query(metric: str, filters: Filters, **kw: Any) -> MetricQuery:
    if metric == "csi":
        return MetricQuery(
            "mean",
            replace(filters, questions=CSI_CODES),
            group_by=("question", *kw.pop("group_by", ())),
            scale_min=1,
            scale_max=5,
            confidence=CONFIDENCE,
            min_n=MIN_N,
            **kw,
        )
    return MetricQuery(metric, filters, confidence=CONFIDENCE, min_n=MIN_N, **kw)  # type: ignore[arg-type]


def csi_estimate(dimensions: list[Estimate]) -> Estimate:
    """CSI (0–100) from the mean rating of each dimension, with a conservative interval.

    The index is the unweighted mean of the dimension means, rescaled from 1–5 to 0–100. The
    dimensions are rated by the same people, so their errors are positively correlated; the
    standard error used is the mean of the dimensions' standard errors, the largest it can be
    (perfect correlation), so the interval never claims more precision than the data hold.
    """
    dims = [d for d in dimensions if d.value is not None]
    if not dims:
        return _empty_estimate("csi")
    n = max(d.n for d in dims)
    value = (sum(d.value or 0.0 for d in dims) / len(dims) - 1) / 4 * 100
    ses = [d.se for d in dims if d.se is not None]
    if not ses or len(ses) < len(dims):
        return Estimate(
            "csi", value, None, None, None, n, float(n), CONFIDENCE, "csi-conservative", n < MIN_N
        )
    se = sum(ses) / len(ses) / 4 * 100
    z = _z(CONFIDENCE)
    return Estimate(
        "csi",
        value,
        max(0.0, value - z * se),
        min(100.0, value + z * se),
        se,
        n,
        float(n),
        CONFIDENCE,
        "csi-conservative",
        n < MIN_N,
    )


def _z(confidence: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + confidence / 2)


def compare_estimates(a: Estimate, b: Estimate) -> Comparison:
    """``a − b`` with a normal interval and two-sided p-value from the two standard errors."""
    if a.value is None or b.value is None or a.se is None or b.se is None:
        return Comparison(a.metric, a, b, None, None, None, None, None, CONFIDENCE, "normal")
    delta = a.value - b.value
    se = math.hypot(a.se, b.se)
    z = _z(CONFIDENCE)
    p = math.erfc(abs(delta) / se / math.sqrt(2)) if se > 0 else (0.0 if delta else 1.0)
    return Comparison(a.metric, a, b, delta, delta - z * se, delta + z * se, se, p, CONFIDENCE, "normal")


def _csi_by(result: QueryResult, key: str | None) -> dict[Any, Estimate]:
    """Group CSI rows (one per dimension and ``key``) into one CSI estimate per ``key`` value."""
    grouped: dict[Any, list[Estimate]] = {}
    for row in result.rows:
        k = (row.period if key == "period" else row.group.get(key)) if key else None
        grouped.setdefault(k, []).append(row.estimate)
    return {k: csi_estimate(v) for k, v in grouped.items()}


def tiles(f: ConsoleFilters, engine: Engine, scope: list[str] | None) -> tuple[list[Tile], QueryResult]:
    """The four metric tiles; also returns the NPS result (its counts give the distribution)."""
    filters = f.analytics_filters()
    labels, helps = metric_labels(), metric_help()
    out: list[Tile] = []
    nps_result: QueryResult | None = None
    for metric in HEADLINE:
        result = run(_query(metric, filters, compare_previous=True), engine, scope=scope)
        row = result.rows[0]
        if metric == "nps":
            nps_result = result
        out.append(
            Tile(
                metric,
                labels[metric],
                helps[metric],
                UNITS[metric],
                row.estimate,
                row.previous,
                row.comparison,
                list_url(f, metric=metric),
            )
        )
    now = _csi_by(run(_query("csi", filters), engine, scope=scope), None).get(None, _empty_estimate("csi"))
    before = _csi_by(run(_query("csi", f.analytics_filters(previous=True)), engine, scope=scope), None).get(
        None, _empty_estimate("csi")
    )
    out.append(
        Tile(
            "csi",
            labels["csi"],
            helps["csi"],
            "",
            now,
            before,
            compare_estimates(now, before),
            list_url(f, metric="csi"),
        )
    )
    assert nps_result is not None
    return out, nps_result


def distribution(f: ConsoleFilters, nps: QueryResult) -> list[Bucket]:
    """Promoters, passives and detractors, from the NPS sums (``Σy = P − D``, ``Σy² = P + D``)."""
    s = nps.sums
    n = int(s.n[0]) if len(s.n) else 0
    s1 = float(s.swy[0]) if n else 0.0
    s2 = float(s.ssd[0]) + (s1 * s1 / n if n else 0.0)
    promoters = round((s2 + s1) / 2)
    detractors = round((s2 - s1) / 2)
    passives = n - promoters - detractors
    names = bucket_labels()
    counts = {"promoter": promoters, "passive": passives, "detractor": detractors}
    return [
        Bucket(
            k, names[k], counts[k], (100 * counts[k] / n) if n else None, list_url(f, metric="nps", bucket=k)
        )
        for k in ("promoter", "passive", "detractor")
    ]


def trend(
    f: ConsoleFilters, metric: str, engine: Engine, scope: list[str] | None, overall: Estimate
) -> tuple[list[Point], str]:
    """The metric per day (per month for long ranges), every point with its interval; alerts marked.

    A point is an alert when its own interval says it differs from the whole period's figure:
    a two-sided test of the point against the period value, with Benjamini–Hochberg adjusted
    p-values over all points (q < 0.05), and only points with at least ``MIN_N`` answers.
    """
    from manyi.metrics import benjamini_hochberg

    grain = "day" if f.days <= DAILY_UP_TO else "month"
    filters = f.analytics_filters()
    if metric == "csi":
        by_period = _csi_by(run(_query("csi", filters, period=grain), engine, scope=scope), "period")
    else:
        result = run(_query(metric, filters, period=grain), engine, scope=scope)
        by_period = {r.period: r.estimate for r in result.rows}
    labels = sorted(k for k in by_period if k is not None)
    p_values: list[float | None] = []
    for label in labels:
        e = by_period[label]
        se = _se_of(e)
        if overall.value is None or e.value is None or not se or e.n < MIN_N:
            p_values.append(None)
        else:
            p_values.append(math.erfc(abs(e.value - overall.value) / se / math.sqrt(2)))
    q: Any = benjamini_hochberg([math.nan if p is None else p for p in p_values]) if labels else []
    points = []
    for i, label in enumerate(labels):
        start, end = _bucket_days(label, grain, f)
        qv = None if p_values[i] is None else float(q[i])
        points.append(
            Point(
                label,
                start,
                end,
                by_period[label],
                list_url(
                    f, metric=metric, period="custom", **{"from": start.isoformat(), "to": end.isoformat()}
                ),
                alert=qv is not None and qv < 0.05,
                q_value=qv,
            )
        )
    return points, grain


def _se_of(e: Estimate) -> float | None:
    """The standard error, or (where it is 0, as for a day of only promoters) the one implied by
    the interval, which the metrics package keeps honest at the edges (adjusted Wald, Wilson)."""
    if e.se:
        return e.se
    if e.ci_low is not None and e.ci_high is not None and e.ci_high > e.ci_low:
        return (e.ci_high - e.ci_low) / (2 * _z(CONFIDENCE))
    return None


def _bucket_days(label: str, grain: str, f: ConsoleFilters) -> tuple[date, date]:
    if grain == "day":
        d = date.fromisoformat(label)
        return d, d
    year, month = (int(x) for x in label.split("-")[:2])
    start = date(year, month, 1)
    end = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
    return max(start, f.date_from), min(end, f.date_to)


def league_units(user: Any, f: ConsoleFilters) -> tuple[OrgUnit | None, list[OrgUnit]]:
    """The units to rank: the children of the chosen unit, or of the reader's one top unit, or
    (when the reader holds several separate units) those units themselves."""
    visible = OrgUnit.objects.visible_to(user).filter(is_active=True)
    parent = f.unit
    if parent is None:
        paths = scope_paths(user)
        tops = list(visible.filter(depth=0) if paths is None else visible.filter(path__in=paths))
        if len(tops) != 1:
            return None, sorted(tops, key=lambda u: u.path)[:LEAGUE_LIMIT]
        parent = tops[0]
    return parent, list(visible.filter(parent=parent).order_by("path")[:LEAGUE_LIMIT])


def league(
    user: Any, f: ConsoleFilters, metric: str, engine: Engine, scope: list[str] | None
) -> tuple[OrgUnit | None, list[LeagueRow]]:
    """Each unit pooled over its whole subtree, best first; small-n units flagged (``suppressed``)."""
    parent, units = league_units(user, f)
    if not units:
        return parent, []
    lang = _lang()
    by_kind: dict[str, list[OrgUnit]] = {}
    for u in units:
        by_kind.setdefault(u.kind, []).append(u)
    estimates: dict[int, Estimate] = {}
    for kind, members in by_kind.items():
        dim = kind if kind in KIND_DIMENSIONS else "unit"
        filters = replace(f.analytics_filters(), units=tuple(u.path for u in members))
        if metric == "csi":
            result = run(_query("csi", filters, group_by=(dim,)), engine, scope=scope)
            for key, est in _csi_by(result, dim).items():
                estimates[int(key)] = est
        else:
            for row in run(_query(metric, filters, group_by=(dim,)), engine, scope=scope).rows:
                estimates[int(row.group[dim])] = row.estimate
    rows = [
        LeagueRow(
            u,
            u.display_name(lang),
            estimates.get(u.pk, _empty_estimate(metric)),
            list_url(f, metric=metric, unit=u.pk),
        )
        for u in units
    ]
    rows.sort(key=lambda r: (r.estimate.value is None, -(r.estimate.value or 0.0), r.name))
    return parent, rows


def _lang() -> str:
    from django.utils.translation import get_language

    return get_language() or "zh-hans"


def latest_comments(user: Any, f: ConsoleFilters) -> list[Comment]:
    """The newest comments in the filters, each with its sentiment and aspects from text analysis."""
    from manyi import textanalytics as ta

    qs = (
        f.apply(Response.objects.visible_to(user), drill=False)
        .exclude(comment="")
        .select_related("unit")
        .only("id", "comment", "nps", "submitted_at", "language", "unit__name", "unit__code", "unit__locale")
        .order_by("-submitted_at", "-id")[:LATEST_COMMENTS]
    )
    out = []
    names = ta.default_taxonomy().names("zh" if _lang().startswith("zh") else "en")
    rank = {"negative": 0, "positive": 1}
    for r in qs:
        try:
            a = ta.analyze(r.comment)
            found: dict[str, str] = {}
            for x in a.aspects:  # an aspect named twice is shown once, by its most critical mention
                if x.aspect not in found or rank.get(x.sentiment, 2) < rank.get(found[x.aspect], 2):
                    found[x.aspect] = x.sentiment
            labelled = [(names.get(k, k), v, list_url(f, aspect=k)) for k, v in found.items()]
            out.append(Comment(r, a.sentiment.label, a.sentiment.score, list(found.items()), labelled))
        except Exception:  # text analysis never raises by contract; a model problem must not hide the comment
            out.append(Comment(r, "", None, []))
    return out


def case_summary(user: Any, f: ConsoleFilters) -> CaseSummary:
    """Open cases now, and SLA attainment: the share of cases closed in the period by their due time."""
    from manyi import metrics

    qs = Case.objects.visible_to(user)
    if f.empty:
        qs = qs.none()
    if f.unit is not None:
        qs = qs.filter(unit__path__startswith=f.unit.path)
    start, end = f.utc_bounds()
    now = timezone.now()
    open_q = ~Q(status__in=OPEN_CASE_EXCLUDED)
    in_period = Q(closed_at__gte=start, closed_at__lt=end, resolution_due__isnull=False)
    agg = qs.aggregate(
        open=Count("id", filter=open_q),
        overdue=Count("id", filter=open_q & Q(resolution_due__lt=now)),
        closed=Count("id", filter=in_period),
        on_time=Count("id", filter=in_period & Q(closed_at__lte=F("resolution_due"))),
    )
    closed, on_time = int(agg["closed"]), int(agg["on_time"])
    attainment = None
    if closed:
        import numpy as np

        attainment = metrics.top_box(
            np.repeat(np.array([2.0, 1.0]), [on_time, closed - on_time]),
            scale_min=1,
            scale_max=2,
            top_k=1,
            min_n=MIN_N,
        )
    return CaseSummary(
        int(agg["open"]), int(agg["overdue"]), closed, on_time, attainment, reverse("console:case_list")
    )


def aspects(
    user: Any, f: ConsoleFilters, engine: Engine, scope: list[str] | None
) -> list[dict[str, Any]] | None:
    """The aspects with the highest share of negative mentions, each against the previous period.

    Read through the runner (``negative_share`` grouped by ``aspect``) from the texts the
    enrichment app has read. ``None`` means there is no text analysis in the reader's scope yet
    (the page says so honestly), or that a filter the text facts do not hold (channel, tier,
    language) is set; ``[]`` means texts were read but none in these filters named an aspect.
    """
    from manyi.enrichment.models import TextEnrichment
    from manyi.enrichment.queries import aspects_by_negative_share

    if f.has_response_filters or not TextEnrichment.objects.visible_to(user).exists():
        return None
    lang = _lang()
    try:
        now = aspects_by_negative_share(
            engine=engine, scope=scope, filters=f.analytics_filters(), limit=6, min_n=MIN_N
        )
        before = {
            a.aspect: a
            for a in aspects_by_negative_share(
                engine=engine, scope=scope, filters=f.analytics_filters(previous=True), limit=100, min_n=MIN_N
            )
        }
    except Exception:  # a store built before text facts existed: say "not yet", never fail the page
        logger.warning("aspects unavailable on %s", engine.dialect.name, exc_info=True)
        return None
    out = []
    for a in now:
        prev = before.get(a.aspect)
        change = significant = None
        if prev is not None and prev.negative_share is not None and a.negative_share is not None:
            change = a.negative_share - prev.negative_share
            p1, p2 = a.negative_share / 100, prev.negative_share / 100
            se = math.sqrt(p1 * (1 - p1) / max(a.n, 1) + p2 * (1 - p2) / max(prev.n, 1)) * 100
            significant = bool(se > 0 and abs(change) / se > _z(CONFIDENCE))
        out.append(
            {
                "aspect": a.aspect,
                "name": a.name(lang),
                "n": a.n,
                "share": a.negative_share,
                "lo": a.ci_low,
                "hi": a.ci_high,
                "small": a.suppressed,
                "previous": prev.negative_share if prev is not None else None,
                "change": change,
                "significant": significant,
                "href": list_url(f, aspect=a.aspect),
            }
        )
    return out


#: How long the figures of one (scope, filters) stay cached. The key holds the newest response and
#: answer ids, so a new answer is seen at once; the time bound only frees memory.
CACHE_SECONDS = 300
CACHED_FIELDS = (
    "source",
    "tiles",
    "distribution",
    "overall",
    "trend",
    "trend_grain",
    "league_parent",
    "league",
    "aspects",
)


def _cache_key(f: ConsoleFilters, metric: str, scope: list[str] | None, prefer: str) -> str:
    import hashlib
    import json

    from django.utils.translation import get_language

    newest = (
        Response.objects.aggregate(m=Max("id"))["m"] or 0,
        Answer.objects.aggregate(m=Max("id"))["m"] or 0,
    )
    raw = json.dumps(
        [
            scope,
            f.params(drill=False),
            f.date_from.isoformat(),
            f.date_to.isoformat(),
            f.empty,
            metric,
            prefer,
            get_language(),
            newest,
        ],
        sort_keys=True,
    )
    return "manyi:dashboard:" + hashlib.sha256(raw.encode()).hexdigest()


def build(user: Any, f: ConsoleFilters, metric: str = "nps", prefer: str = "auto") -> Dashboard:
    """The whole dashboard for ``user`` under ``f``; ``metric`` drives the trend and the league.

    The analytics figures are cached per (scope, filters, focus metric, language, newest ids) for
    ``CACHE_SECONDS``; comments and cases are read fresh on every request.
    """
    from django.core.cache import cache

    metric = metric if metric in METRICS else "nps"
    scope = scope_paths(user)
    if f.empty:
        scope = []
    key = _cache_key(f, metric, scope, prefer) if CACHE_SECONDS else ""
    cached = cache.get(key) if key else None
    if cached is not None:
        dash = Dashboard(filters=f, metric=metric, **cached)
    else:
        with dashboard_engine(f, prefer) as engine:
            dash = Dashboard(filters=f, metric=metric, source=engine.dialect.name)
            dash.tiles, nps = tiles(f, engine, scope)
            dash.distribution = distribution(f, nps)
            dash.overall = next(t.estimate for t in dash.tiles if t.metric == metric)
            dash.trend, dash.trend_grain = trend(f, metric, engine, scope, dash.overall)
            dash.league_parent, dash.league = league(user, f, metric, engine, scope)
            dash.aspects = aspects(user, f, engine, scope)
        if key:
            cache.set(key, {name: getattr(dash, name) for name in CACHED_FIELDS}, CACHE_SECONDS)
    dash.comments = [] if f.empty else latest_comments(user, f)
    dash.cases = _cached_case_summary(user, f, scope)
    dash.alerts = recorded_alerts(user, f, metric)
    return dash


def recorded_alerts(user: Any, f: ConsoleFilters, metric: str, limit: int = 20) -> list[RecordedAlert]:
    """The alerts the alert rules raised on the focus metric for units in view during the period."""
    from manyi.alerts.models import Alert

    if f.empty or metric not in HEADLINE:
        return []
    qs = Alert.objects.visible_to(user).filter(
        metric=metric, period_start__lte=f.date_to, period_end__gte=f.date_from
    )
    if f.unit is not None:
        qs = qs.filter(unit__path__startswith=f.unit.path)
    lang = _lang()
    return [
        RecordedAlert(
            a.unit.display_name(lang),
            a.period_start,
            a.period_end,
            a.message,
            a.value,
            a.delta,
            a.get_status_display(),
            list_url(
                f,
                metric=metric,
                unit=a.unit_id,
                period="custom",
                **{"from": a.period_start.isoformat(), "to": a.period_end.isoformat()},
            ),
        )
        for a in qs.select_related("unit").order_by("-period_start", "-id")[:limit]
    ]


#: Case counts change without a new row (a case is closed), so they are kept for a short time only.
CASES_CACHE_SECONDS = 30


def _cached_case_summary(user: Any, f: ConsoleFilters, scope: list[str] | None) -> CaseSummary:
    """:func:`case_summary`, kept ``CASES_CACHE_SECONDS`` per scope, unit, period and newest case."""
    import hashlib
    import json

    from django.core.cache import cache

    if not CACHE_SECONDS or not CASES_CACHE_SECONDS:
        return case_summary(user, f)
    newest = Case.objects.aggregate(m=Max("id"))["m"] or 0
    raw = json.dumps(
        [scope, f.unit.pk if f.unit else None, str(f.date_from), str(f.date_to), f.empty, newest]
    )
    key = "manyi:dashboard-cases:" + hashlib.sha256(raw.encode()).hexdigest()
    cached = cache.get(key)
    if cached is None:
        cached = case_summary(user, f)
        cache.set(key, cached, CASES_CACHE_SECONDS)
    return cached


def chart_data(dash: Dashboard) -> dict[str, Any]:
    """What the charts draw, as plain JSON (the tables beside them show the same numbers)."""

    def est(e: Estimate) -> dict[str, Any]:
        return {
            "value": _r(e.value),
            "lo": _r(e.ci_low),
            "hi": _r(e.ci_high),
            "n": e.n,
            "small": bool(e.suppressed),
        }

    return {
        "metric": dash.metric,
        "metricLabel": metric_labels()[dash.metric],
        "overall": est(dash.overall) if dash.overall else None,
        "trend": [
            {
                "period": p.period,
                "href": p.href,
                # Marked: an anomaly found here, or an alert the alert rules raised in this bucket.
                "alert": p.alert
                or any(a.period_start <= p.date_to and a.period_end >= p.date_from for a in dash.alerts),
                **est(p.estimate),
            }
            for p in dash.trend
        ],
        "league": [{"name": r.name, "href": r.href, **est(r.estimate)} for r in dash.league],
        "distribution": [
            {"key": b.key, "label": b.label, "count": b.count, "share": _r(b.share), "href": b.href}
            for b in dash.distribution
        ],
        "labels": {
            # xgettext:no-python-format
            "interval": _("95% interval"),
            "alert": _("Alert: differs from the period"),
            "smallN": _("fewer than {n} answers").format(n=MIN_N),
            "n": _("n"),
        },
    }


def _r(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 2)


__all__ = ["Dashboard", "build", "chart_data", "compare_estimates", "csi_estimate", "list_url"]
