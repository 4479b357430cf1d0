"""Audit records of writes, created in the same transaction as the change they describe."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Generator, Sequence
from typing import Any

AUDIT_CYPHER = """
UNWIND $changes AS c
CREATE (:Change {id: c.id, at: $at, actor: $actor, source: $source, label: $label,
                 uid: c.uid, op: c.op, fields: c.fields, before: c.before, after: c.after})
"""


def _json(values: dict[str, Any] | None) -> str | None:
    if values is None:
        return None

    def default(v: Any) -> str:
        return v.isoformat() if hasattr(v, "isoformat") else str(v)

    return json.dumps(values, ensure_ascii=False, sort_keys=True, default=default)


def audit_params(label: str, changes: Sequence[dict[str, Any]], actor: str, source: str,
                 at: dt.datetime) -> dict[str, Any]:
    return {
        "label": label, "actor": actor, "source": source, "at": at,
        "changes": [
            {"id": str(uuid.uuid4()), "uid": c["uid"], "op": c["op"], "fields": c.get("fields", []),
             "before": _json(c.get("before")), "after": _json(c.get("after"))}
            for c in changes
        ],
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
