"""Hypothesis strategies shared by the metrics tests."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st

#: The machine running CI is slow and the first call of a SciPy function is slower still.
SLOW_OK = settings(deadline=None, max_examples=150)

nps_scores = st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=300)
five_point = st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=300)
confidences = st.sampled_from([0.8, 0.9, 0.95, 0.99])


@st.composite
def scores_with_weights(draw: st.DrawFn, lo: int = 0, hi: int = 10) -> tuple[list[int], list[float]]:
    scores = draw(st.lists(st.integers(min_value=lo, max_value=hi), min_size=1, max_size=200))
    weights = draw(
        st.lists(
            st.floats(min_value=0.05, max_value=20, allow_nan=False, allow_infinity=False),
            min_size=len(scores),
            max_size=len(scores),
        )
    )
    return scores, weights
