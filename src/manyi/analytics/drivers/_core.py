"""Key-driver importance: relative weights, Shapley R² and logistic relative weights, with bootstrap.

Every method works from the correlation matrix of the complete rows (the attributes and the outcome
all answered), so a bootstrap resample costs one weighted cross-product of the data and a small
k × k computation, never a refit on rows (the logistic method refits, warm-started, on the
orthogonalised attributes: there is no closed form for it).

- **Relative weights** (Johnson 2000, *Multivariate Behavioral Research* 35:1–19): the attributes are
  replaced by their closest orthogonal counterparts, the outcome is regressed on those, and the R² is
  carried back to the attributes. The weights add up to the model R².
- **Shapley R²** (Lipovetsky & Conklin 2001; the *general dominance* weights of Budescu 1993 and
  Azen & Budescu 2003): each attribute's R² gain averaged over every order of entry, from the R² of
  all 2^k subsets. The weights add up to the model R².
- **Logistic relative weights** (Tonidandel & LeBreton 2010, *J. Business and Psychology* 25:767–781)
  for a binary outcome: a logistic model on the orthogonal counterparts, fully standardised. The
  weights add up to the squared correlation between the outcome and the fitted probability.
  Standardised effects (log-odds per standard deviation, odds ratio, p-value) come from the logistic
  model on the standardised attributes.

Ratings that mean "not applicable" are turned into missing values before anything is computed
(``na_values``), and rows missing any attribute or the outcome are left out (listwise), so every
figure comes from one consistent correlation matrix.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from ._errors import DriverInputError
from ._ipa import Ipa, ipa

FloatArray = npt.NDArray[np.float64]

METHODS = ("relative-weights", "shapley", "logistic")
OUTCOME_TYPES = ("rating", "nps", "binary")

#: A complete row per attribute needed at least (and never fewer than ``MIN_ROWS``).
ROWS_PER_ATTRIBUTE = 5
MIN_ROWS = 30
#: Shapley R² enumerates 2^k subsets; beyond this many attributes use relative weights.
MAX_SHAPLEY_ATTRIBUTES = 20
#: An attribute whose R² on the others is within this of 1 is a perfect linear combination of them.
COLLINEAR_TOLERANCE = 1e-9
#: VIF above this is reported as strong collinearity.
VIF_WARNING = 10.0


@dataclass(frozen=True, slots=True)
class Driver:
    """One attribute's importance for the outcome, and how well it performs."""

    attribute: str
    importance: float  # the part of the model R² (or pseudo-R²) this attribute carries
    share: float  # importance as a percentage of the sum over attributes (they add up to 100)
    ci_low: float | None  # bootstrap interval of the share, in percent
    ci_high: float | None
    importance_ci_low: float | None
    importance_ci_high: float | None
    rank: int  # 1 = most important
    rank_ci_low: int | None  # the ranks it took in the middle ``confidence`` of the resamples
    rank_ci_high: int | None
    performance: float | None  # mean rating among the respondents who rated it
    n_rated: int  # respondents who rated it (not "not applicable")
    vif: float  # variance inflation factor among the attributes
    effect: float | None  # standardised coefficient: beta (linear) or log-odds per SD (logistic)
    odds_ratio: float | None  # logistic only: odds ratio per SD
    p_value: float | None  # of the standardised coefficient
    quadrant: str  # importance–performance quadrant (see ``_ipa``)


@dataclass(frozen=True, slots=True)
class DriverResult:
    """The outcome of :func:`key_drivers`; ``to_dict()`` gives the JSON of ``manyi drivers``."""

    method: str
    outcome_type: str
    outcome: str
    n: int  # complete rows used
    n_dropped: int  # rows left out for a missing outcome or attribute
    r2: float
    r2_kind: str  # "R²" or "pseudo-R² …"
    r2_ci_low: float | None
    r2_ci_high: float | None
    confidence: float
    n_boot: int
    drivers: list[Driver]  # by share, descending
    ipa: Ipa
    notes: list[str]
    outcome_mean: float
    mcfadden_r2: float | None = None
    boot_shares: FloatArray | None = field(default=None, repr=False)  # n_boot × k, attribute order
    attributes: list[str] = field(default_factory=list)  # in input order

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "r2": _round(self.r2),
            "method": self.method,
            "outcome": self.outcome,
            "outcome_type": self.outcome_type,
            "outcome_mean": _round(self.outcome_mean),
            "r2_kind": self.r2_kind,
            "r2_ci_low": _round(self.r2_ci_low),
            "r2_ci_high": _round(self.r2_ci_high),
            **({"mcfadden_r2": _round(self.mcfadden_r2)} if self.mcfadden_r2 is not None else {}),
            "n_dropped": self.n_dropped,
            "confidence": self.confidence,
            "bootstrap": self.n_boot,
            "drivers": [
                {
                    "attribute": d.attribute,
                    "importance": _round(d.importance),
                    "share": _round(d.share),
                    "ci_low": _round(d.ci_low),
                    "ci_high": _round(d.ci_high),
                    "performance": _round(d.performance),
                    "quadrant": d.quadrant,
                    "importance_ci_low": _round(d.importance_ci_low),
                    "importance_ci_high": _round(d.importance_ci_high),
                    "rank": d.rank,
                    "rank_ci_low": d.rank_ci_low,
                    "rank_ci_high": d.rank_ci_high,
                    "n_rated": d.n_rated,
                    "vif": _round(d.vif),
                    "effect": _round(d.effect),
                    **(
                        {"odds_ratio": _round(d.odds_ratio), "p_value": _round(d.p_value)}
                        if self.method == "logistic"
                        else {"p_value": _round(d.p_value)}
                    ),
                }
                for d in self.drivers
            ],
            "ipa": self.ipa.to_dict(),
            "notes": list(self.notes),
        }

    def shares(self) -> dict[str, float]:
        """Share (percent) per attribute, in input order."""
        by_name = {d.attribute: d.share for d in self.drivers}
        return {a: by_name[a] for a in self.attributes}


def _round(v: float | None, digits: int = 6) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return round(float(v), digits)


# --- inputs -------------------------------------------------------------------------------------


def as_matrix(attributes: Any, names: Sequence[str] | None = None) -> tuple[FloatArray, list[str]]:
    """A respondents × attributes float matrix and the attribute names, from a DataFrame, a mapping of
    columns or a 2-D array. Cells that are not numbers raise :class:`DriverInputError` naming the
    column."""
    if isinstance(attributes, Mapping):
        cols = list(attributes)
        names = [str(c) for c in cols] if names is None else list(names)
        data = [attributes[c] for c in cols]
    elif hasattr(attributes, "columns") and hasattr(attributes, "__getitem__"):
        cols = list(attributes.columns)
        names = [str(c) for c in cols] if names is None else list(names)
        data = [attributes[c] for c in cols]
    else:
        arr = np.asarray(attributes)
        if arr.dtype.kind not in "iuf":
            arr = np.asarray(attributes, dtype=object)
        if arr.ndim != 2:
            raise DriverInputError(
                f"attributes must be a respondents × attributes matrix, got shape {arr.shape}"
            )
        names = [f"x{j + 1}" for j in range(arr.shape[1])] if names is None else list(names)
        data = [arr[:, j] for j in range(arr.shape[1])]
    if len(names) != len(data):
        raise DriverInputError(f"{len(names)} names given for {len(data)} attribute columns")
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise DriverInputError(f"attribute `{dup}` is given twice", column=dup)
    if not data:
        raise DriverInputError("give at least one attribute")
    columns = [numeric_column(c, name) for c, name in zip(data, names, strict=True)]
    if len({c.size for c in columns}) > 1:
        raise DriverInputError("every attribute column must have the same number of rows")
    return np.column_stack(columns), names


def numeric_column(values: Any, name: str) -> FloatArray:
    """Values → floats, None/NaN/blank as NaN; anything else that is not a number names the column."""
    to_numpy = getattr(values, "to_numpy", None)
    raw = to_numpy() if to_numpy is not None else np.asarray(values)
    if raw.dtype.kind in "iuf":
        return np.asarray(raw, dtype=np.float64)
    if raw.dtype.kind == "b":
        raise DriverInputError(f"column `{name}` must hold numbers, got true/false values", column=name)
    out = np.full(raw.shape[0], np.nan)
    for i, v in enumerate(raw.tolist()):
        if (
            v is None
            or (isinstance(v, float) and v != v)
            or (isinstance(v, str) and not v.strip())
            or type(v).__name__ in {"NAType", "NaTType"}
        ):
            continue
        if isinstance(v, bool):
            raise DriverInputError(f"column `{name}` must hold numbers, got `{v}` (row {i + 1})", column=name)
        try:
            out[i] = float(v.strip() if isinstance(v, str) else v)
        except (TypeError, ValueError):
            raise DriverInputError(
                f"column `{name}` must hold numbers, got `{v}` (row {i + 1})", column=name
            ) from None
    return out


def check_outcome(y: FloatArray, outcome_type: str, name: str) -> None:
    """Outcome values that fit the type: binary 0/1; NPS 0–10, or −100/0/100 per respondent."""
    present = y[~np.isnan(y)]
    if outcome_type == "binary":
        bad = present[(present != 0) & (present != 1)]
        if bad.size:
            raise DriverInputError(
                f"outcome `{name}` must be 0 or 1 for a binary outcome, got `{_num(bad[0])}`", column=name
            )
    elif outcome_type == "nps":
        scale = (present >= 0) & (present <= 10) & (present == np.round(present))
        contribution = np.isin(present, (-100.0, 0.0, 100.0))
        if not (scale.all() or contribution.all()):
            bad = present[~scale][0]
            raise DriverInputError(
                f"outcome `{name}` must be an NPS score 0–10 (or promoter/passive/detractor), got `{_num(bad)}`",
                column=name,
            )
    elif outcome_type != "rating":
        raise DriverInputError(
            f"outcome type must be one of {', '.join(OUTCOME_TYPES)}, got `{outcome_type}`"
        )


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def min_rows(k: int) -> int:
    """Complete rows needed for ``k`` attributes."""
    return max(MIN_ROWS, ROWS_PER_ATTRIBUTE * k)


# --- correlations --------------------------------------------------------------------------------


def weighted_correlation(z: FloatArray, c: FloatArray | None = None) -> FloatArray:
    """Correlation matrix of the columns of ``z`` with row weights ``c`` (bootstrap counts)."""
    if c is None:
        mean = z.mean(axis=0)
        zc = z - mean
        cov = zc.T @ zc
    else:
        total = c.sum()
        mean = (c @ z) / total
        zc = z - mean
        cov = (zc.T * c) @ zc
    sd = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = cov / np.outer(sd, sd)
    np.fill_diagonal(r, 1.0)
    return np.asarray(r, dtype=np.float64)


def vif(rxx: FloatArray) -> FloatArray:
    """Variance inflation factors: the diagonal of the inverse correlation matrix of the attributes."""
    return np.asarray(np.diag(np.linalg.inv(rxx)), dtype=np.float64)


# --- relative weights ----------------------------------------------------------------------------


def _half(rxx: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Λ^½ (the correlations of the attributes with their orthogonal counterparts) and its inverse."""
    lam, q = np.linalg.eigh(rxx)
    lam = np.clip(lam, 1e-12, None)
    root = np.sqrt(lam)
    return (q * root) @ q.T, (q / root) @ q.T


def relative_weights(r: FloatArray) -> FloatArray:
    """Johnson's raw relative weights from the (k+1) × (k+1) correlation matrix, outcome last.

    They add up to the R² of the linear regression of the outcome on all k attributes.
    """
    rxx, rxy = r[:-1, :-1], r[:-1, -1]
    half, inv_half = _half(rxx)
    beta = inv_half @ rxy  # regression of the outcome on the orthogonal counterparts
    return np.asarray((half**2) @ (beta**2), dtype=np.float64)


def r_squared(r: FloatArray) -> float:
    rxx, rxy = r[:-1, :-1], r[:-1, -1]
    return float(rxy @ np.linalg.solve(rxx, rxy))


def standardised_betas(r: FloatArray) -> FloatArray:
    return np.asarray(np.linalg.solve(r[:-1, :-1], r[:-1, -1]), dtype=np.float64)


# --- Shapley R² ----------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _subsets(k: int) -> tuple[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]], ...]:
    """For each subset size s ≥ 1: the members of every subset (m × s) and its bitmask (m)."""
    masks = np.arange(1 << k, dtype=np.int64)
    bits = (masks[:, None] >> np.arange(k)) & 1
    size = bits.sum(axis=1)
    out = []
    for s in range(1, k + 1):
        sel = masks[size == s]
        members = np.nonzero(bits[sel])[1].reshape(sel.size, s)
        out.append((members.astype(np.intp), sel.astype(np.intp)))
    return tuple(out)


def subset_r2(r: FloatArray) -> FloatArray:
    """R² of the outcome on every subset of the attributes, indexed by bitmask (bit j = attribute j).

    From the correlation matrix only: R²(S) = r_S' R_SS⁻¹ r_S, solved in one batched call per size.
    """
    k = r.shape[0] - 1
    rxx, rxy = r[:-1, :-1], r[:-1, -1]
    out = np.zeros(1 << k)
    for members, masks in _subsets(k):
        sub = rxx[members[:, :, None], members[:, None, :]]
        rhs = rxy[members]
        beta = np.linalg.solve(sub, rhs[..., None])[..., 0]
        out[masks] = (rhs * beta).sum(axis=1)
    return out


@lru_cache(maxsize=8)
def _shapley_plan(k: int) -> tuple[npt.NDArray[np.intp], FloatArray]:
    """The subsets without attribute j (per j) and the Shapley weight |S|!(k−|S|−1)!/k! of each."""
    masks = np.arange(1 << k, dtype=np.int64)
    size = ((masks[:, None] >> np.arange(k)) & 1).sum(axis=1)
    weight = np.array([math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k) for s in range(k)])
    without = np.stack([masks[(masks >> j) & 1 == 0] for j in range(k)])  # k × 2^(k−1)
    return without.astype(np.intp), weight[size[without]]


def shapley_from_subsets(r2: FloatArray, k: int) -> FloatArray:
    """Shapley values of R² over the attributes from the R² of every subset (by bitmask)."""
    without, weight = _shapley_plan(k)
    gain = r2[without | (1 << np.arange(k))[:, None]] - r2[without]
    return np.asarray((weight * gain).sum(axis=1), dtype=np.float64)


def shapley_r2(r: FloatArray) -> FloatArray:
    """Shapley (general dominance) decomposition of R² from the (k+1) × (k+1) correlation matrix."""
    k = r.shape[0] - 1
    return shapley_from_subsets(subset_r2(r), k)


# --- logistic --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogitFit:
    coef: FloatArray  # intercept first
    cov: FloatArray
    loglik: float
    converged: bool


def logit_fit(
    x: FloatArray, y: FloatArray, w: FloatArray | None = None, start: FloatArray | None = None
) -> LogitFit:
    """Maximum-likelihood logistic regression by Newton–Raphson with step halving, row weights ``w``.

    ``x`` has no intercept column; the intercept is added and comes first in the coefficients.
    """
    n, k = x.shape
    d = np.column_stack([np.ones(n), x])
    w = np.ones(n) if w is None else w
    beta = np.zeros(k + 1) if start is None else start.copy()

    def loglik(b: FloatArray) -> float:
        eta = d @ b
        return float(w @ (y * eta - np.logaddexp(0.0, eta)))

    ll = loglik(beta)
    converged = False
    h = np.eye(k + 1)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(d @ beta)))
        g = d.T @ (w * (y - p))
        h = (d.T * (w * p * (1 - p))) @ d
        try:
            step = np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        while True:
            new = beta + t * step
            ll_new = loglik(new)
            if ll_new >= ll - 1e-12 or t < 1e-6:
                break
            t /= 2
        beta, ll_old, ll = new, ll, ll_new
        if np.abs(t * step).max() < 1e-8 or abs(ll - ll_old) < 1e-10 * (abs(ll) + 1):
            converged = True
            break
    try:
        cov = np.linalg.inv(h)
    except np.linalg.LinAlgError:
        cov = np.full_like(h, np.nan)
    return LogitFit(beta, cov, ll, converged and bool(np.abs(beta).max() < 30))


def _logistic_weights(
    x: FloatArray, y: FloatArray, c: FloatArray | None, start: FloatArray | None = None
) -> tuple[FloatArray, float, LogitFit]:
    """Logistic relative weights (Tonidandel & LeBreton 2010) and R²_O, with row weights ``c``."""
    w = np.ones(x.shape[0]) if c is None else c
    total = w.sum()
    mean = (w @ x) / total
    xc = x - mean
    sd = np.sqrt((w @ (xc**2)) / total)
    xs = xc / sd
    rxx = (xs.T * w) @ xs / total
    half, inv_half = _half(rxx)
    z = xs @ inv_half
    fit = logit_fit(z, y, w, start)
    eta = fit.coef[0] + z @ fit.coef[1:]
    p = 1.0 / (1.0 + np.exp(-eta))
    r_o = _wcorr(y, p, w)
    sd_eta = math.sqrt(float(w @ (eta - (w @ eta) / total) ** 2) / total)
    beta = fit.coef[1:] * r_o / sd_eta if sd_eta > 0 else np.zeros(x.shape[1])
    return np.asarray((half**2) @ (beta**2), dtype=np.float64), r_o**2, fit


def _wcorr(a: FloatArray, b: FloatArray, w: FloatArray) -> float:
    total = w.sum()
    ac = a - (w @ a) / total
    bc = b - (w @ b) / total
    den = math.sqrt(float(w @ ac**2) * float(w @ bc**2))
    return float(w @ (ac * bc)) / den if den > 0 else 0.0


# --- checks ------------------------------------------------------------------------------------------


def check_design(x: FloatArray, y: FloatArray, names: list[str], outcome: str, outcome_type: str) -> None:
    """Refuse data that cannot give an analysis: too few rows, constants, perfect collinearity."""
    n, k = x.shape
    need = min_rows(k)
    if n < need:
        raise DriverInputError(
            f"too few complete rows: {n} with every attribute and `{outcome}` answered, but {k} "
            f"attribute{'s' if k != 1 else ''} need at least {need} ({ROWS_PER_ATTRIBUTE} per attribute, "
            f"at least {MIN_ROWS}); use fewer attributes or more responses"
        )
    values = np.unique(y)
    if values.size < 2:
        if outcome_type == "binary":
            label = "positive" if values[0] == 1 else "negative"
            raise DriverInputError(
                f"outcome `{outcome}` has a single class ({label}) in all {n} complete rows; a driver "
                "analysis needs both classes (check --positive)",
                column=outcome,
            )
        raise DriverInputError(
            f"outcome `{outcome}` has the same value ({_num(values[0])}) in all {n} complete rows; "
            "nothing can drive a constant",
            column=outcome,
        )
    for j, name in enumerate(names):
        col = x[:, j]
        if col.min() == col.max():
            raise DriverInputError(
                f"attribute `{name}` has the same value ({_num(col[0])}) in all {n} complete rows; a "
                "constant cannot drive anything, leave it out",
                column=name,
            )
    r = weighted_correlation(x)
    kept: list[int] = []
    for j, name in enumerate(names):
        if kept:
            sub = r[np.ix_(kept, kept)]
            rj = r[kept, j]
            coef = np.linalg.lstsq(sub, rj, rcond=None)[0]
            if 1.0 - float(rj @ coef) < COLLINEAR_TOLERANCE:
                others = [names[kept[i]] for i in np.flatnonzero(np.abs(coef) > 1e-6)]
                listing = ", ".join(f"`{o}`" for o in others)
                raise DriverInputError(
                    f"attribute `{name}` is perfectly collinear with {listing}: it is an exact linear "
                    "combination of them, so their importances cannot be told apart; leave one out",
                    column=name,
                )
        kept.append(j)


# --- the analysis -----------------------------------------------------------------------------------


def _importance(method: str, r: FloatArray) -> tuple[FloatArray, float]:
    if method == "shapley":
        r2_all = subset_r2(r)
        k = r.shape[0] - 1
        return shapley_from_subsets(r2_all, k), float(r2_all[-1])
    raw = relative_weights(r)
    return raw, float(raw.sum())


def key_drivers(
    attributes: Any,
    outcome: Any,
    *,
    names: Sequence[str] | None = None,
    outcome_name: str = "outcome",
    outcome_type: str = "rating",
    method: str = "relative-weights",
    na_values: Iterable[float] = (),
    n_boot: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
    importance_cut: float | None = None,
    performance_cut: float | None = None,
) -> DriverResult:
    """Importance of each attribute for the outcome, with shares, bootstrap intervals and IPA quadrants.

    ``attributes``: respondents × attributes (DataFrame, mapping of columns, or 2-D array); ``outcome``:
    one value per respondent, already numeric — a rating, an NPS score 0–10 (or −100/0/100 per
    respondent for promoter/passive/detractor labels), or 0/1 for a binary outcome (see
    :func:`code_outcome`). ``na_values`` are attribute values that mean "not applicable"; they and
    NaN are missing. ``method``: ``relative-weights``, ``shapley`` or ``logistic`` (binary or NPS
    outcome; an NPS outcome then means promoter or not). ``n_boot`` resamples of respondents give the
    intervals (0: none).
    """
    if method not in METHODS:
        raise DriverInputError(f"method must be one of {', '.join(METHODS)}, got `{method}`")
    if outcome_type not in OUTCOME_TYPES:
        raise DriverInputError(
            f"outcome type must be one of {', '.join(OUTCOME_TYPES)}, got `{outcome_type}`"
        )
    if method == "logistic" and outcome_type == "rating":
        raise DriverInputError(
            "the logistic method needs a binary outcome (or NPS, as promoter or not); use "
            "relative-weights or shapley for a rating"
        )
    if not 0 < confidence < 1:
        raise DriverInputError(f"confidence must be between 0 and 1, got {confidence}")
    if n_boot < 0:
        raise DriverInputError(f"the number of bootstrap resamples cannot be negative, got {n_boot}")
    x_all, names = as_matrix(attributes, names)
    y_all = numeric_column(outcome, outcome_name)
    if y_all.size != x_all.shape[0]:
        raise DriverInputError(
            f"the outcome has {y_all.size} values but the attributes have {x_all.shape[0]} rows"
        )
    check_outcome(y_all, outcome_type, outcome_name)
    na = [float(v) for v in na_values]
    if na:
        x_all = np.where(np.isin(x_all, na), np.nan, x_all)
    k = x_all.shape[1]
    if method == "shapley" and k > MAX_SHAPLEY_ATTRIBUTES:
        raise DriverInputError(
            f"Shapley R² enumerates 2^k subsets and is limited to {MAX_SHAPLEY_ATTRIBUTES} attributes, "
            f"got {k}; use relative-weights (they agree closely)"
        )
    for j, name in enumerate(names):
        if np.isinf(x_all[:, j]).any():
            raise DriverInputError(f"attribute `{name}` holds an infinite value", column=name)
    rated = ~np.isnan(x_all)
    n_rated = rated.sum(axis=0)
    for j, name in enumerate(names):
        if n_rated[j] == 0:
            raise DriverInputError(
                f"attribute `{name}` has no ratings (all missing or not applicable)", column=name
            )
    performance = np.nansum(x_all, axis=0) / n_rated
    complete = rated.all(axis=1) & ~np.isnan(y_all)
    x, y = x_all[complete], y_all[complete]
    n = int(x.shape[0])
    notes: list[str] = []
    n_dropped = int(x_all.shape[0] - n)
    if n_dropped:
        notes.append(
            f"left out {n_dropped} of {x_all.shape[0]} rows missing the outcome or an attribute "
            f"(including not-applicable ratings); {n} complete rows used"
        )

    y_fit = y
    if method == "logistic":
        y_fit = (y >= 9).astype(np.float64) if outcome_type == "nps" else y
        check_design(x, y_fit, names, outcome_name, "binary")
    else:
        check_design(x, y, names, outcome_name, outcome_type)

    r = weighted_correlation(np.column_stack([x, y_fit]))
    vifs = vif(r[:-1, :-1])
    strong = [f"`{names[j]}` ({vifs[j]:.1f})" for j in np.flatnonzero(vifs > VIF_WARNING)]
    if strong:
        notes.append(
            "strong collinearity (VIF above 10): " + ", ".join(strong) + "; their importances are shared"
        )

    mcfadden: float | None = None
    odds: FloatArray | None = None
    p_values: FloatArray
    start: FloatArray | None = None
    if method == "logistic":
        raw, r2, zfit = _logistic_weights(x, y_fit, None)
        if not zfit.converged:
            raise DriverInputError(
                f"the attributes separate `{outcome_name}` perfectly (or almost), so the logistic model "
                "has no finite estimate; use relative-weights"
            )
        start = zfit.coef
        xs = (x - x.mean(axis=0)) / x.std(axis=0)
        fit = logit_fit(xs, y_fit)
        effects = fit.coef[1:]
        odds = np.exp(effects)
        se = np.sqrt(np.diag(fit.cov))[1:]
        p_values = _two_sided_normal(effects / se)
        p1 = y_fit.mean()
        ll0 = float(n * (p1 * math.log(p1) + (1 - p1) * math.log(1 - p1)))
        mcfadden = 1.0 - fit.loglik / ll0
        r2_kind = "pseudo-R² (squared correlation of the outcome and the fitted probability)"
    else:
        raw, r2 = _importance(method, r)
        effects = standardised_betas(r)
        p_values = _ols_p_values(r, effects, n)
        r2_kind = "R²"

    boot_raw = np.empty((0, k))
    boot_r2 = np.empty(0)
    if n_boot:
        boot_raw, boot_r2 = bootstrap(x, y_fit, method, n_boot, seed, start)
    total = raw.sum()
    share = 100 * raw / total if total > 0 else np.full(k, 100.0 / k)
    alpha = 1 - confidence
    q = [alpha / 2, 1 - alpha / 2]
    boot_share: FloatArray | None = None
    rank_lo: Any = None
    rank_hi: Any = None
    imp_lo: Any = None
    imp_hi: Any = None
    sh_lo: Any = None
    sh_hi: Any = None
    r2_lo: float | None = None
    r2_hi: float | None = None
    if boot_raw.shape[0] == 0 and n_boot:
        notes.append("no bootstrap resample could be analysed, so there are no intervals")
    if boot_raw.shape[0]:
        sums = boot_raw.sum(axis=1, keepdims=True)
        boot_share = 100 * boot_raw / np.where(sums > 0, sums, 1.0)
        imp_lo, imp_hi = np.quantile(boot_raw, q, axis=0)
        sh_lo, sh_hi = np.quantile(boot_share, q, axis=0)
        ranks = np.argsort(np.argsort(-boot_share, axis=1, kind="stable"), axis=1) + 1
        rank_lo, rank_hi = np.quantile(ranks, q, axis=0, method="nearest")
        r2_lo, r2_hi = (float(v) for v in np.quantile(boot_r2, q))

    order = np.argsort(-share, kind="stable")
    rank = np.empty(k, dtype=int)
    rank[order] = np.arange(1, k + 1)
    chart = ipa(share, performance, names, importance_cut=importance_cut, performance_cut=performance_cut)
    quadrant = {p.attribute: p.quadrant for p in chart.points}
    drivers = [
        Driver(
            attribute=names[j],
            importance=float(raw[j]),
            share=float(share[j]),
            ci_low=None if sh_lo is None else float(sh_lo[j]),
            ci_high=None if sh_hi is None else float(sh_hi[j]),
            importance_ci_low=None if imp_lo is None else float(imp_lo[j]),
            importance_ci_high=None if imp_hi is None else float(imp_hi[j]),
            rank=int(rank[j]),
            rank_ci_low=None if rank_lo is None else int(rank_lo[j]),
            rank_ci_high=None if rank_hi is None else int(rank_hi[j]),
            performance=float(performance[j]),
            n_rated=int(n_rated[j]),
            vif=float(vifs[j]),
            effect=float(effects[j]),
            odds_ratio=None if odds is None else float(odds[j]),
            p_value=float(p_values[j]),
            quadrant=quadrant[names[j]],
        )
        for j in order
    ]
    return DriverResult(
        method=method,
        outcome_type=outcome_type,
        outcome=outcome_name,
        n=n,
        n_dropped=n_dropped,
        r2=r2,
        r2_kind=r2_kind,
        r2_ci_low=r2_lo,
        r2_ci_high=r2_hi,
        confidence=confidence,
        n_boot=n_boot,
        drivers=drivers,
        ipa=chart,
        notes=notes,
        outcome_mean=float(y_fit.mean()),
        mcfadden_r2=mcfadden,
        boot_shares=boot_share,
        attributes=list(names),
    )


def _two_sided_normal(z: FloatArray) -> FloatArray:
    from scipy import special

    return np.asarray(special.erfc(np.abs(z) / math.sqrt(2)), dtype=np.float64)


def _ols_p_values(r: FloatArray, beta: FloatArray, n: int) -> FloatArray:
    """p-values of the standardised OLS coefficients, from the correlation matrix."""
    from scipy import stats

    k = beta.size
    r2 = float(r[:-1, -1] @ beta)
    dof = n - k - 1
    if dof <= 0:
        return np.full(k, np.nan)
    se = np.sqrt(np.clip(np.diag(np.linalg.inv(r[:-1, :-1])) * (1 - r2) / dof, 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = beta / se
    return np.asarray(2 * stats.t.sf(np.abs(t), dof), dtype=np.float64)


#: The row-wise products of the centred data are kept in memory for the bootstrap up to this size;
#: beyond it each resample forms its cross-product on its own (same numbers, more time).
_PRODUCTS_MAX_BYTES = 256 * 2**20
#: Resamples whose counts are multiplied with the products in one matrix product (memory bound).
_BLOCK_BYTES = 64 * 2**20


def _linear_correlations(z: FloatArray, counts: FloatArray, products: FloatArray) -> FloatArray:
    """Correlation matrices (B × m × m) of the centred columns ``z`` under B rows of ``counts``.

    ``products`` holds, per row, the products of every pair of columns (upper triangle), so the
    weighted second moments of all B resamples are one matrix product.
    """
    m = z.shape[1]
    total = counts.sum(axis=1)[:, None]
    mean = (counts @ z) / total
    second = (counts @ products) / total
    iu = np.triu_indices(m)
    cov = np.empty((counts.shape[0], m, m))
    cov[:, iu[0], iu[1]] = second - mean[:, iu[0]] * mean[:, iu[1]]
    cov[:, iu[1], iu[0]] = cov[:, iu[0], iu[1]]
    sd = np.sqrt(np.clip(np.diagonal(cov, axis1=1, axis2=2), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = cov / (sd[:, :, None] * sd[:, None, :])
    idx = np.arange(m)
    r[:, idx, idx] = np.where(sd > 0, 1.0, np.nan)
    return np.asarray(r, dtype=np.float64)


def bootstrap(
    x: FloatArray, y: FloatArray, method: str, n_boot: int, seed: int = 0, start: FloatArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """Raw importances (n_boot × k) and R² (n_boot) over resamples of the respondents.

    Each resample is a vector of counts (how often each respondent is drawn); the linear methods then
    need only the weighted correlation matrix of that resample, and a block of resamples gets theirs
    from one matrix product of their counts with the row-wise products of the centred data.
    Reproducible for a given ``seed``.
    """
    n, k = x.shape
    rng = np.random.default_rng(seed)
    z = np.column_stack([x, y])
    z = z - z.mean(axis=0)  # centring once keeps the weighted cross-products well conditioned
    raw = np.empty((n_boot, k))
    r2 = np.empty(n_boot)
    m = k + 1
    pairs = m * (m + 1) // 2
    products = None
    if method != "logistic" and n * pairs * 8 <= _PRODUCTS_MAX_BYTES:
        iu = np.triu_indices(m)
        products = z[:, iu[0]] * z[:, iu[1]]
    block = max(1, min(n_boot, _BLOCK_BYTES // (8 * n))) if products is not None else 1
    for first in range(0, n_boot, block):
        size = min(block, n_boot - first)
        counts = np.empty((size, n))
        for i in range(size):
            counts[i] = np.bincount(rng.integers(0, n, n), minlength=n)
        rs = _linear_correlations(z, counts, products) if products is not None else None
        for i in range(size):
            b = first + i
            c = counts[i]
            if method == "logistic":
                try:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        raw[b], r2[b], _ = _logistic_weights(x, y, c, start)
                except np.linalg.LinAlgError:  # an attribute constant within this resample
                    raw[b], r2[b] = np.nan, np.nan
                continue
            r = rs[i] if rs is not None else weighted_correlation(z, c)
            if not np.isfinite(r).all():  # a resample where a rare attribute value happens to vanish
                raw[b], r2[b] = np.nan, np.nan
                continue
            try:
                raw[b], r2[b] = _importance(method, r)
            except np.linalg.LinAlgError:  # a small resample can make two attributes exactly collinear
                raw[b], r2[b] = np.nan, np.nan
    keep = np.isfinite(r2) & np.isfinite(raw).all(axis=1)
    return raw[keep], r2[keep]
