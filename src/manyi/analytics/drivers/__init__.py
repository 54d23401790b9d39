"""Why customers are satisfied: key drivers, importance–performance, SERVQUAL gaps, CSI weights, segments.

Pure Python on NumPy and SciPy, no Django: the same functions run in a notebook, in ``manyi drivers``
on a file, and behind the console's Drivers page::

    >>> from manyi.analytics import drivers
    >>> y, how = drivers.code_outcome(df.satisfaction, "binary", positive="satisfied")
    >>> result = drivers.key_drivers(df[attrs], y, outcome_type="binary", na_values=[0])
    >>> [(d.attribute, d.share, d.ci_low, d.ci_high, d.quadrant) for d in result.drivers]
    >>> drivers.segment_drivers(df[attrs], y, df["Type of Travel"], outcome_type="binary")
    >>> drivers.servqual_gaps(perception, expectation, dimensions={"clean": "tangibles", ...})
    >>> drivers.driver_csi(df[attrs], result, scale_min=1, scale_max=5, na_values=(0,))

Data that cannot be analysed (a constant or perfectly collinear attribute, too few rows, a single
outcome class, text where a rating belongs) raises :class:`DriverInputError` with a message that
names the column. Submodules load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._core import Driver as Driver
    from ._core import DriverResult as DriverResult
    from ._core import key_drivers as key_drivers
    from ._core import relative_weights as relative_weights
    from ._core import shapley_r2 as shapley_r2
    from ._core import subset_r2 as subset_r2
    from ._core import vif as vif
    from ._core import weighted_correlation as weighted_correlation
    from ._csi import DriverCsi as DriverCsi
    from ._csi import driver_csi as driver_csi
    from ._errors import DriverInputError as DriverInputError
    from ._ipa import QUADRANTS as QUADRANTS
    from ._ipa import Ipa as Ipa
    from ._ipa import IpaPoint as IpaPoint
    from ._ipa import ipa as ipa
    from ._outcome import code_outcome as code_outcome
    from ._segments import SegmentAnalysis as SegmentAnalysis
    from ._segments import SegmentDifference as SegmentDifference
    from ._segments import segment_drivers as segment_drivers
    from ._servqual import DIMENSIONS as DIMENSIONS
    from ._servqual import Gap as Gap
    from ._servqual import Servqual as Servqual
    from ._servqual import servqual_gaps as servqual_gaps

_WHERE = {
    "Driver": "_core",
    "DriverResult": "_core",
    "key_drivers": "_core",
    "relative_weights": "_core",
    "shapley_r2": "_core",
    "subset_r2": "_core",
    "vif": "_core",
    "weighted_correlation": "_core",
    "DriverCsi": "_csi",
    "driver_csi": "_csi",
    "DriverInputError": "_errors",
    "QUADRANTS": "_ipa",
    "Ipa": "_ipa",
    "IpaPoint": "_ipa",
    "ipa": "_ipa",
    "code_outcome": "_outcome",
    "SegmentAnalysis": "_segments",
    "SegmentDifference": "_segments",
    "segment_drivers": "_segments",
    "DIMENSIONS": "_servqual",
    "Gap": "_servqual",
    "Servqual": "_servqual",
    "servqual_gaps": "_servqual",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
