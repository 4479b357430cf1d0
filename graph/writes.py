"""Idempotent writes: MERGE on natural keys, batched with UNWIND, safe to retry.

Every function takes a transaction (sync or async `ManagedTransaction`-like object with
`run`) so callers choose the transaction boundary; nothing here commits by itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graph import models as m
from graph import stock  # derived STOCKS kept in step with equipment writes
from graph.registry import REGISTRIES, Link, Registry, referenced_uids, write_row
from graph.validation import RowError

BATCH_SIZE = 2000


@dataclass
class WriteResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: WriteResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.changes.extend(other.changes)


def _link_cypher(i: int, link: Link) -> str:
    stale = link.pattern("n", "r", "t")
    fresh = "(n)-[r:{rel}]->(t)" if link.outgoing else "(n)<-[r:{rel}]-(t)"
    fresh = fresh.format(rel=link.rel)
    set_props = "\n    SET r = x.props" if link.with_props else ""
    return f"""
  CALL (n, row, created) {{
    WITH * WHERE NOT created
    MATCH {stale}
    WHERE NOT t.uid IN [x IN row.l{i} | x.uid]
    DELETE r
  }}
  CALL (n, row) {{
    UNWIND row.l{i} AS x
    MATCH (t:{link.target} {{uid: x.uid}})
    MERGE {fresh}{set_props}
  }}"""


@lru_cache
def upsert_cypher(registry_name: str) -> str:
    registry = REGISTRIES[registry_name]
    links = "".join(_link_cypher(i, link) for i, link in enumerate(registry.links))
    if links:
        links = "\n  WITH n, row, created" + links
    returns = stock.upsert_tail(registry_name) or """
RETURN row.uid AS uid, created, changed,
       [k IN changed | before[k]] AS before
"""
    return f"""
UNWIND $rows AS row
MERGE (n:{registry.label} {{uid: row.uid}})
WITH n, row, n.createdAt IS NULL AS created, properties(n) AS before
WITH n, row, created, before,
     [k IN keys(row.props)
      WHERE NOT coalesce(before[k] = row.props[k], before[k] IS NULL AND row.props[k] IS NULL)
     ] AS changed
CALL (n, row, created, changed) {{
  WITH * WHERE created OR size(changed) > 0
  SET n += row.props,
      n.createdAt = coalesce(n.createdAt, $now),
      n.updatedAt = $now{links}
}}{returns}"""


def _chunks(seq: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [seq[i : i + size] for i in range(0, len(seq), size)] or []


def _summarise(records: list[Any], rows: list[dict[str, Any]]) -> WriteResult:
    """Counts, and each change with its fields before → after (for the audit)."""
    result = WriteResult()
    props = {row["uid"]: row["props"] for row in rows}
    for rec in records:
        fields = sorted(rec["changed"])
        after = {k: props[rec["uid"]][k] for k in fields}
        if rec["created"]:
            result.created += 1
            result.changes.append({"uid": rec["uid"], "op": "create", "fields": fields,
                                   "after": after})
        elif fields:
            result.updated += 1
            before = dict(zip(rec["changed"], rec["before"]))
            result.changes.append({"uid": rec["uid"], "op": "update", "fields": fields,
                                   "before": {k: before[k] for k in fields}, "after": after})
        else:
            result.unchanged += 1
    return result


def upsert(tx: Any, registry: Registry, nodes: Sequence[m.Node],
           now: dt.datetime | None = None) -> WriteResult:
    """MERGE the nodes and their relationships in the caller's (sync) transaction."""
    now = now or dt.datetime.now(dt.UTC)
    query = upsert_cypher(registry.name)
    result = WriteResult()
    for chunk in _chunks(nodes, BATCH_SIZE):
        rows = [write_row(registry, node) for node in chunk]
        result.add(_summarise(list(tx.run(query, rows=rows, now=now)), rows))
    return result


async def upsert_async(tx: Any, registry: Registry, nodes: Sequence[m.Node],
                       now: dt.datetime | None = None) -> WriteResult:
    now = now or dt.datetime.now(dt.UTC)
    query = upsert_cypher(registry.name)
    result = WriteResult()
    for chunk in _chunks(nodes, BATCH_SIZE):
        rows = [write_row(registry, node) for node in chunk]
        cursor = await tx.run(query, rows=rows, now=now)
        result.add(_summarise([r async for r in cursor], rows))
    return result


@lru_cache
def references_cypher(registry_name: str) -> str:
    registry = REGISTRIES[registry_name]
    if not registry.links:
        return ""
    parts = []
    for i, link in enumerate(registry.links):
        parts.append(
            f"CALL () {{ UNWIND $r{i} AS u OPTIONAL MATCH (t:{link.target} {{uid: u}}) "
            f"WITH u, t WHERE t IS NULL RETURN collect(u) AS m{i} }}"
        )
    returns = ", ".join(f"m{i}" for i in range(len(registry.links)))
    return "\n".join(parts) + f"\nRETURN {returns}"


def _reference_errors(registry: Registry, rows: Sequence[tuple[int, m.Node]],
                      missing: dict[int, set[str]]) -> list[RowError]:
    errors = []
    for row_no, node in rows:
        for i, link in enumerate(registry.links):
            if not missing.get(i):
                continue
            for uid, _ in link.targets(node):
                if uid in missing[i]:
                    errors.append(RowError(
                        row_no, link.fields[0] if len(link.fields) == 1 else link.name, uid,
                        f"не найдено в реестре: {link.target} с ключом {uid}",
                    ))
    return errors


def _missing_from(record: Any, registry: Registry) -> dict[int, set[str]]:
    return {i: set(record[f"m{i}"]) for i in range(len(registry.links))}


def check_references(tx: Any, registry: Registry,
                     rows: Sequence[tuple[int, m.Node]]) -> list[RowError]:
    """Errors for links to nodes that do not exist (one round trip)."""
    query = references_cypher(registry.name)
    if not query or not rows:
        return []
    refs = referenced_uids(registry, (node for _, node in rows))
    record = tx.run(query, **{f"r{i}": sorted(v) for i, v in refs.items()}).single()
    return _reference_errors(registry, rows, _missing_from(record, registry))


async def check_references_async(tx: Any, registry: Registry,
                                 rows: Sequence[tuple[int, m.Node]]) -> list[RowError]:
    query = references_cypher(registry.name)
    if not query or not rows:
        return []
    refs = referenced_uids(registry, (node for _, node in rows))
    cursor = await tx.run(query, **{f"r{i}": sorted(v) for i, v in refs.items()})
    record = await cursor.single()
    return _reference_errors(registry, rows, _missing_from(record, registry))


def retire_cypher(registry: Registry) -> str:
    returns = stock.retire_tail(registry.label) or """
RETURN u AS uid, n IS NOT NULL AS found
"""
    return f"""
UNWIND $uids AS u
OPTIONAL MATCH (n:{registry.label} {{uid: u}})
FOREACH (_ IN CASE WHEN n IS NOT NULL AND n.retiredAt IS NULL THEN [1] ELSE [] END |
  SET n.retiredAt = $now, n.updatedAt = $now){returns}"""


def fetch_cypher(registry: Registry) -> str:
    return f"""
UNWIND $uids AS u
MATCH (n:{registry.label} {{uid: u}})
RETURN n.uid AS uid, properties(n) AS props
"""
