"""One path for every write of registry rows: validate → check references → upsert.

Loaders (files, SQL) and GraphQL bulk mutations both come through here.
All-or-nothing by default: any invalid row and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph import audit
from graph import models as m
from graph.access import ACCESS_CYPHER, SYSTEM, Principal, access_lookups, write_denials
from graph.registry import Registry, record_from_properties
from graph.validation import RowError, validate_rows
from graph.writes import (
    Plan,
    WriteResult,
    fetch_cypher,
    references_plan,
    retire_plan,
    run_plan,
    run_plan_async,
    upsert_plan,
)


@dataclass
class IngestReport:
    registry: str
    read: int = 0
    valid: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    written: bool = False
    errors: list[RowError] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class Prepared:
    """Rows after validation, before anything touched the database."""

    registry: Registry
    read: int
    valid: list[tuple[int, m.Node]]
    errors: list[RowError]


def prepare(registry: Registry, rows: Sequence[Mapping[str, Any]],
            first_row: int = 1) -> Prepared:
    valid, errors = validate_rows(registry, rows, first_row=first_row)
    return Prepared(registry, len(rows), valid, errors)


def _decide(prepared: Prepared, ref_errors: list[RowError], partial: bool,
            dry_run: bool) -> tuple[IngestReport, list[m.Node] | None]:
    """A fresh report (so a retried transaction starts clean) and the nodes to write."""
    errors = sorted([*prepared.errors, *ref_errors], key=lambda e: e.row)
    bad_rows = {e.row for e in errors}
    good = [node for row, node in prepared.valid if row not in bad_rows]
    report = IngestReport(prepared.registry.name, read=prepared.read, valid=len(good),
                          rejected=prepared.read - len(good), errors=errors)
    if dry_run or (errors and not partial):
        return report, None
    return report, good


def _record(report: IngestReport, result: WriteResult) -> IngestReport:
    report.created, report.updated, report.unchanged = (
        result.created, result.updated, result.unchanged)
    report.changes = result.changes
    report.written = True
    return report


def _denials_plan(principal: Principal, registry: Registry,
                  rows: Sequence[tuple[int, m.Node]]) -> Plan:
    lookup = None
    if principal.role in ("operator", "registrar") and rows:
        [lookup] = yield ACCESS_CYPHER, access_lookups(registry.name, [n for _, n in rows])
    return write_denials(principal, registry.name, rows, lookup)


def ingest_plan(prepared: Prepared, *, partial: bool, dry_run: bool, now: dt.datetime | None,
                principal: Principal, source: str) -> Plan:
    registry = prepared.registry
    now = now or dt.datetime.now(dt.UTC)
    denied = yield from _denials_plan(principal, registry, prepared.valid)
    ref_errors = yield from references_plan(registry, prepared.valid)
    report, nodes = _decide(prepared, denied + ref_errors, partial, dry_run)
    if nodes is None:
        return report
    result = yield from upsert_plan(registry, nodes, now)
    yield from audit.record_plan(registry.label, result.changes, principal.name, source, now)
    return _record(report, result)


def ingest(tx: Any, prepared: Prepared, *, partial: bool = False, dry_run: bool = False,
           now: dt.datetime | None = None, principal: Principal = SYSTEM,
           source: str = "api") -> IngestReport:
    """Run inside a managed write transaction (safe to retry: it only reads and MERGEs).

    The principal's rights are checked and every change is audited in this same transaction.
    """
    return run_plan(tx, ingest_plan(prepared, partial=partial, dry_run=dry_run, now=now,
                                    principal=principal, source=source))


async def ingest_async(tx: Any, prepared: Prepared, *, partial: bool = False,
                       dry_run: bool = False, now: dt.datetime | None = None,
                       principal: Principal = SYSTEM, source: str = "api") -> IngestReport:
    return await run_plan_async(tx, ingest_plan(prepared, partial=partial, dry_run=dry_run,
                                                now=now, principal=principal, source=source))


def retire_plan_checked(registry: Registry, uids: Sequence[str], *, principal: Principal,
                        source: str, now: dt.datetime | None) -> Plan:
    """Retire by natural key: all or nothing, rights checked, audited in this transaction.

    Errors are reported per position in `uids` (0-based, like bulk mutation items).
    """
    now = now or dt.datetime.now(dt.UTC)
    report = IngestReport(registry.name, read=len(uids))
    records = yield fetch_cypher(registry), {"uids": list(uids)}
    stored = {r["uid"]: r["props"] for r in records}
    rows: list[tuple[int, m.Node]] = []
    for i, uid in enumerate(uids):
        if uid not in stored:
            report.errors.append(RowError(i, "id", uid, "запись не найдена"))
            continue
        rows.append((i, registry.model.model_validate(
            record_from_properties(registry, stored[uid]))))
    report.errors.extend((yield from _denials_plan(principal, registry, rows)))
    report.errors.sort(key=lambda e: e.row)
    report.rejected = len({e.row for e in report.errors})
    if report.errors:
        return report
    retired = yield from retire_plan(registry, uids, now)
    changes = [{"uid": uid, "op": "retire", "fields": ["retiredAt"],
                "before": {"retiredAt": None}, "after": {"retiredAt": now}} for uid in retired]
    yield from audit.record_plan(registry.label, changes, principal.name, source, now)
    report.valid = len(rows)
    report.updated = len(changes)
    report.unchanged = len(rows) - len(changes)
    report.written = True
    report.changes = changes
    return report


async def retire_async(tx: Any, registry: Registry, uids: Sequence[str], *,
                       principal: Principal = SYSTEM, source: str = "api",
                       now: dt.datetime | None = None) -> IngestReport:
    return await run_plan_async(tx, retire_plan_checked(registry, uids, principal=principal,
                                                        source=source, now=now))
