"""The one error the driver analysis raises for data it cannot analyse."""

from __future__ import annotations


class DriverInputError(ValueError):
    """Data that cannot give a driver analysis; the message names the column and says what to do.

    ``column`` is the offending column (attribute or outcome) when there is one.
    """

    def __init__(self, message: str, column: str | None = None) -> None:
        self.column = column
        super().__init__(message)
