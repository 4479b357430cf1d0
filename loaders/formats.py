"""The exchange format: one file per registry, `<registry>.jsonl` and/or `<registry>.csv`.

JSON Lines: one object per line, keys = model fields, nested lists as arrays, dates ISO.
CSV: UTF-8 with BOM, `;`, header = model fields; a nested list in its flat form (one row per
item, item columns `qualification_competency`…); plain lists in one cell joined by `; `.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, Self, cast

from graph.registry import REGISTRIES, Registry
from loaders.mapping import NESTED, list_fields

if TYPE_CHECKING:
    from loaders.xlsx import XlsxSheetWriter

CSV_DELIMITER = ";"
CSV_ENCODING = "utf-8-sig"


def exchange_columns(registry: Registry) -> list[str]:
    nested = NESTED.get(registry.name)
    columns = [f for f in registry.model.model_fields if not nested or f != nested.field]
    if nested:
        columns += [nested.column(f) for f in nested.item_fields]
    return columns


def _scalar(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def json_record(record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            value = [{k: _scalar(v) for k, v in item.items() if v is not None}
                     if isinstance(item, dict) else _scalar(item) for item in value]
        else:
            value = _scalar(value)
        out[key] = value
    return out


# A text cell starting with one of these is a formula, or becomes one, in Excel and LibreOffice
# (OWASP «CSV injection»): exports prefix it with «'», which the loader removes again. A text
# that itself starts with quotes before one of them gets one quote more, so that every text
# loads back as it was: unguard(neutralise(t)) == t.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GUARD = "'"


def guarded(text: str) -> bool:
    return text.startswith(GUARD) and text.lstrip(GUARD).startswith(FORMULA_STARTS)


def neutralise(text: str) -> str:
    return GUARD + text if text.startswith(FORMULA_STARTS) or guarded(text) else text


def unguard(text: str) -> str:
    """A cell as the loader reads it: the export's guard removed."""
    return text[1:] if guarded(text) else text


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return neutralise(value)
    value = _scalar(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def flat_rows(registry: Registry, record: dict[str, Any]) -> list[list[str]]:
    """CSV rows of one record: one row, or one row per item of its nested list."""
    nested = NESTED.get(registry.name)
    lists = list_fields(registry)
    base = []
    for column in exchange_columns(registry):
        if column in registry.model.model_fields:
            value = record.get(column)
            base.append("; ".join(_cell(v) for v in value) if column in lists and value
                        else _cell(value))
    if not nested:
        return [base]
    items = record.get(nested.field) or []
    if not items:
        return [base + [""] * len(nested.item_fields)]
    keys = set(registry.model.KEY_FIELDS)
    fields = [c for c in exchange_columns(registry) if c in registry.model.model_fields]
    rows = []
    for i, item in enumerate(items):
        head = base if i == 0 else [v if f in keys else "" for f, v in zip(fields, base)]
        rows.append(head + [_cell(item.get(f)) for f in nested.item_fields])
    return rows


class _RowWriter(Protocol):
    """What `csv.writer` gives (its class is not public)."""

    def writerow(self, row: Iterable[Any], /) -> Any: ...

    def writerows(self, rows: Iterable[Iterable[Any]], /) -> None: ...


# Per open file: what `close` closes, and what writes the records — the xlsx sheet writer
# (both), a CSV row writer over the text file, or None (JSON Lines go to the text file).
_Opened = tuple["IO[str] | XlsxSheetWriter", "XlsxSheetWriter | _RowWriter | None"]


class RegistryFiles:
    """Append records to `<dir>/<registry>.<fmt>`, opening each file once."""

    def __init__(self, directory: Path, fmt: str) -> None:
        self.directory = Path(directory)
        self.fmt = fmt
        self.files: dict[str, _Opened] = {}
        self.counts: dict[str, int] = {}
        self.directory.mkdir(parents=True, exist_ok=True)

    def _open(self, name: str) -> _Opened:
        if name not in self.files:
            path = self.directory / f"{name}.{self.fmt}"
            fh: IO[str] | XlsxSheetWriter
            writer: XlsxSheetWriter | _RowWriter | None
            if self.fmt == "xlsx":
                from loaders.xlsx import XlsxSheetWriter

                writer = XlsxSheetWriter(path, REGISTRIES[name])
                fh = writer
            elif self.fmt == "csv":
                fh = path.open("w", encoding=CSV_ENCODING, newline="")
                writer = csv.writer(fh, delimiter=CSV_DELIMITER)
                writer.writerow(exchange_columns(REGISTRIES[name]))
            else:
                fh = path.open("w", encoding="utf-8")
                writer = None
            self.files[name] = (fh, writer)
            self.counts.setdefault(name, 0)
        return self.files[name]

    def write(self, name: str, records: list[dict[str, Any]]) -> None:
        fh, writer = self._open(name)
        registry = REGISTRIES[name]
        for record in records:
            # the format decides which writer `_open` made
            if self.fmt == "xlsx":
                cast("XlsxSheetWriter", writer).write(record)
            elif writer is not None:
                cast("_RowWriter", writer).writerows(flat_rows(registry, record))
            else:
                cast("IO[str]", fh).write(json.dumps(json_record(record), ensure_ascii=False) + "\n")
        self.counts[name] += len(records)

    def close(self) -> None:
        for fh, _ in self.files.values():
            fh.close()
        self.files.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
