"""One path for every write of registry rows: validate → lock and read what is stored →
rights on the stored record and on the record as it will be → check references → upsert →
audit, all in the caller's transaction.

Loaders (files, SQL), GraphQL single, bulk and patch mutations and the roadmap come through
here. All-or-nothing by default: any invalid or refused row and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph import audit, kpi_aggregates
from graph import models as m
from graph.access import ACCESS_CYPHER, SYSTEM, Principal, access_params, write_denials
from graph.errors import Conflict
from graph.registry import Registry, record_from_properties
from graph.validation import RowError, validate_rows
from graph.writes import (
    Plan,
    WriteResult,
    lock_cypher,
    references_plan,
    retire_plan,
    run_plan,
    run_plan_async,
    upsert_plan,
)


class VersionConflict(Conflict):
    """`expectedVersion` of a patch is not the stored version (someone wrote meanwhile)."""

    def __init__(self, uid: str, expected: int, stored: int) -> None:
        super().__init__(f"запись {uid} изменена другим пользователем: ожидалась версия "
                         f"{expected}, сейчас {stored}; перечитайте запись и повторите",
                         expected=expected, stored=stored)
        self.uid, self.expected, self.stored = uid, expected, stored


@dataclass
class IngestReport:
    registry: str
    read: int = 0
    valid: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    restored: int = 0
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


def stored_plan(registry: Registry, uids: Sequence[str], *, lock: bool) -> Plan:
    """The stored records among `uids` (by uid), each locked first unless `lock` is False
    (read-only checks): what the write checks is what it overwrites."""
    if not uids:
        return {}
    records = yield lock_cypher(registry.label, lock), {"uids": list(uids)}
    return {r["uid"]: r["props"] for r in records}


def _model(registry: Registry, props: dict[str, Any]) -> m.Node:
    """A stored record as its model, without validation (stored data was valid when written;
    only its owner fields matter here)."""
    return registry.model.model_construct(**record_from_properties(registry, props))


def _denials_plan(principal: Principal, registry: Registry, rows: Sequence[tuple[int, m.Node]],
                  stored: dict[str, dict[str, Any]], source: str = "api") -> Plan:
    """Rights on each row's stored record (when it exists) and on the record as given."""
    if principal.role == "admin" or not rows:
        return write_denials(principal, registry.name, rows, {}, None)
    before = {uid: _model(registry, props) for uid, props in stored.items()}
    nodes = [n for _, n in rows] + list(before.values())
    [lookup] = yield ACCESS_CYPHER, access_params(principal, registry.name, nodes)
    return write_denials(principal, registry.name, rows, before, lookup, source)


def ingest_plan(prepared: Prepared, *, partial: bool, dry_run: bool, now: dt.datetime | None,
                principal: Principal, source: str, only: frozenset[str] | None = None,
                stored: dict[str, dict[str, Any]] | None = None, restore: bool = False) -> Plan:
    """`only`: a patch's named fields; `stored`: the locked records when the caller read them;
    `restore`: rows whose key is retired are brought back (audited) before they are written."""
    registry = prepared.registry
    # Records are locked and read first, and the time taken after: a writer that waited for
    # another's lock is audited after it (the audit's time order is its version order).
    # Admins (the system loader) are not checked: their upsert locks as it writes.
    looked_up = stored is not None or principal.role != "admin"
    if stored is None:
        stored = (yield from stored_plan(registry, [n.uid for _, n in prepared.valid],
                                         lock=not dry_run)) if looked_up else {}
    now = now or dt.datetime.now(dt.UTC)
    denied = yield from _denials_plan(principal, registry, prepared.valid, stored, source)
    ref_errors = yield from references_plan(registry, prepared.valid)
    report, nodes = _decide(prepared, denied + ref_errors, partial, dry_run)
    if nodes is None:
        return report
    restored: list[dict[str, Any]] = []
    if restore:
        done = yield from retire_plan(registry, [n.uid for n in nodes], now, restore=True)
        report.restored = len(done)
        restored = [
            {"uid": uid, "op": "restore", "fields": ["retiredAt"], "before": {"retiredAt": was},
             "after": {"retiredAt": None}, "version": version} for uid, version, was in done]
        # regions looked up: a restored record's owner is the stored one until the upsert
        yield from audit.record_plan(registry.label, restored, principal.name, source, now)
    result = yield from upsert_plan(registry, nodes, now, only,
                                    stored=stored.keys() if looked_up else None)
    owners = audit.owners_of(registry, nodes)
    yield from audit.record_plan(registry.label, result.changes, principal.name, source, now,
                                 owners)
    yield from kpi_aggregates.follow(registry.name, restored + result.changes)
    return _record(report, result)


def patch_plan(registry: Registry, uid: str, patch: Mapping[str, Any], *, principal: Principal,
               source: str, now: dt.datetime | None = None,
               expected_version: int | None = None) -> Plan:
    """Change the named fields of one stored record (None clears an optional one).

    The record is locked before it is read; the whole record after the patch is validated
    and checked, but only the named fields are written. Returns None when `uid` is not
    stored; raises VersionConflict when `expected_version` is stale.
    """
    stored = yield from stored_plan(registry, [uid], lock=True)
    if uid not in stored:
        return None
    version = stored[uid].get("version") or 0
    if expected_version is not None and expected_version != version:
        raise VersionConflict(uid, expected_version, version)
    record = record_from_properties(registry, stored[uid])
    record.update(patch)
    record = {k: v for k, v in record.items() if v is not None}
    prepared = prepare(registry, [record])
    if prepared.valid and prepared.valid[0][1].uid != uid:
        return IngestReport(registry.name, read=1, rejected=1, errors=[RowError(
            1, ",".join(registry.model.KEY_FIELDS), uid,
            "поля естественного ключа не меняются: создайте новую запись")])
    return (yield from ingest_plan(prepared, partial=False, dry_run=False, now=now,
                                   principal=principal, source=source,
                                   only=frozenset(patch), stored=stored))


async def patch_async(tx: Any, registry: Registry, uid: str, patch: Mapping[str, Any], *,
                      principal: Principal = SYSTEM, source: str = "api",
                      expected_version: int | None = None) -> IngestReport | None:
    return await run_plan_async(tx, patch_plan(registry, uid, patch, principal=principal,
                                               source=source,
                                               expected_version=expected_version))


def patch(tx: Any, registry: Registry, uid: str, patch: Mapping[str, Any], *,
          principal: Principal = SYSTEM, source: str = "api",
          expected_version: int | None = None) -> IngestReport | None:
    return run_plan(tx, patch_plan(registry, uid, patch, principal=principal, source=source,
                                   expected_version=expected_version))


def ingest(tx: Any, prepared: Prepared, *, partial: bool = False, dry_run: bool = False,
           now: dt.datetime | None = None, principal: Principal = SYSTEM,
           source: str = "api", restore: bool = False) -> IngestReport:
    """Run inside a managed write transaction (safe to retry: it only reads and MERGEs).

    The principal's rights are checked and every change is audited in this same transaction.
    """
    return run_plan(tx, ingest_plan(prepared, partial=partial, dry_run=dry_run, now=now,
                                    principal=principal, source=source, restore=restore))


async def ingest_async(tx: Any, prepared: Prepared, *, partial: bool = False,
                       dry_run: bool = False, now: dt.datetime | None = None,
                       principal: Principal = SYSTEM, source: str = "api") -> IngestReport:
    return await run_plan_async(tx, ingest_plan(prepared, partial=partial, dry_run=dry_run,
                                                now=now, principal=principal, source=source))


def retire_plan_checked(registry: Registry, uids: Sequence[str], *, principal: Principal,
                        source: str, now: dt.datetime | None, restore: bool = False) -> Plan:
    """Retire (or, `restore`, bring back) by natural key: all or nothing, rights checked on
    the stored record, audited in this transaction. A restored record is as it was retired.

    Errors are reported per position in `uids` (0-based, like bulk mutation items).
    """
    report = IngestReport(registry.name, read=len(uids))
    stored = yield from stored_plan(registry, uids, lock=True)
    now = now or dt.datetime.now(dt.UTC)  # after the locks, as in ingest_plan
    rows: list[tuple[int, m.Node]] = []
    for i, uid in enumerate(uids):
        if uid not in stored:
            report.errors.append(RowError(i, "id", uid, "запись не найдена"))
            continue
        rows.append((i, _model(registry, stored[uid])))
    report.errors.extend((yield from _denials_plan(principal, registry, rows, stored)))
    report.errors.sort(key=lambda e: e.row)
    report.rejected = len({e.row for e in report.errors})
    if report.errors:
        return report
    done = yield from retire_plan(registry, uids, now, restore)
    changes = [{"uid": uid, "op": "restore" if restore else "retire", "fields": ["retiredAt"],
                "before": {"retiredAt": was}, "after": {"retiredAt": None if restore else now},
                "version": version}
               for uid, version, was in done]
    yield from audit.record_plan(registry.label, changes, principal.name, source, now)
    yield from kpi_aggregates.follow(registry.name, changes)
    report.valid = len(rows)
    report.updated = len(changes)
    report.unchanged = len(rows) - len(changes)
    report.written = True
    report.changes = changes
    return report


async def retire_async(tx: Any, registry: Registry, uids: Sequence[str], *,
                       principal: Principal = SYSTEM, source: str = "api",
                       now: dt.datetime | None = None, restore: bool = False) -> IngestReport:
    return await run_plan_async(tx, retire_plan_checked(registry, uids, principal=principal,
                                                        source=source, now=now,
                                                        restore=restore))

