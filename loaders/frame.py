"""Where the table is in a sheet as clerks make it: the header row found (title rows above it,
«№ п/п», header cells merged down), totals rows («Итого», «Всего») skipped and reported.

The header is the first of the first rows whose cells name enough fields of the registry
(`--header-row N` forces it). A header cell left empty because it is merged with the cell
above takes that cell's text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graph.registry import Registry
from loaders.mapping import map_columns, norm_header, preferred_header
from loaders.sources import RowIssue, SourceError, Table

HEADER_SCAN_ROWS = 30
MIN_HEADER_MATCHES = 2
_TOTALS = re.compile(r"^\s*(итого|всего)\b", re.IGNORECASE)


@dataclass
class Framed:
    """Dict rows of a table with its header: rows may be iterated more than once."""

    table: Table
    columns: list[str]
    header_row: int | None  # file row of the (last) header row; None: not a sheet
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row, why)
    _grid_columns: int = 0

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any] | RowIssue]]:
        if self.table.grid is None:
            yield from self.table.rows
            return
        self.skipped.clear()
        width = len(self.columns)
        for number, values in self.table.grid:
            if self.header_row is not None and number <= self.header_row:
                continue
            if isinstance(values, RowIssue):
                yield number, values
                continue
            first = _first_filled(values)
            if not first:
                continue
            reason = _totals(first)
            if reason:
                self.skipped.append((number, reason))
                continue
            yield number, dict(zip(self.columns, values[:width]))


def _first_filled(values: list[Any], n: int = 3) -> list[Any]:
    out = []
    for v in values:
        if v is not None and (v.strip() if isinstance(v, str) else str(v).strip()):
            out.append(v)
            if len(out) == n:
                break
    return out


def _totals(first: list[Any]) -> str | None:
    """«Итого» / «Всего» in one of the first filled cells: a totals row, not data."""
    for v in first:
        if isinstance(v, str) and _TOTALS.match(v):
            return f"строка итогов («{v.strip()[:40]}») пропущена"
    return None


def _names(raw: list[Any]) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, value in enumerate(raw):
        name = "" if value is None else " ".join(str(value).split())
        name = name or f"#{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        out.append(name)
    while out and out[-1].startswith("#"):
        out.pop()
    return out


def _filled_from_above(row: list[Any], above: list[Any] | None) -> list[Any]:
    if above is None:
        return row
    width = max(len(row), len(above))
    row = row + [None] * (width - len(row))
    return [r if r is not None and str(r).strip() else (above[i] if i < len(above) else None)
            for i, r in enumerate(row)]


def frame(table: Table, registry: Registry, mapping: Mapping[str, str | None] | None = None,
          header_row: int | None = None) -> Framed:
    if table.grid is None:
        return Framed(table, table.columns, None)
    head: list[tuple[int, list[Any]]] = []
    for number, values in table.grid:
        if header_row is not None:
            if number == header_row:
                if isinstance(values, RowIssue) or not any(
                        v is not None and str(v).strip() for v in values):
                    raise SourceError(f"строка {header_row}, указанная как строка заголовка "
                                      "(--header-row), пуста или не читается")
                above = head[-1][1] if head and head[-1][0] == number - 1 else None
                return Framed(table, _names(_filled_from_above(list(values), above)), number)
            if not isinstance(values, RowIssue):
                head = [(number, list(values))]
            continue
        if isinstance(values, RowIssue) or not any(
                v is not None and str(v).strip() for v in values):
            continue
        head.append((number, list(values)))
        if len(head) >= HEADER_SCAN_ROWS:
            break
    if header_row is not None:
        raise SourceError(f"в файле нет строки {header_row} (--header-row)")
    if not head:
        return Framed(table, [], None)

    def score(values: list[Any]) -> int:
        names = [str(v) for v in values if v is not None and str(v).strip()]
        return len(map_columns(registry, names, mapping).columns) if names else 0

    best: tuple[int, list[Any]] | None = None
    for i, (number, values) in enumerate(head):
        above = head[i - 1][1] if i and head[i - 1][0] == number - 1 else None
        candidates = [values, _filled_from_above(values, above)] if above else [values]
        got = max(candidates, key=score)
        if score(got) >= MIN_HEADER_MATCHES:
            best = (number, got)
            # a second header row below (sub-headers under merged cells) naming more fields
            if i + 1 < len(head) and head[i + 1][0] == number + 1:
                below = _filled_from_above(head[i + 1][1], values)
                if score(below) > score(got):
                    best = (head[i + 1][0], below)
            break
    if best is None:  # nothing looks like a header: the first row, the missing columns say why
        best = head[0]
    return Framed(table, _names(best[1]), best[0])


def header_hint(registry: Registry) -> str:
    from loaders.mapping import ColumnMap, missing_required

    required = missing_required(ColumnMap(registry, {}))
    return ", ".join(f"«{preferred_header(registry, f)}»" for f in required[:4])


__all__ = ["Framed", "frame", "header_hint", "norm_header"]
