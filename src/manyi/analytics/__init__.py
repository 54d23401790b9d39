"""Analytics: typed metric queries run by one runner on the DuckDB store or the operational database.

::

    >>> from manyi.analytics import Filters, MetricQuery, run, store_engine
    >>> q = MetricQuery("nps", Filters(date_from=d0, date_to=d1), group_by=("region",), compare_previous=True)
    >>> with store_engine() as engine:
    ...     result = run(q, engine, scope=scope_paths(user))

The store (:mod:`manyi.analytics.store`) is an embedded DuckDB file in the data dir, rebuilt by
``manyi analytics rebuild`` and appended to by ``manyi analytics sync`` or the ``sync_store`` task.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engines import DatabaseEngine as DatabaseEngine
    from .engines import DuckDBEngine as DuckDBEngine
    from .engines import Engine as Engine
    from .engines import store_engine as store_engine
    from .query import Dimension as Dimension
    from .query import Filters as Filters
    from .query import Metric as Metric
    from .query import MetricQuery as MetricQuery
    from .query import Period as Period
    from .runner import QueryResult as QueryResult
    from .runner import ResultRow as ResultRow
    from .runner import run as run

_WHERE = {
    "DatabaseEngine": "engines",
    "DuckDBEngine": "engines",
    "Engine": "engines",
    "store_engine": "engines",
    "Dimension": "query",
    "Filters": "query",
    "Metric": "query",
    "MetricQuery": "query",
    "Period": "query",
    "QueryResult": "runner",
    "ResultRow": "runner",
    "run": "runner",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    # Imported on first use, so that registering `manyi analytics` keeps `manyi --help` fast.
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
