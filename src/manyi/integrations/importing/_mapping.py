"""mapping.toml: which file column is which Manyi column, and values for columns the file lacks.

::

    [columns]            # file column = Manyi column
    "订单号" = "external_id"
    "门店编码" = "unit"

    [defaults]           # used when the column is missing or the cell is empty
    survey = "store-csi"
    channel = "import"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ._errors import ImportFailed


@dataclass
class Mapping:
    columns: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)

    def rename(self, header: list[str]) -> list[str]:
        return [self.columns.get(h, h) for h in header]


def load_mapping(path: Path | None) -> Mapping:
    """Read a mapping file; a missing file or a wrong shape is an ImportFailed with the reason."""
    if path is None:
        return Mapping()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ImportFailed(f"no such mapping file: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ImportFailed(f"mapping file {path} is not valid TOML: {exc}") from None
    columns = data.get("columns", {k: v for k, v in data.items() if not isinstance(v, dict)})
    defaults = data.get("defaults", {})
    for name, table in (("columns", columns), ("defaults", defaults)):
        if not isinstance(table, dict) or not all(isinstance(v, (str, int, float)) for v in table.values()):
            raise ImportFailed(f"mapping file {path}: [{name}] must map names to text")
    unknown = set(data) - {"columns", "defaults"} if "columns" in data or "defaults" in data else set()
    if unknown:
        raise ImportFailed(f"mapping file {path}: unknown section(s) {', '.join(sorted(unknown))}")
    return Mapping(
        columns={str(k).strip(): str(v).strip() for k, v in columns.items()},
        defaults={str(k).strip(): str(v) for k, v in defaults.items()},
    )
