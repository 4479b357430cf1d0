"""Idempotent writes: MERGE on natural keys, batched with UNWIND, safe to retry.

Each write is a *plan*: a generator that yields `(cypher, params)` and is sent back the
statement's records, so one piece of logic serves sync and async transactions (`run_plan`,
`run_plan_async`). Nothing here commits: callers choose the transaction boundary.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Generator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graph import models as m
from graph import stock
from graph.errors import Conflict
from graph.registry import REGISTRIES, Registry, referenced_uids, write_row
from graph.validation import RowError

BATCH_SIZE = 5000  # rows per statement (loaders commit every 5 000 rows too)
# Rows not known to be new are tried as new (`fresh_cypher`) only from this many on: fewer,
# and one statement for all (one round trip) is quicker than a second for the existing ones.
FRESH_MIN_ROWS = 100

Plan = Generator[tuple[str, dict[str, Any]], list[Any], Any]


class _ShortRepr(list):
    """A parameter list whose repr is its length. The driver formats every statement's
    parameters for its debug log line even when that log is off: ≈ 0.1 s per 20 000
    equipment rows."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"[{len(self)} items]"


def _params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: _ShortRepr(v) if type(v) is list else v for k, v in params.items()}


def run_plan(tx: Any, plan: Plan) -> Any:
    """Drive a plan in a sync transaction; its return value."""
    try:
        query, params = next(plan)
        while True:
            query, params = plan.send(list(tx.run(query, _params(params))))
    except StopIteration as stop:
        return stop.value


async def run_plan_async(tx: Any, plan: Plan) -> Any:
    try:
        query, params = next(plan)
        while True:
            cursor = await tx.run(query, _params(params))
            query, params = plan.send([r async for r in cursor])
    except StopIteration as stop:
        return stop.value


@dataclass
class WriteResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)


@lru_cache
def node_cypher(registry_name: str) -> str:
    """MERGE the nodes; set properties only where something changed; report the diff.

    The properties compared and set are the row's `props`: all model fields for a create,
    only the named ones for a patch. Every write increments the node's `version`. Each node
    is locked before its stored state is read (a concurrent write waits, then sees this one).
    New nodes get their relationships here too (nothing to compare with: CREATE), so a load
    of new rows is one statement per batch, like a hand-written UNWIND … MERGE.
    """
    registry = REGISTRIES[registry_name]
    links = "".join(
        f"""CALL (n, row, created) {{
  WITH * WHERE created
  UNWIND row.l{i} AS x
  MATCH (t:{link.target} {{uid: x.uid}})
  CREATE {_fresh(registry, i)}{" SET r = x.props" if link.with_props else ""}
}}
""" for i, link in enumerate(registry.links))
    return f"""
UNWIND $rows AS row
MERGE (n:{registry.label} {{uid: row.uid}})
SET n._lock = true REMOVE n._lock
WITH n, row, n.createdAt IS NULL AS created, properties(n) AS before
WITH n, row, created, before,
     [k IN keys(row.props)
      WHERE NOT coalesce(before[k] = row.props[k], before[k] IS NULL AND row.props[k] IS NULL)
     ] AS changed
FOREACH (_ IN CASE WHEN created OR size(changed) > 0 THEN [1] ELSE [] END |
  SET n += row.props, n.createdAt = coalesce(n.createdAt, $now), n.updatedAt = $now,
      n.version = coalesce(n.version, 0) + 1)
WITH n, row, created, before, changed
{links}// one record: the rows not listed here were created (version 1)
RETURN collect(CASE WHEN NOT created AND size(changed) = 0 THEN row.uid END) AS unchanged,
       collect(CASE WHEN NOT created AND size(changed) > 0
               THEN {{uid: row.uid, changed: changed, before: [k IN changed | before[k]],
                      version: n.version}} END)
       AS updated
"""


def _fresh(registry: Registry, i: int, target: str = "t", rel: str = "r") -> str:
    link = registry.links[i]
    return f"(n)-[{rel}:{link.rel}]->({target})" if link.outgoing else \
        f"(n)<-[{rel}:{link.rel}]-({target})"


@lru_cache
def link_replace_cypher(registry_name: str, i: int) -> str:
    """Relationships of changed nodes: drop the stale ones, MERGE the current ones."""
    registry = REGISTRIES[registry_name]
    link = registry.links[i]
    set_props = "\n  SET r = x.props" if link.with_props else ""
    return f"""
UNWIND $rows AS row
MATCH (n:{registry.label} {{uid: row.uid}})
CALL (n, row) {{
  MATCH {link.pattern("n", "r", "t")}
  WHERE NOT t.uid IN [x IN row.targets | x.uid]
  DELETE r
}}
CALL (n, row) {{
  UNWIND row.targets AS x
  MATCH (t:{link.target} {{uid: x.uid}})
  MERGE {_fresh(registry, i)}{set_props}
}}
"""


@lru_cache
def fresh_cypher(registry_name: str) -> str:
    """Rows that are new as far as the caller knows, grouped by their link targets (one MATCH
    per distinct target instead of one per row): MERGE each node, and where it was created
    set it (version 1) and link it. Nodes found existing are only named in `existing` (the
    caller writes them through `node_cypher`: locked, compared, versioned); a group whose
    target is gone is missing from `created`. Measured (bench/README.md W4): 20 000 new
    equipment items ≈ 35 % less server CPU than `node_cypher`."""
    registry = REGISTRIES[registry_name]
    targets = "".join(f"MATCH (t{i}:{link.target} {{uid: g.t[{i}]}})\n"
                      for i, link in enumerate(registry.links))
    names = "".join(f"t{i}, " for i in range(len(registry.links)))
    links = "".join(f"  CREATE {_fresh(registry, i, f't{i}', '')}\n"
                    for i in range(len(registry.links)))
    return f"""
UNWIND $groups AS g
{targets}UNWIND g.rows AS row
MERGE (n:{registry.label} {{uid: row.uid}})
WITH {names}n, row, n.createdAt IS NULL AS created
CALL ({names}n, row, created) {{
  WITH * WHERE created
  SET n += row.props, n.createdAt = $now, n.updatedAt = $now, n.version = 1
{links}}}
RETURN collect(CASE WHEN NOT created THEN row.uid END) AS existing,
       collect(CASE WHEN created THEN row.uid END) AS created
"""


def _fresh_groups(registry: Registry, rows: Sequence[dict[str, Any]]
                  ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(groups for `fresh_cypher` sorted by target uids, rows it cannot take): a row fits
    when each of its links has exactly one target and no relationship properties."""
    n = len(registry.links)
    if any(link.with_props for link in registry.links):
        return [], list(rows)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    rest = []
    for row in rows:
        key = []
        for i in range(n):
            targets = row[f"l{i}"]
            if len(targets) != 1:
                break
            key.append(targets[0]["uid"])
        if len(key) != n:
            rest.append(row)
            continue
        groups.setdefault(tuple(key), []).append({"uid": row["uid"], "props": row["props"]})
    return [{"t": list(k), "rows": groups[k]} for k in sorted(groups)], rest


def upsert_plan(registry: Registry, nodes: Sequence[m.Node],
                now: dt.datetime | None = None, only: frozenset[str] | None = None,
                stored: Collection[str] | None = None) -> Plan:
    """`only`: the fields a patch names; nothing else of the stored node is written.
    `stored`: the uids the caller found stored (None: not looked up); the others are tried
    as new first (`fresh_cypher`; unless not looked up and fewer than FRESH_MIN_ROWS), the
    rest compared and updated (`node_cypher`)."""
    now = now or dt.datetime.now(dt.UTC)
    result = WriteResult()
    for start in range(0, len(nodes), BATCH_SIZE):
        rows = [write_row(registry, node) for node in nodes[start:start + BATCH_SIZE]]
        full = {row["uid"]: row["props"] for row in rows}  # the whole record, for STOCKS
        if only is not None:
            rows = [{**row, "props": {k: v for k, v in row["props"].items() if k in only}}
                    for row in rows]
        by_uid = {row["uid"]: row for row in rows}
        fresh: set[str] = set()
        rest = rows
        if only is None and (stored is not None or len(rows) >= FRESH_MIN_ROWS):
            known = stored if stored is not None else ()
            groups, rest = _fresh_groups(registry, [r for r in rows if r["uid"] not in known])
            rest += [r for r in rows if r["uid"] in known]
            if groups:
                [record] = yield fresh_cypher(registry.name), {"groups": groups, "now": now}
                fresh = set(record["created"])
                existing = set(record["existing"])
                tried = sum(len(g["rows"]) for g in groups)
                if len(fresh) + len(existing) != tried:
                    raise Conflict("связанная запись удалена во время записи: повторите "
                                   "загрузку")
                rest += [by_uid[u] for u in existing]
        unchanged: set[str] = set()
        updated: dict[str, dict[str, Any]] = {}
        if rest:
            [record] = yield node_cypher(registry.name), {"rows": rest, "now": now}
            unchanged = set(record["unchanged"])
            updated = {u["uid"]: u for u in record["updated"]}
        if stored is not None and any(u not in stored for u in unchanged | updated.keys()):
            # created by another writer after the rights were checked on its absence
            raise Conflict("запись с тем же ключом создана другим запросом во время записи: "
                           "повторите")
        created, touched = [], []
        for row in rows:
            uid = row["uid"]
            if uid in unchanged:
                result.unchanged += 1
            elif uid in updated:
                fields = sorted(updated[uid]["changed"])
                before = dict(zip(updated[uid]["changed"], updated[uid]["before"]))
                result.updated += 1
                touched.append((uid, set(fields), before))
                result.changes.append({"uid": uid, "op": "update", "fields": fields,
                                       "before": {k: before[k] for k in fields},
                                       "after": {k: row["props"][k] for k in fields},
                                       "version": updated[uid]["version"]})
            else:
                result.created += 1
                created.append(uid)
                after = {k: v for k, v in row["props"].items() if v is not None}
                result.changes.append({"uid": uid, "op": "create", "fields": sorted(after),
                                       "after": after, "version": 1})
        for i, link in enumerate(registry.links):
            moved = [{"uid": u, "targets": by_uid[u][f"l{i}"]} for u, fields, _ in touched
                     if fields & set(link.fields)]
            if moved:
                yield link_replace_cypher(registry.name, i), {"rows": moved}
        deltas = stock.added_stock(registry.name, [full[u] for u in created])
        if deltas:
            yield stock.ADD_CYPHER, {"deltas": deltas}
        relocated = stock.moved_places(registry.name, [(u, fields) for u, fields, _ in touched])
        if relocated:
            yield relocated[0], {"uids": relocated[1]}
        pairs = stock.pairs_after_upsert(
            registry.name, [{**full[u], "_before": before} for u, _, before in touched])
        if pairs:
            yield stock.REFRESH_CYPHER, {"pairs": pairs}
    return result


def upsert(tx: Any, registry: Registry, nodes: Sequence[m.Node],
           now: dt.datetime | None = None) -> WriteResult:
    """MERGE the nodes and their relationships in the caller's (sync) transaction."""
    return run_plan(tx, upsert_plan(registry, nodes, now))


async def upsert_async(tx: Any, registry: Registry, nodes: Sequence[m.Node],
                       now: dt.datetime | None = None) -> WriteResult:
    return await run_plan_async(tx, upsert_plan(registry, nodes, now))


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


def references_plan(registry: Registry, rows: Sequence[tuple[int, m.Node]]) -> Plan:
    """Errors for links to nodes that do not exist (one round trip)."""
    query = references_cypher(registry.name)
    if not query or not rows:
        return []
    refs = referenced_uids(registry, (node for _, node in rows))
    [record] = yield query, {f"r{i}": sorted(v) for i, v in refs.items()}
    missing = {i: set(record[f"m{i}"]) for i in range(len(registry.links))}
    errors: list[RowError] = []
    if not any(missing.values()):
        return errors
    for row_no, node in rows:
        for i, link in enumerate(registry.links):
            for uid, _ in link.targets(node):
                if uid in missing[i]:
                    errors.append(RowError(
                        row_no, link.fields[0] if len(link.fields) == 1 else link.name, uid,
                        f"не найдено в реестре: {link.target} с ключом {uid}",
                    ))
    return errors


def check_references(tx: Any, registry: Registry,
                     rows: Sequence[tuple[int, m.Node]]) -> list[RowError]:
    return run_plan(tx, references_plan(registry, rows))


async def check_references_async(tx: Any, registry: Registry,
                                 rows: Sequence[tuple[int, m.Node]]) -> list[RowError]:
    return await run_plan_async(tx, references_plan(registry, rows))


@lru_cache
def retire_cypher(label: str, restore: bool = False) -> str:
    """Retire the active nodes among `$uids` (or, `restore`, bring the retired ones back)."""
    if restore:
        state, change = "n.retiredAt IS NOT NULL", "n.retiredAt = null"
    else:
        state, change = "n.retiredAt IS NULL", "n.retiredAt = $now"
    return f"""
UNWIND $uids AS u
MATCH (n:{label} {{uid: u}})
WITH n, {state} AS active, n.retiredAt AS was
FOREACH (_ IN CASE WHEN active THEN [1] ELSE [] END |
  SET {change}, n.updatedAt = $now, n.version = coalesce(n.version, 0) + 1)
RETURN n.uid AS uid, active, was, properties(n) AS props
"""


def retire_plan(registry: Registry, uids: Sequence[str],
                now: dt.datetime | None = None, restore: bool = False) -> Plan:
    """Set (or, `restore`, clear) `retiredAt` where it is not so yet; (uid, version after,
    retiredAt before) of the nodes this call changed. Equipment STOCKS follow."""
    now = now or dt.datetime.now(dt.UTC)
    records = yield retire_cypher(registry.label, restore), {"uids": list(uids), "now": now}
    changed = [r for r in records if r["active"]]
    pairs = stock.pairs_after_upsert(registry.name, [r["props"] for r in changed])
    if pairs:
        yield stock.REFRESH_CYPHER, {"pairs": pairs}
    return [(r["uid"], r["props"]["version"], r["was"]) for r in changed]


def retire(tx: Any, registry: Registry, uids: Sequence[str],
           now: dt.datetime | None = None) -> list[str]:
    return [uid for uid, _, _ in run_plan(tx, retire_plan(registry, uids, now))]


@lru_cache
def lock_cypher(label: str, lock: bool = True) -> str:
    """The stored properties of the existing nodes among `$uids`, each read after taking its
    write lock (held to the end of the transaction), so that what a write checks and
    compares is what it overwrites. Without `lock` (read-only checks): a plain read."""
    take = "SET n._lock = true REMOVE n._lock\n" if lock else ""
    return f"""
UNWIND $uids AS u
MATCH (n:{label} {{uid: u}})
{take}RETURN n.uid AS uid, properties(n) AS props
"""


def fetch_cypher(registry: Registry) -> str:
    return f"""
UNWIND $uids AS u
MATCH (n:{registry.label} {{uid: u}})
RETURN n.uid AS uid, properties(n) AS props
"""
