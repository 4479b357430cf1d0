"""Reading the audit trail (ChangeSet nodes written by graph/audit.py): filters, keyset pages.

A page is one statement built from the filters actually given (labels and property names from
this code, every value a parameter). Changes come newest first: sets by `at` then `id`, entries
of a set from last to first; the cursor is (at, set id, entry index).
- uid given: the sets that mention it come from the full-text index over `keys`, then only
  the entries whose uid is exactly that one are kept; only those are sorted.
- otherwise: the sets are walked down the `at` range index and the walk stops at the limit
  (a rare actor or label costs a longer walk, never a sort of the log).
"""

from __future__ import annotations

from typing import Any

from graph.audit import CHANGE_KEYS_INDEX, key_phrase

# Filters on the set node: property, operator, parameter.
_SET_FILTERS = (("actor", "=", "actor"), ("label", "=", "label"), ("source", "=", "source"),
                ("at", ">=", "since"), ("at", "<", "until"))

_CHANGE = """{id: s.id + ':' + toString(i), set: s.id, index: i, at: s.at, actor: s.actor,
        source: s.source, label: s.label, uid: uids[i], op: ops[i], fields: s.fields[i],
        before: s.before[i], after: s.after[i], version: s.versions[i]}"""


def changes_query(*, actor: str | None = None, label: str | None = None,
                  uid: str | None = None, op: str | None = None, source: str | None = None,
                  since: object = None, until: object = None,
                  after: tuple[object, str, int] | None = None,
                  limit: int = 20, region: str | None = None) -> tuple[str, dict[str, Any]]:
    """Cypher and parameters of one page of per-entity changes (each row: `change`, a map).

    `region`: only changes of nodes of that region (an operator's view); sets written before
    regions were recorded have none and are left out."""
    given = {"actor": actor, "label": label, "source": source, "since": since, "until": until}
    params: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    params["limit"] = limit
    where = [f"s.{prop} {cmp} ${name}" for prop, cmp, name in _SET_FILTERS if name in params]
    entry = []
    if uid is not None:
        params["uid"], params["phrase"] = uid, key_phrase(uid)
        where.append("$uid IN s.uids")
        entry.append("uids[i] = $uid")
    if region is not None:
        params["region"] = region
        where.append("$region IN s.regions")
        entry.append("s.regions[i] = $region")
    if op is not None:
        params["op"] = op
        where.append("$op IN s.ops")  # skips sets without that op before reading their entries
        entry.append("ops[i] = $op")
    if after is not None:
        params["after_at"], params["after_set"], params["after_index"] = after
        where += ["s.at <= $after_at", "(s.at < $after_at OR s.id <= $after_set)"]
        entry.append("(s.id <> $after_set OR i < $after_index)")
    if uid is not None:
        head = (f"CALL db.index.fulltext.queryNodes('{CHANGE_KEYS_INDEX}', $phrase) "
                "YIELD node AS s\nWITH s")
    else:
        # Down the `at` index, newest first, other conditions as filters: left to itself the
        # planner may seek `label`/`actor` instead and sort all their sets for every page.
        head = "MATCH (s:ChangeSet) USING INDEX s:ChangeSet(at)"
        where.insert(0, "s.at IS NOT NULL")
    indexes = "range(size(uids) - 1, 0, -1)"
    if entry:
        indexes = f"[i IN {indexes} WHERE {' AND '.join(entry)}]"
    cypher = f"""{head}
WHERE {' AND '.join(where)}
WITH s ORDER BY s.at DESC, s.id DESC
WITH s, s.uids AS uids, s.ops AS ops
UNWIND {indexes} AS i
WITH s, uids, ops, i ORDER BY s.at DESC, s.id DESC, i DESC
LIMIT $limit
RETURN {_CHANGE} AS change
"""
    return cypher, params
