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
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from neo4j.exceptions import Neo4jError

from graph.access import SYSTEM, Principal
from graph.ingest import IngestReport, Prepared, ingest, prepare
from graph.registry import LOAD_ORDER, REGISTRIES, Registry
from loaders.frame import frame
from loaders.mapping import (
    NESTED,
    ColumnMap,
    Record,
    RowProblem,
    build_records,
    locate,
    map_columns,
    missing_required,
    preferred_header,
)
from loaders.messages import display, humanize
from loaders.resolve import Resolver
from loaders.sources import SUFFIXES, RowIssue, SourceError, Table, read_source

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
    errors_total: int = 0  # errors found; at most MAX_ERRORS are listed
    skipped: list[tuple[int, str]] = field(default_factory=list)  # totals rows (row, why)
    header_row: int | None = None
    restored: int = 0

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
            "errors_total": max(self.errors_total, len(self.errors)),
            "skipped": [{"row": r, "reason": why} for r, why in self.skipped],
            "header_row": self.header_row, "restored": self.restored,
        }


CHUNK_ROWS = 5000  # source rows validated and checked at a time: memory does not grow with files
MAX_ERRORS = 10_000  # errors listed in a report (all are counted: errors_total)
Counts = Callable[[int, int, int], None]  # rows read, validated, written so far
# NUL and control characters other than tab and line breaks are never data
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DUPLICATE = re.compile(r"^ключ уже встречался в строке (\d+)$")
_NEUTRALISED = re.compile(r"^'(?=[=+\-@\t\r])")  # the export's guard against formulas
MIN_YEAR, MAX_YEAR = 1900, 2100


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return None  # a whole row, never shown as a dict
    return str(value)


def _count(n: int) -> str:
    return f"{n:,}".replace(",", "\u00a0")  # 200 000


def _add(report: LoadReport, part: IngestReport) -> None:
    report.created += part.created
    report.updated += part.updated
    report.unchanged += part.unchanged
    report.restored += part.restored
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


def _field_kinds(registry: Registry) -> tuple[set[str], set[str]]:
    """Targets holding a year (integers named *year*) and dates (top level and item fields)."""
    from loaders.mapping import NESTED, target_fields
    from loaders.messages import field_type

    years, dates = set(), set()
    nested = NESTED.get(registry.name)
    for target in target_fields(registry):
        path = target
        if nested and target.startswith(nested.prefix) and \
                target not in registry.model.model_fields:
            path = f"{nested.field}.{target[len(nested.prefix):]}"
        kind = field_type(registry, path)
        if kind is int and "year" in target:
            years.add(target)
        if kind is dt.date:
            dates.add(target)
    return years, dates


def check_constants(registry: Registry, constants: Mapping[str, Any] | None) -> dict[str, Any]:
    """`--set FIELD=VALUE`: fields of the registry only (Russian headers accepted too)."""
    from loaders.mapping import map_columns

    out: dict[str, Any] = {}
    for name, value in (constants or {}).items():
        cmap = map_columns(registry, [name])
        target = cmap.columns.get(name)
        if target is None or target not in registry.model.model_fields:
            fields = ", ".join(registry.model.model_fields)
            raise SourceError(f"--set {name}=…: в реестре «{registry.title}» нет поля «{name}»; "
                              f"допустимо: {fields}")
        out[target] = value
    return out


class _Pipeline:
    """Source rows → checked records, one chunk at a time."""

    def __init__(self, registry: Registry, cmap: ColumnMap, constants: dict[str, Any],
                 resolver: Resolver, session: Any) -> None:
        self.registry, self.cmap, self.constants = registry, cmap, constants
        self.resolver, self.session = resolver, session
        self.years, self.dates = _field_kinds(registry)
        self.seen: dict[int, int] = {}  # hash of a natural key → file row of its first record

    def cells(self, number: int, raw: dict[str, Any]) -> list[RowProblem]:
        problems = []
        for column, target in self.cmap.columns.items():
            value = raw.get(column)
            if isinstance(value, str):
                bad = _CONTROL.search(value)
                if bad:
                    problems.append(RowProblem(
                        number, column, target, _CONTROL.sub("?", value)[:100],
                        f"недопустимый управляющий символ (код {ord(bad.group()):#04x}) в "
                        f"ячейке: удалите его, в ячейке допустимы текст, табуляция и перенос "
                        f"строки"))
                    continue
                if _NEUTRALISED.match(value):
                    raw[column] = value[1:]
            if target in self.years and isinstance(value, dt.date):
                raw[column] = value.year
            elif target in self.dates and isinstance(value, dt.date):
                if not MIN_YEAR <= value.year <= MAX_YEAR:
                    problems.append(RowProblem(
                        number, column, target, display(value),
                        f"дата вне допустимого диапазона: год от {MIN_YEAR} до {MAX_YEAR}"))
            elif target in self.dates and isinstance(value, str):
                m = re.search(r"(\d{4})-\d{2}-\d{2}|\d{1,2}\.\d{1,2}\.(\d{4})", value)
                year = int(m.group(1) or m.group(2)) if m else None
                if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
                    problems.append(RowProblem(
                        number, column, target, value,
                        f"дата вне допустимого диапазона: год от {MIN_YEAR} до {MAX_YEAR}"))
        return problems

    def problems_of(self, records: list[Record], errors: list[Any]) -> list[RowProblem]:
        out = []
        for e in errors:
            record = records[e.row]
            row, column = locate(self.cmap, record, e.field, e.value)
            message = e.message
            dup = _DUPLICATE.match(message)
            if dup and int(dup.group(1)) < len(records):
                message = f"ключ уже встречался в строке {records[int(dup.group(1))].rows[0]}"
            value = _plain(e.value)
            if message == "обязательное поле не заполнено":
                value = None
            message = humanize(self.registry, e.field, value, message)
            out.append(RowProblem(row, column, e.field, value, message))
        return out

    def run(self, chunk: list[tuple[int, Any]]
            ) -> tuple[list[Record], list[tuple[int, Any]], list[RowProblem], int]:
        """(records, valid (record index, node), problems, rejected records) of a chunk."""
        problems: list[RowProblem] = []
        rows = []
        for number, raw in chunk:
            if isinstance(raw, RowIssue):
                problems.append(RowProblem(number, "", "*", None, raw.message))
                continue
            cell_problems = self.cells(number, raw)
            if cell_problems:
                problems += cell_problems
                continue
            rows.append((number, raw))
        records, built = build_records(self.cmap, rows)
        problems += built
        for record in records:
            for name, value in self.constants.items():
                if record.data.get(name) is None:
                    record.data[name] = value
        if self.resolver.refs:
            problems += self.resolver.resolve(self.session, self.cmap, records)
        prepared = prepare(self.registry, [r.data for r in records], first_row=0)
        problems += self.problems_of(records, prepared.errors)
        bad_rows = {p.row for p in problems}
        bad = {i for i, r in enumerate(records) if bad_rows.intersection(r.rows)}
        bad |= {e.row for e in prepared.errors}
        valid = []
        for i, node in prepared.valid:
            if i in bad:
                continue
            key = hash(node.uid)
            first = self.seen.get(key)
            if first is not None:
                problems.append(RowProblem(records[i].rows[0], self.cmap.source_of(
                    self.registry.model.KEY_FIELDS[-1]), ", ".join(self.registry.model.KEY_FIELDS),
                    node.uid, f"ключ уже встречался в строке {first}"))
                bad.add(i)
                continue
            self.seen[key] = records[i].rows[0]
            valid.append((i, node))
        problems.sort(key=lambda p: p.row)
        unread = len({p.row for p in problems if p.field == "*"})
        return records, valid, problems, len(bad) + unread


def _chunks(rows: Any, size: int | None) -> Iterator[list[tuple[int, Any]]]:
    it = iter(rows)
    while True:
        chunk = list(islice(it, size)) if size else list(it)
        if not chunk:
            return
        yield chunk
        if not size:
            return


@_gc_paused()
def load_table(driver: Any, registry: Registry | str, table: Table, *,
               mapping: Mapping[str, str | None] | None = None, partial: bool = False,
               dry_run: bool = False, batch_rows: int | None = None,
               max_rows: int | None = MAX_ROWS, principal: Principal = SYSTEM,
               database: str | None = None, progress: Progress | None = None,
               header_row: int | None = None, constants: Mapping[str, Any] | None = None,
               restore: bool = False, counts: Counts | None = None,
               chunk_rows: int = CHUNK_ROWS) -> LoadReport:
    """Load one table. Without `batch_rows`: one write transaction for the whole file (refused
    with TooLargeError above `max_rows` records; None: no limit). With `batch_rows`: checked
    chunk by chunk in read transactions, then written in transactions of `batch_rows`
    records. `dry_run` checks chunk by chunk and keeps nothing: memory stays flat however
    long the file. `constants` (`--set`): a value for every row where its cell is empty;
    `restore`: retired records with a row's key are brought back before they are written."""
    if batch_rows is not None and batch_rows < 1:
        raise SourceError(f"--batch-rows должно быть не меньше 1, получено {batch_rows}")
    registry = REGISTRIES[registry] if isinstance(registry, str) else registry
    consts = check_constants(registry, constants)
    framed = frame(table, registry, mapping, header_row)
    report = LoadReport(registry.name, table.source, dry_run=dry_run, partial=partial,
                        account=principal.name, encoding=table.encoding,
                        delimiter=table.delimiter, batch_rows=batch_rows,
                        header_row=framed.header_row)
    cmap = map_columns(registry, framed.columns, mapping)
    report.columns, report.ignored_columns = dict(cmap.columns), list(cmap.ignored)
    for name in consts:
        report.columns.setdefault(f"--set {name}", name)
    unreadable = [RowProblem(row, "", "*", None, msg) for row, msg in table.problems]
    missing = [f for f in missing_required(cmap) if f not in consts]
    nested = registry.name in NESTED
    if missing:
        n = sum(1 for _ in framed)
        if n:
            where = f" (строка заголовка — {framed.header_row}; другую укажите: --header-row N)" \
                if framed.header_row else ""
            report.errors = unreadable + [
                RowProblem(framed.header_row or 1, "", name, None,
                           f"нет столбца для обязательного поля «{name}» (например, "
                           f"«{preferred_header(registry, name)}» или «{name}»){where}; "
                           f"значение для всех строк можно задать: --set {name}=…")
                for name in missing]
            report.read = report.records = report.rejected = n + len(table.problems)
        report.skipped = list(framed.skipped)
        return report

    session_args = {"database": database} if database else {}
    source = f"load:{Path(table.source).name}"
    errors: list[RowProblem] = list(unreadable)
    read = len(table.problems)

    def note(problems: list[RowProblem]) -> None:
        report.errors_total += len(problems)
        room = MAX_ERRORS - len(errors)
        if room > 0:
            errors.extend(problems[:room])

    def run(p: Prepared, *, dry: bool, part: bool = partial) -> IngestReport:
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
                return ingest(tx, p, partial=part, dry_run=dry, principal=principal,
                              source=source, restore=restore and not dry)
        with driver.session(**session_args) as session, memory_checked():  # or at commit
            if dry:
                return session.execute_read(work)
            return session.execute_write(work)

    single = batch_rows is None and not dry_run
    seen = 0
    kept_records: list[Record] = []
    kept_valid: list[tuple[int, Any]] = []
    rejected_rows: set[int] = set()
    with driver.session(**session_args) as lookup:
        pipeline = _Pipeline(registry, cmap, consts, Resolver(registry.name), lookup)
        for chunk in _chunks(framed, None if nested else chunk_rows):
            read += len(chunk)
            records, valid, problems, rejected = pipeline.run(chunk)
            report.records += len(records) + len({p.row for p in problems if p.field == "*"})
            seen += len(records)
            if batch_rows is None and max_rows is not None and seen > max_rows:
                # a dry run answers what the load would: refused as a whole
                raise TooLargeError(
                    f"{Path(table.source).name}: записей больше предела одной транзакции "
                    f"({_count(max_rows)}, HUB_LOAD_MAX_ROWS), ничего не записано. "
                    f"Разбейте файл, увеличьте HUB_LOAD_MAX_ROWS (и HUB_NEO4J_HEAP) или "
                    f"загрузите частями: --batch-rows {BATCH_ROWS} "
                    f"(не атомарно: после сбоя повторите ту же загрузку)")
            if single:
                offset = len(kept_records)
                kept_records += records
                kept_valid += [(offset + i, node) for i, node in valid]
                report.rejected += rejected
                note(problems)
            else:  # checked now, in a read transaction; nothing kept
                checked = run(Prepared(registry, len(records), valid, []), dry=True)
                more = pipeline.problems_of(records, checked.errors)
                refused = {e.row for e in checked.errors}
                report.rejected += rejected + len(refused)
                rejected_rows |= {records[i].rows[0] for i in refused}
                note(sorted(problems + more, key=lambda p: p.row))
            if counts:
                counts(read, read - len(table.problems), 0)
    report.read = read
    report.skipped = list(framed.skipped)
    report.atomic = batch_rows is None

    if single:
        # any rejected row and not --partial: nothing is written, the rest is only checked
        refuse = bool(report.errors_total) and not partial
        checked = run(Prepared(registry, len(kept_records), kept_valid, []), dry=refuse)
        _add(report, checked)
        more = pipeline.problems_of(kept_records, checked.errors)
        report.rejected += len({e.row for e in checked.errors})
        note(more)
        if not checked.written:
            report.created = report.updated = report.unchanged = 0
        if counts:
            counts(read, read, report.created + report.updated + report.unchanged)
    report.errors = sorted(errors, key=lambda p: p.row)
    report.valid = report.records - report.rejected
    if progress:
        progress(registry.name, 0 if dry_run or not single else report.valid, report.valid)
    if single or dry_run or (report.errors and not partial):
        return report

    # `batch_rows`: checked in full above, now read again and written in batches, one
    # managed transaction each — a failure half way leaves the batches before it (a rerun
    # converges: MERGE on natural keys). One at a time: two at once deadlock on the sites,
    # types and STOCKS they share (measured).
    assert batch_rows is not None
    done = 0
    with driver.session(**session_args) as lookup:
        pipeline = _Pipeline(registry, cmap, consts, Resolver(registry.name), lookup)
        for chunk in _chunks(framed, None if nested else batch_rows):
            records, valid, _problems, _ = pipeline.run(chunk)
            good = [(i, node) for i, node in valid if records[i].rows[0] not in rejected_rows]
            if not good:
                continue
            part = run(Prepared(registry, len(records), good, []), dry=False)
            _add(report, part)
            if part.errors:  # a reference vanished since the check (a concurrent delete)
                report.errors += pipeline.problems_of(records, part.errors)
                if not partial:
                    break
            done += len(good)
            if progress:
                progress(registry.name, done, report.valid)
            if counts:
                counts(read, read, done)
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
