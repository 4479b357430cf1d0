"""A source table → one registry of the graph, through graph.ingest only.

A file is read in chunks of 5,000 records (a nested registry's record with all its rows:
loaders/chunks.py), each validated while Neo4j writes the one before, so memory does not grow
with the file.

All-or-nothing (default): one file is ONE write transaction — the rights and reference checks,
the upsert and the audit of each chunk as it comes. If anything is wrong, or Neo4j goes away
half way, the transaction is rolled back: nothing of the file is written. A file of more than
`max_rows` records (HUB_LOAD_MAX_ROWS) is refused: one transaction that large would not fit the
server's transaction memory. With `batch_rows` the records are checked in full first, then
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
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from neo4j.exceptions import Neo4jError
from pydantic import StringConstraints

from graph.access import SYSTEM, Principal
from graph.ingest import IngestReport, Prepared, ingest, prepare
from graph.registry import LOAD_ORDER, REGISTRIES, Registry
from loaders.chunks import Chunks, KeyOf, SeenKeys, ahead
from loaders.formats import GUARD, unguard
from loaders.frame import frame
from loaders.mapping import (
    NESTED,
    ColumnMap,
    Record,
    RowProblem,
    build_records,
    clean,
    locate,
    map_columns,
    missing_required,
    preferred_header,
)
from loaders.mapping import _group_key as group_key
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


CHUNK_ROWS = 5000  # records validated and checked at a time: memory does not grow with files
MAX_ERRORS = 10_000  # errors listed in a report (all are counted: errors_total)
Counts = Callable[[int, int, int], None]  # rows read, validated, written so far
# NUL and control characters other than tab and line breaks are never data
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DUPLICATE = re.compile(r"^ключ уже встречался в строке (\d+)$")
_DATE = re.compile(r"(\d{4})-\d{2}-\d{2}|\d{1,2}\.\d{1,2}\.(\d{4})")
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
    still frees them): −30 % of the loader's Python time. The young generations are
    collected after each chunk: the driver's results are cycles that hold their statement's
    parameters (measured: without it a 1 M-row load grew 2.5 MB/s, past 700 MB)."""
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


def _typed_as_is(info: Any) -> bool:
    """A free-text field the models keep as typed (`graph.models.Text`, `LongText`)."""
    def kept(ann: Any) -> bool:
        if get_origin(ann) is Annotated:
            return any(isinstance(m, StringConstraints) and m.strip_whitespace is False
                       for m in get_args(ann)[1:])
        return any(kept(a) for a in get_args(ann)) if get_origin(ann) in (Union, UnionType) \
            else False

    return any(isinstance(m, StringConstraints) and m.strip_whitespace is False
               for m in info.metadata) or kept(info.annotation)


def _with_constants(cmap: ColumnMap, constants: dict[str, Any]) -> ColumnMap:
    """`--set` fields without a column of their own become columns named «--set FIELD»."""
    present = set(cmap.columns.values())
    extra = {f"--set {name}": name for name in constants if name not in present}
    return ColumnMap(cmap.registry, {**cmap.columns, **extra}, list(cmap.ignored))


def _record_key(registry: Registry, cmap: ColumnMap, constants: dict[str, Any]) -> KeyOf:
    """The natural key a source row's record has, as mapping.build_records groups rows."""
    sources = [(f, cmap.source_of(f)) for f in registry.model.KEY_FIELDS]

    def key_of(raw: Any) -> str | None:
        if not isinstance(raw, Mapping):
            return None  # an unreadable row: a record of its own
        data = {}
        for name, column in sources:
            value = clean(raw.get(column)) if column else None
            data[name] = constants.get(name) if value is None else value
        key = group_key(registry, data)
        return "\x1f".join(key) if key else None

    return key_of


def problems_of(registry: Registry, cmap: ColumnMap, records: list[Record],
                errors: list[Any]) -> list[RowProblem]:
    """Errors of the validation and write path (by record index) → file row and column."""
    out = []
    for e in errors:
        record = records[e.row]
        row, column = locate(cmap, record, e.field, e.value)
        message = e.message
        dup = _DUPLICATE.match(message)
        if dup and int(dup.group(1)) < len(records):
            message = f"ключ уже встречался в строке {records[int(dup.group(1))].rows[0]}"
        value = _plain(e.value)
        if message == "обязательное поле не заполнено":
            value = None
        out.append(RowProblem(row, column, e.field, value,
                              humanize(registry, e.field, value, message)))
    return out


class _Pipeline:
    """Source rows → checked records, one chunk at a time."""

    def __init__(self, registry: Registry, cmap: ColumnMap, constants: dict[str, Any],
                 resolver: Resolver, session: Any, sheet: bool) -> None:
        self.registry, self.cmap = registry, cmap
        self.sheet = sheet  # CSV or XLSX: a cell may carry the export's formula guard
        self.resolver, self.session = resolver, session
        self.years, self.dates = _field_kinds(registry)
        self.dated = [(column, target) for column, target in cmap.columns.items()
                      if target in self.years or target in self.dates]
        # (column, value) of each `--set` field: the value where the cell is empty
        self.constants = [(cmap.source_of(name), value) for name, value in constants.items()]
        self.seen = SeenKeys()  # natural keys of the chunks before
        fields = registry.model.model_fields
        nested = NESTED.get(registry.name)
        self.nested = nested
        self.texts = {column: target for column, target in cmap.columns.items()
                      if target in fields and _typed_as_is(fields[target])}
        self.item_texts: dict[str, str] = {}
        if nested:
            item_model = _item_model(registry, nested.field)
            for column, target in cmap.columns.items():
                name = target[len(nested.prefix):]
                if target.startswith(nested.prefix) and target not in fields and \
                        item_model is not None and name in item_model.model_fields and \
                        _typed_as_is(item_model.model_fields[name]):
                    self.item_texts[column] = name

    def cells(self, number: int, raw: dict[str, Any]) -> list[RowProblem]:
        for column, value in self.constants:
            cell = raw.get(column)
            if cell is None or (isinstance(cell, str) and not cell.strip()):
                raw[column] = value
        problems = []
        columns = self.cmap.columns
        texts = [(c, v) for c in columns if isinstance(v := raw.get(c), str)]
        controlled = set()
        if _CONTROL.search("\n".join(v for _, v in texts)):  # rare: which cells
            for column, value in texts:
                bad = _CONTROL.search(value)
                if bad:
                    controlled.add(column)
                    problems.append(RowProblem(
                        number, column, columns[column], _CONTROL.sub("?", value)[:100],
                        f"недопустимый управляющий символ (код {ord(bad.group()):#04x}) в "
                        f"ячейке: удалите его, в ячейке допустимы текст, табуляция и перенос "
                        f"строки"))
        if self.sheet:
            for column, value in texts:
                if value.startswith(GUARD) and column not in controlled:
                    raw[column] = unguard(value)
        for column, target in self.dated:
            value = raw.get(column)
            if column in controlled:
                continue
            if target in self.years and isinstance(value, dt.date):
                raw[column] = value.year
            elif target in self.dates and isinstance(value, dt.date):
                if not MIN_YEAR <= value.year <= MAX_YEAR:
                    problems.append(RowProblem(
                        number, column, target, display(value),
                        f"дата вне допустимого диапазона: год от {MIN_YEAR} до {MAX_YEAR}"))
            elif target in self.dates and isinstance(value, str):
                m = _DATE.search(value)
                year = int(m.group(1) or m.group(2)) if m else None
                if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
                    problems.append(RowProblem(
                        number, column, target, value,
                        f"дата вне допустимого диапазона: год от {MIN_YEAR} до {MAX_YEAR}"))
        return problems

    def as_typed(self, records: list[Record], raws: dict[int, dict[str, Any]]) -> None:
        """Free text as the clerk typed it: `build_records` trimmed every cell."""
        for record in records:
            for column, target in self.texts.items():
                for number in record.rows:  # the row the record's value came from
                    value = raws[number].get(column)
                    if isinstance(value, str) and value.strip():
                        if record.data.get(target) == value.strip():
                            record.data[target] = value
                        break
            if not self.item_texts or self.nested is None:
                continue
            items = record.data.get(self.nested.field)
            if not isinstance(items, list):
                continue
            for item, number in zip(items, record.item_rows, strict=False):
                for column, name in self.item_texts.items():
                    value = raws[number].get(column)
                    if isinstance(value, str) and isinstance(item, dict) and \
                            item.get(name) == value.strip():
                        item[name] = value

    def run(self, chunk: list[tuple[int, Any]]) -> _Checked:
        problems: list[RowProblem] = []
        rows = []
        for number, raw in chunk:
            if isinstance(raw, RowIssue):
                problems.append(RowProblem(number, "", "*", None, raw.message))
                continue
            raw = dict(raw)  # a source read again (a JSON array) keeps its cells
            cell_problems = self.cells(number, raw)
            if cell_problems:
                problems += cell_problems
                continue
            rows.append((number, raw))
        records, built = build_records(self.cmap, rows)
        problems += built
        if self.texts or self.item_texts:
            self.as_typed(records, dict(rows))
        if self.resolver.refs:
            problems += self.resolver.resolve(self.session, self.cmap, records)
        prepared = prepare(self.registry, [r.data for r in records], first_row=0)
        problems += problems_of(self.registry, self.cmap, records, prepared.errors)
        bad_rows = {p.row for p in problems}
        bad = {i for i, r in enumerate(records) if bad_rows.intersection(r.rows)}
        bad |= {e.row for e in prepared.errors}
        keyed = [(i, node, hash(node.uid)) for i, node in prepared.valid if i not in bad]
        firsts = self.seen.firsts([key for _, _, key in keyed])
        valid = []
        for i, node, key in keyed:
            if key in firsts:
                problems.append(RowProblem(records[i].rows[0], self.cmap.source_of(
                    self.registry.model.KEY_FIELDS[-1]), ", ".join(self.registry.model.KEY_FIELDS),
                    node.uid, f"ключ уже встречался в строке {firsts[key]}"))
                bad.add(i)
                continue
            valid.append((i, node))
        self.seen.add([(key, records[i].rows[0]) for i, _, key in keyed if i not in bad])
        problems.sort(key=lambda p: p.row)
        unread = len({p.row for p in problems if p.field == "*"})
        return _Checked(len(chunk), records, valid, problems, len(bad) + unread)


@dataclass
class _Checked:
    """A chunk after validation and the reference lookups (nothing asked of the graph's
    rights and links yet)."""

    rows: int  # source rows read
    records: list[Record]
    valid: list[tuple[int, Any]]  # (record index, node)
    problems: list[RowProblem]
    rejected: int  # records and unreadable rows rejected

    @property
    def entries(self) -> int:  # records, and unreadable rows that made none
        return len(self.records) + len({p.row for p in self.problems if p.field == "*"})


def _item_model(registry: Registry, list_field: str) -> Any:
    from loaders.messages import field_type

    return field_type(registry, f"{list_field}.0")


class _Refused(Exception):
    """Raised out of the one write transaction of a file that has errors: rolled back."""

    def __init__(self, report: LoadReport) -> None:
        super().__init__(report.source)
        self.report = report


class _Errors:
    """The errors of a load: all counted, at most MAX_ERRORS listed."""

    def __init__(self, report: LoadReport, first: list[RowProblem]) -> None:
        self.report, self.listed = report, list(first)
        report.errors_total = len(first)

    def note(self, problems: list[RowProblem]) -> None:
        self.report.errors_total += len(problems)
        room = MAX_ERRORS - len(self.listed)
        if room > 0:
            self.listed.extend(problems[:room])

    def done(self) -> None:
        self.report.errors = sorted(self.listed, key=lambda p: p.row)
        self.report.valid = self.report.records - self.report.rejected


@dataclass
class _Load:
    """One table on its way in: the chunks, the transactions, the report."""

    driver: Any
    registry: Registry
    cmap: ColumnMap
    constants: dict[str, Any]
    table: Table
    chunks: Chunks
    report: LoadReport
    unreadable: list[RowProblem]
    session_args: dict[str, Any]
    principal: Principal
    partial: bool
    restore: bool
    max_rows: int | None
    counts: Counts | None
    records_seen: int = 0  # records read so far by the transaction under way

    def checked(self, size: int) -> Iterator[_Checked]:
        """Chunks read and validated one ahead, in a thread with its own lookup session."""
        def produce() -> Iterator[_Checked]:
            with self.driver.session(**self.session_args) as lookup:
                pipeline = _Pipeline(self.registry, self.cmap, self.constants,
                                     Resolver(self.registry.name), lookup,
                                     sheet=self.table.grid is not None)
                try:
                    for chunk in self.chunks(size):
                        yield pipeline.run(chunk)
                finally:
                    pipeline.seen.close()
        for c in ahead(produce()):
            yield c
            gc.collect(1)  # the chunk's cycles: see _gc_paused

    def problems_of(self, c: _Checked, errors: list[Any]) -> list[RowProblem]:
        return problems_of(self.registry, self.cmap, c.records, errors)

    @contextlib.contextmanager
    def memory_checked(self) -> Iterator[None]:
        try:
            yield
        except Neo4jError as exc:
            if "MemoryPoolOutOfMemoryError" in (exc.code or ""):
                raise TransactionMemoryError(
                    f"{Path(self.table.source).name}: Neo4j не хватило памяти транзакции на "
                    f"{_count(self.records_seen)} записей ({exc.code}), ничего не записано. "
                    f"Загрузите частями (--batch-rows {BATCH_ROWS}), уменьшите "
                    f"HUB_LOAD_MAX_ROWS или увеличьте HUB_NEO4J_HEAP") from exc
            raise

    def ingest(self, tx: Any, c: _Checked, valid: list[tuple[int, Any]], *,
               dry: bool) -> IngestReport:
        # a statement out of memory: not retried (it would fail again)
        with self.memory_checked():
            return ingest(tx, Prepared(self.registry, len(c.records), valid, []),
                          partial=self.partial, dry_run=dry, principal=self.principal,
                          source=f"load:{Path(self.table.source).name}",
                          restore=self.restore and not dry)

    def count(self, report: LoadReport, c: _Checked, single: bool) -> None:
        report.read += c.rows
        report.records += c.entries
        records = report.records - len(self.table.problems)
        self.records_seen = records if single else len(c.records)
        if single and self.max_rows is not None and records > self.max_rows:
            # a dry run answers what the load would: refused as a whole
            raise TooLargeError(
                f"{Path(self.table.source).name}: записей больше предела одной транзакции "
                f"({_count(self.max_rows)}, HUB_LOAD_MAX_ROWS), ничего не записано. "
                f"Разбейте файл, увеличьте HUB_LOAD_MAX_ROWS (и HUB_NEO4J_HEAP) или "
                f"загрузите частями: --batch-rows {BATCH_ROWS} "
                f"(не атомарно: после сбоя повторите ту же загрузку)")
        if self.counts:
            self.counts(report.read, report.read - len(self.table.problems), 0)

    def one_transaction(self, chunk_rows: int) -> None:
        """The whole file in one write transaction, chunk by chunk: each chunk is written as
        soon as it is checked; the first rejected row (without `partial`) turns the rest into
        checks only and the transaction is rolled back — nothing of the file is written."""
        def work(tx: Any) -> LoadReport:
            part = LoadReport(self.report.registry, self.report.source,
                              read=len(self.table.problems))
            errors = _Errors(part, self.unreadable)
            refuse = bool(self.unreadable) and not self.partial
            for c in self.checked(chunk_rows):
                self.count(part, c, single=True)
                part.rejected += c.rejected
                errors.note(c.problems)
                refuse = refuse or (bool(c.problems) and not self.partial)
                got = self.ingest(tx, c, c.valid, dry=refuse)
                more = self.problems_of(c, got.errors)
                part.rejected += len({e.row for e in got.errors})
                errors.note(more)
                refuse = refuse or (bool(more) and not self.partial)
                _add(part, got)
            errors.done()
            if refuse:
                raise _Refused(part)
            return part

        with self.driver.session(**self.session_args) as session, self.memory_checked():
            try:
                done, written = session.execute_write(work), True
            except _Refused as refused:
                done, written = refused.report, False
        report = self.report
        for name in ("read", "records", "rejected", "valid", "errors", "errors_total",
                     "created", "updated", "unchanged", "restored"):
            setattr(report, name, getattr(done, name))
        report.written = written and done.written
        report.transactions = int(report.written)
        if not report.written:
            report.created = report.updated = report.unchanged = report.restored = 0
        if self.counts:
            self.counts(report.read, report.read,
                        report.created + report.updated + report.unchanged)

    def check(self, chunk_rows: int, single: bool) -> set[int]:
        """Every chunk checked in a read transaction of its own, nothing kept but the
        errors; returns the file rows of the records the graph refused."""
        report = self.report
        report.read = len(self.table.problems)
        errors = _Errors(report, self.unreadable)
        refused_rows: set[int] = set()
        for c in self.checked(chunk_rows):
            self.count(report, c, single)
            with self.driver.session(**self.session_args) as session:
                got = session.execute_read(
                    lambda tx, c=c: self.ingest(tx, c, c.valid, dry=True))
            refused = {e.row for e in got.errors}
            report.rejected += c.rejected + len(refused)
            refused_rows |= {c.records[i].rows[0] for i in refused}
            errors.note(sorted(c.problems + self.problems_of(c, got.errors),
                               key=lambda p: p.row))
        errors.done()
        return refused_rows

    def write_batches(self, batch_rows: int, refused_rows: set[int],
                      progress: Progress | None) -> None:
        """Checked in full before, now read again and written in batches, one managed
        transaction each — a failure half way leaves the batches before it (a rerun
        converges: MERGE on natural keys). One at a time: two at once deadlock on the sites,
        types and STOCKS they share (measured)."""
        report, done = self.report, 0
        for c in self.checked(batch_rows):
            good = [(i, n) for i, n in c.valid if c.records[i].rows[0] not in refused_rows]
            if not good:
                continue
            with self.driver.session(**self.session_args) as session:
                part = session.execute_write(
                    lambda tx, c=c, good=good: self.ingest(tx, c, good, dry=False))
            _add(report, part)
            if part.errors:  # a reference vanished since the check (a concurrent delete)
                report.errors += self.problems_of(c, part.errors)
                if not self.partial:
                    break
            done += len(good)
            if progress:
                progress(report.registry, done, report.valid)
            if self.counts:
                self.counts(report.read, report.read, done)


@_gc_paused()
def load_table(driver: Any, registry: Registry | str, table: Table, *,
               mapping: Mapping[str, str | None] | None = None, partial: bool = False,
               dry_run: bool = False, batch_rows: int | None = None,
               max_rows: int | None = MAX_ROWS, principal: Principal = SYSTEM,
               database: str | None = None, progress: Progress | None = None,
               header_row: int | None = None, constants: Mapping[str, Any] | None = None,
               restore: bool = False, counts: Counts | None = None,
               chunk_rows: int = CHUNK_ROWS) -> LoadReport:
    """Load one table, `chunk_rows` records at a time, the next chunk read and validated
    while Neo4j writes this one: memory holds a few chunks however long the file.

    Without `batch_rows`: one write transaction for the whole file, rolled back if a row is
    rejected (unless `partial`); refused with TooLargeError above `max_rows` records (None: no
    limit). With `batch_rows`: every chunk checked in a read transaction, then the file read
    again and written in transactions of `batch_rows` records. `dry_run`: checked chunk by
    chunk, nothing kept. `constants` (`--set`): a value for every row where its cell is
    empty; `restore`: retired records with a row's key are brought back before they are
    written."""
    if batch_rows is not None and batch_rows < 1:
        raise SourceError(f"--batch-rows должно быть не меньше 1, получено {batch_rows}")
    registry = REGISTRIES[registry] if isinstance(registry, str) else registry
    consts = check_constants(registry, constants)
    framed = frame(table, registry, mapping, header_row)
    report = LoadReport(registry.name, table.source, dry_run=dry_run, partial=partial,
                        account=principal.name, encoding=table.encoding,
                        delimiter=table.delimiter, batch_rows=batch_rows,
                        header_row=framed.header_row)
    cmap = _with_constants(map_columns(registry, framed.columns, mapping), consts)
    report.columns, report.ignored_columns = dict(cmap.columns), list(cmap.ignored)
    unreadable = [RowProblem(row, "", "*", None, msg) for row, msg in table.problems]
    missing = missing_required(cmap)
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

    key_of = _record_key(registry, cmap, consts) if registry.name in NESTED else None
    load = _Load(driver, registry, cmap, consts, table,
                 Chunks(framed, key_of, spill_after=chunk_rows), report, unreadable,
                 {"database": database} if database else {}, principal, partial, restore,
                 max_rows, counts)
    try:
        if batch_rows is None and not dry_run:
            load.one_transaction(chunk_rows)
            report.skipped = list(framed.skipped)
            if progress:
                progress(registry.name, report.valid, report.valid)
            return report
        refused_rows = load.check(chunk_rows, single=batch_rows is None)
        report.skipped = list(framed.skipped)
        report.atomic = batch_rows is None
        if progress:
            progress(registry.name, 0, report.valid)
        if dry_run or (report.errors and not partial):
            return report
        assert batch_rows is not None
        load.write_batches(batch_rows, refused_rows, progress)
        return report
    finally:
        load.chunks.close()


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
