"""Validation on real data: the airline passenger satisfaction survey in ../shared/data.

14 service ratings (0 = not applicable) and a satisfied flag. Relative weights and Shapley R² are
different decompositions of the same R²; on real data they should rank the attributes alike, and
the ranking should not depend on which half of the passengers answered.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from manyi.analytics import drivers

DATA = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "airline_passenger_satisfaction_train.csv"
)
ATTRIBUTES = [
    "Inflight wifi service",
    "Departure/Arrival time convenient",
    "Ease of Online booking",
    "Gate location",
    "Food and drink",
    "Online boarding",
    "Seat comfort",
    "Inflight entertainment",
    "On-board service",
    "Leg room service",
    "Baggage handling",
    "Checkin service",
    "Inflight service",
    "Cleanliness",
]

pytestmark = pytest.mark.skipif(not DATA.exists(), reason=f"{DATA} is not there")


@pytest.fixture(scope="module")
def sample():
    import pandas as pd

    frame = pd.read_csv(DATA, usecols=[*ATTRIBUTES, "satisfaction", "Type of Travel"])
    frame = frame.sample(n=20_000, random_state=20261123).reset_index(drop=True)
    y, _ = drivers.code_outcome(frame["satisfaction"], "binary", positive="satisfied", name="satisfaction")
    return frame, y


def ranks(result: drivers.DriverResult) -> np.ndarray:
    shares = result.shares()
    return stats.rankdata([-shares[a] for a in ATTRIBUTES])


def test_relative_weights_and_shapley_r2_rank_the_airline_attributes_alike(sample):
    frame, y = sample
    common = {"outcome_type": "binary", "na_values": [0], "n_boot": 0}
    rw = drivers.key_drivers(frame[ATTRIBUTES], y, method="relative-weights", **common)
    sh = drivers.key_drivers(frame[ATTRIBUTES], y, method="shapley", **common)
    rho = stats.spearmanr(ranks(rw), ranks(sh)).statistic
    assert rho >= 0.8, f"Spearman {rho:.3f}"
    assert rw.r2 == pytest.approx(sh.r2)
    assert rw.drivers[0].attribute == sh.drivers[0].attribute


def test_the_airline_ranking_is_stable_across_random_halves(sample):
    frame, y = sample
    rng = np.random.default_rng(7)
    half = rng.permutation(len(frame)) < len(frame) // 2
    common = {"outcome_type": "binary", "na_values": [0], "n_boot": 0}
    a = drivers.key_drivers(frame.loc[half, ATTRIBUTES], y[half], **common)
    b = drivers.key_drivers(frame.loc[~half, ATTRIBUTES], y[~half], **common)
    rho = stats.spearmanr(ranks(a), ranks(b)).statistic
    assert rho >= 0.8, f"Spearman {rho:.3f}"
