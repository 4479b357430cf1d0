"""A source table → one registry of the graph, through graph.ingest only.

All-or-nothing (default): every record is validated and reference-checked before the first
write; if anything is wrong nothing is written. Large files are then written in batches of
managed transactions (MERGE, so a killed load run again converges to the same graph).
`partial`: valid records are written, the rest reported. `dry_run`: nothing is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.access import SYSTEM, Principal
from graph.ingest import IngestReport, Prepared, ingest, prepare
from graph.registry import LOAD_ORDER, REGISTRIES, Registry
from loaders.mapping import (
    ColumnMap,
    Record,
    RowProblem,
    build_records,
    locate,
    map_columns,
    missing_required,
    preferred_header,
)
from loaders.sources import SUFFIXES, SourceError, Table, read_source

BATCH_ROWS = 5000
Progress = Callable[[str, int, int], None]  # registry, records done, records total


@dataclass
class LoadReport:
    registry: str
    source: str
    read: int = 0
    records: int = 0
    valid: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    written: bool = False
    dry_run: bool = False
    partial: bool = False
    account: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "registry": self.registry, "source": self.source, "read": self.read,
            "records": self.records, "valid": self.valid, "created": self.created,
            "updated": self.updated, "unchanged": self.unchanged, "rejected": self.rejected,
            "written": self.written, "dry_run": self.dry_run, "partial": self.partial,
            "account": self.account, "encoding": self.encoding, "delimiter": self.delimiter,
            "columns": self.columns, "ignored_columns": self.ignored_columns,
            "errors": [e.as_dict() for e in self.errors],
        }


def _problems(cmap: ColumnMap, records: list[Record], errors: list[Any]) -> list[RowProblem]:
    out = []
    for e in errors:
        record = records[e.row]
        row, column = locate(cmap, record, e.field, e.value)
        out.append(RowProblem(row, column, e.field, _plain(e.value), e.message))
    return out


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def _add(report: LoadReport, part: IngestReport) -> None:
    report.created += part.created
    report.updated += part.updated
    report.unchanged += part.unchanged
    report.written = report.written or part.written


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a load builds ~10 objects per row (refcounting
    still frees them): −30 % of the loader's Python time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_gc_paused()
def load_table(driver: Any, registry: Registry | str, table: Table, *,
               mapping: Mapping[str, str | None] | None = None, partial: bool = False,
               dry_run: bool = False, batch_rows: int = BATCH_ROWS,
               principal: Principal = SYSTEM, database: str | None = None,
               progress: Progress | None = None) -> LoadReport:
    registry = REGISTRIES[registry] if isinstance(registry, str) else registry
    report = LoadReport(registry.name, table.source, read=len(table.rows) + len(table.problems),
                        dry_run=dry_run, partial=partial, account=principal.name,
                        encoding=table.encoding, delimiter=table.delimiter)
    cmap = map_columns(registry, table.columns, mapping)
    report.columns, report.ignored_columns = dict(cmap.columns), list(cmap.ignored)
    unreadable = [RowProblem(row, "", "*", None, msg) for row, msg in table.problems]
    missing = missing_required(cmap)
    if missing and table.rows:
        report.errors = unreadable + [
            RowProblem(1, "", name, None,
                       f"нет столбца для обязательного поля «{name}» "
                       f"(например, «{preferred_header(registry, name)}» или «{name}»)")
            for name in missing]
        report.records = report.rejected = len(table.rows)
        return report

    records, problems = build_records(cmap, table.rows)
    problem_rows = {p.row for p in problems}
    bad_records = {i for i, r in enumerate(records) if problem_rows.intersection(r.rows)}
    prepared = prepare(registry, [r.data for r in records], first_row=0)
    valid = [(i, node) for i, node in prepared.valid if i not in bad_records]
    prepared = Prepared(registry, len(records), valid, prepared.errors)
    report.records = len(records)
    session_args = {"database": database} if database else {}
    source = f"load:{Path(table.source).name}"

    def run(p: Prepared, *, dry: bool) -> IngestReport:
        def work(tx: Any) -> IngestReport:
            return ingest(tx, p, partial=partial, dry_run=dry, principal=principal,
                          source=source)
        with driver.session(**session_args) as session:
            if dry:
                return session.execute_read(work)
            return session.execute_write(work)

    single = len(valid) <= batch_rows
    checked = run(prepared, dry=dry_run or not single)
    if single:
        _add(report, checked)
    errors = checked.errors
    rejected_idx = {e.row for e in errors} | bad_records
    report.errors = unreadable + sorted(
        problems + _problems(cmap, records, errors), key=lambda p: p.row)
    report.valid = len([i for i, _ in valid if i not in rejected_idx])
    report.rejected = report.records - report.valid
    if progress:
        progress(registry.name, 0 if not single or dry_run else report.valid, report.valid)
    if single or dry_run or (report.errors and not partial):
        return report

    # Checked in full: now write in batches, one managed transaction each. One at a time:
    # two at once deadlock on the sites, types and STOCKS they share (measured), and making the
    # next batch's rows in a thread meanwhile gained nothing.
    good = [(i, node) for i, node in valid if i not in rejected_idx]
    done = 0
    for start in range(0, len(good), batch_rows):
        chunk = good[start:start + batch_rows]
        part = run(Prepared(registry, len(chunk), chunk, []), dry=False)
        _add(report, part)
        if part.errors:  # a reference vanished since the check (a concurrent delete)
            report.errors += _problems(cmap, records, part.errors)
            if not partial:
                break
        done += len(chunk)
        if progress:
            progress(registry.name, done, len(good))
    return report


def load_source(driver: Any, registry: str, source: str, *, sheet: str | None = None,
                table: str | None = None, query: str | None = None,
                **options: Any) -> LoadReport:
    return load_table(driver, registry, read_source(source, sheet=sheet, table=table,
                                                    query=query), **options)


def registry_files(directory: Path) -> list[tuple[str, Path]]:
    """Files named after registries (`equipment.jsonl`, `staff.csv`…) in LOAD_ORDER."""
    found = []
    for name in LOAD_ORDER + tuple(n for n in REGISTRIES if n not in LOAD_ORDER):
        for suffix in SUFFIXES:
            path = directory / f"{name}{suffix}"
            if path.is_file():
                found.append((name, path))
                break
    return found


def load_directory(driver: Any, directory: Path | str, **options: Any) -> list[LoadReport]:
    """Every registry file of a directory in LOAD_ORDER, then its subdirectories (sorted).

    Stops at the first registry with errors unless `partial`: later files reference it.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise SourceError(f"каталог не найден: {directory}")
    reports: list[LoadReport] = []
    for name, path in registry_files(directory):
        report = load_table(driver, name, read_source(str(path)), **options)
        reports.append(report)
        if not report.ok and not options.get("partial"):
            return reports
    for sub in sorted(p for p in directory.iterdir() if p.is_dir()):
        if registry_files(sub) or any(q.is_dir() for q in sub.iterdir()):
            reports += load_directory(driver, sub, **options)
            if reports and not reports[-1].ok and not options.get("partial"):
                return reports
    return reports
