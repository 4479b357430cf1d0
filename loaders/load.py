"""A source table → one registry of the graph, through graph.ingest only.

All-or-nothing (default): one file is ONE write transaction — validation, the rights and
reference checks, the upsert of every record (in 5,000-row statements) and the audit. If
anything is wrong, or Neo4j goes away half way, nothing of the file is written. A file of more
than `max_rows` records (HUB_LOAD_MAX_ROWS) is refused: one transaction that large would not fit
the server's transaction memory. With `batch_rows` the records are checked in full first, then
written in one transaction per `batch_rows` records — not atomic, but MERGE on the natural keys
makes a rerun after a failure converge to the graph of one clean run.
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

from neo4j.exceptions import Neo4jError

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

BATCH_ROWS = 5000  # rows per write transaction when a load is split (`--batch-rows`)
# Most records one load writes in one transaction (default of HUB_LOAD_MAX_ROWS, hub/settings.py).
# Measured (loaders/README.md): ≈ 11 KB of Neo4j transaction memory per equipment record at its
# peak; the server's transaction pool is 70 % of its heap, so with the local runtime's 1 GB
# 50,000 records fit (572 MB of 717) and 75,000 do not.
MAX_ROWS = 50_000
Progress = Callable[[str, int, int], None]  # registry, records done, records total


class TooLargeError(SourceError):
    """A file too large for one transaction, loaded without `batch_rows`: refused unread."""


class TransactionMemoryError(RuntimeError):
    """Neo4j ran out of transaction memory for a load's transaction (nothing written).

    Raised from inside the transaction function when a statement runs out, so that the driver
    does not retry it (it would only fail again, after as long); a commit that runs out is
    retried by the driver before this is raised."""


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
    atomic: bool = True  # False: written in several transactions (`batch_rows`)
    batch_rows: int | None = None
    transactions: int = 0  # write transactions committed
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
            "atomic": self.atomic, "batch_rows": self.batch_rows,
            "transactions": self.transactions,
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


def _count(n: int) -> str:
    return f"{n:,}".replace(",", "\u00a0")  # 200 000


def _add(report: LoadReport, part: IngestReport) -> None:
    report.created += part.created
    report.updated += part.updated
    report.unchanged += part.unchanged
    report.written = report.written or part.written
    report.transactions += part.written


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
               dry_run: bool = False, batch_rows: int | None = None,
               max_rows: int | None = MAX_ROWS, principal: Principal = SYSTEM,
               database: str | None = None, progress: Progress | None = None) -> LoadReport:
    """Load one table. Without `batch_rows`: one write transaction for the whole file (refused
    with TooLargeError above `max_rows` records; None: no limit). With `batch_rows`: checked in
    one read transaction, then written in transactions of `batch_rows` records."""
    if batch_rows is not None and batch_rows < 1:
        raise SourceError(f"--batch-rows должно быть не меньше 1, получено {batch_rows}")
    registry = REGISTRIES[registry] if isinstance(registry, str) else registry
    report = LoadReport(registry.name, table.source, read=len(table.rows) + len(table.problems),
                        dry_run=dry_run, partial=partial, account=principal.name,
                        encoding=table.encoding, delimiter=table.delimiter,
                        batch_rows=batch_rows)
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
    if batch_rows is None and max_rows is not None and len(records) > max_rows:
        raise TooLargeError(
            f"{Path(table.source).name}: {_count(len(records))} записей — больше предела одной "
            f"транзакции ({_count(max_rows)}, HUB_LOAD_MAX_ROWS), ничего не записано. "
            f"Разбейте файл, увеличьте HUB_LOAD_MAX_ROWS (и HUB_NEO4J_HEAP) или загрузите "
            f"частями: --batch-rows {BATCH_ROWS} (не атомарно: после сбоя повторите ту же "
            f"загрузку)")
    problem_rows = {p.row for p in problems}
    bad_records = {i for i, r in enumerate(records) if problem_rows.intersection(r.rows)}
    prepared = prepare(registry, [r.data for r in records], first_row=0)
    valid = [(i, node) for i, node in prepared.valid if i not in bad_records]
    prepared = Prepared(registry, len(records), valid, prepared.errors)
    report.records = len(records)
    session_args = {"database": database} if database else {}
    source = f"load:{Path(table.source).name}"

    def run(p: Prepared, *, dry: bool) -> IngestReport:
        @contextlib.contextmanager
        def memory_checked() -> Iterator[None]:
            try:
                yield
            except Neo4jError as exc:
                if "MemoryPoolOutOfMemoryError" in (exc.code or ""):
                    raise TransactionMemoryError(
                        f"{Path(table.source).name}: Neo4j не хватило памяти транзакции на "
                        f"{_count(len(p.valid))} записей ({exc.code}), ничего не записано. "
                        f"Загрузите частями (--batch-rows {BATCH_ROWS}), уменьшите "
                        f"HUB_LOAD_MAX_ROWS или увеличьте HUB_NEO4J_HEAP") from exc
                raise

        def work(tx: Any) -> IngestReport:
            with memory_checked():  # in a statement: not retried (it would fail again)
                return ingest(tx, p, partial=partial, dry_run=dry, principal=principal,
                              source=source)
        with driver.session(**session_args) as session, memory_checked():  # or at commit
            if dry:
                return session.execute_read(work)
            return session.execute_write(work)

    # Default: the whole file in this one transaction (checks, upsert, audit). Split only on
    # request, and only if it does not fit one batch.
    single = batch_rows is None or len(valid) <= batch_rows
    report.atomic = single
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

    # `batch_rows`: checked in full, now written in batches, one managed transaction each —
    # a failure half way leaves the batches before it (a rerun converges: MERGE on natural
    # keys). One at a time: two at once deadlock on the sites, types and STOCKS they share
    # (measured), and making the next batch's rows in a thread meanwhile gained nothing.
    assert batch_rows is not None
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
