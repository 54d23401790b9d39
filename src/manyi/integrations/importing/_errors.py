"""What can go wrong in an import: the whole file (ImportFailed) or one cell of one row (RowError)."""

from __future__ import annotations

from typing import NamedTuple


class ImportFailed(Exception):
    """The file as a whole cannot be imported (unreadable, wrong columns, bad mapping)."""


class RowError(NamedTuple):
    """One problem in one row: its number as a spreadsheet shows it, the column, the value, why."""

    row: int
    column: str
    value: str
    reason: str

    def line(self) -> str:
        return f"row {self.row}: column `{self.column}` {self.reason}, got `{self.value}`"


class Reject(Exception):
    """Raised by a cell check; the row is rejected with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
