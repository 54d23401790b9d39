"""The one exception the package raises for bad scores."""

from __future__ import annotations


class ScoreError(ValueError):
    """A score that is not a valid answer on the metric's scale.

    ``position`` is the 0-based index of the offending value in the array that was passed in, so
    ``scores[position]`` shows it. Missing values (NaN, ``None``, ``pd.NA``) are not errors: they are
    unanswered questions and are left out.
    """

    def __init__(self, position: int, value: object, expected: str) -> None:
        self.position = position
        self.value = value
        self.expected = expected
        super().__init__(f"score at position {position} must be {expected}, got {value!r}")
