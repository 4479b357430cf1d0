"""Audit records of writes, created in the same transaction as the change they describe.

One `ChangeSet` node per call (per written batch) holds the batch's changes as parallel lists,
entry i being one change:

    (:ChangeSet {id, at, actor, source, label,
                 uids: [uid], ops: [op], fields: [JSON list of field names],
                 before: [JSON object or ''], after: [JSON object or ''],
                 keys: 'uid1 uid2 …'})

Lists cannot hold nulls, so a missing before/after is ''. `keys` (the uids joined by spaces)
feeds the full-text index CHANGE_KEYS_INDEX (whitespace analyzer): lookups by uid search it with
`key_phrase(uid)` and then keep only the entries whose uid is exactly the one asked for.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Generator, Sequence
from typing import Any

CHANGE_KEYS_INDEX = "changeset_keys"

AUDIT_CYPHER = """
CREATE (:ChangeSet {id: $id, at: $at, actor: $actor, source: $source, label: $label,
                    uids: $uids, ops: $ops, fields: $fields, before: $before, after: $after,
                    keys: $keys})
"""


def _default(v: Any) -> str:
    return v.isoformat() if hasattr(v, "isoformat") else str(v)


_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=_default).encode


def key_phrase(uid: str) -> str:
    """Full-text query matching `uid` as an exact phrase of the `keys` text."""
    return '"' + uid.replace("\\", "\\\\").replace('"', '\\"') + '"'


def audit_params(label: str, changes: Sequence[dict[str, Any]], actor: str, source: str,
                 at: dt.datetime) -> dict[str, Any]:
    uids = [c["uid"] for c in changes]
    field_lists: dict[tuple[str, ...], str] = {}  # a batch's rows mostly share one
    fields = []
    for c in changes:
        key = tuple(c.get("fields", ()))
        text = field_lists.get(key)
        if text is None:
            text = field_lists[key] = _json(list(key))
        fields.append(text)
    return {
        "id": str(uuid.uuid4()), "label": label, "actor": actor, "source": source, "at": at,
        "uids": uids, "ops": [c["op"] for c in changes], "fields": fields,
        "before": ["" if c.get("before") is None else _json(c["before"]) for c in changes],
        "after": ["" if c.get("after") is None else _json(c["after"]) for c in changes],
        "keys": " ".join(uids),
    }


def record_plan(label: str, changes: Sequence[dict[str, Any]], actor: str, source: str,
                at: dt.datetime) -> Generator[tuple[str, dict[str, Any]], list[Any], None]:
    if changes:
        yield AUDIT_CYPHER, audit_params(label, changes, actor, source, at)


async def record_async(tx: Any, label: str, changes: Sequence[dict[str, Any]], actor: str,
                       source: str, at: dt.datetime) -> None:
    """For writes outside graph.ingest (network plans)."""
    if changes:
        cursor = await tx.run(AUDIT_CYPHER, audit_params(label, changes, actor, source, at))
        await cursor.consume()
