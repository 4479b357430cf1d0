"""`changes`: one Cypher statement per page (AccessPolicy limits it to admin and operator)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from graph.audit_reads import CHANGES_CYPHER, changes_params
from schema.audit.types import Change, ChangeFilter, ChangeOp, ChangePage, FieldChange
from schema.core.errors import api_error
from schema.core.node import check_limit, context, native


def _cursor(change: dict[str, Any]) -> str:
    raw = json.dumps([native(change["at"]).isoformat(), change["id"]])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode(cursor: str) -> tuple[dt.datetime, str]:
    try:
        at, id_ = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
        return dt.datetime.fromisoformat(at), str(id_)
    except (ValueError, TypeError):
        raise api_error("Неверный курсор", "BAD_CURSOR") from None


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value and value.tzinfo is None else value


def _values(text: str | None) -> dict[str, Any]:
    return json.loads(text) if text else {}


def _change(c: dict[str, Any]) -> Change:
    before, after = _values(c.get("before")), _values(c.get("after"))
    fields = [FieldChange(
        field=f,
        before=json.dumps(before[f], ensure_ascii=False) if f in before else None,
        after=json.dumps(after[f], ensure_ascii=False) if f in after else None)
        for f in c.get("fields") or []]
    return Change(id=strawberry.ID(c["id"]), at=native(c["at"]), actor=c["actor"],
                  source=c["source"], label=c["label"], uid=c["uid"], op=ChangeOp(c["op"]),
                  fields=fields)


@strawberry.type
class Query:
    @strawberry.field(description="Audit trail of writes, newest first (admin, operator).")
    async def changes(
        self, info: Info,
        filter: Annotated[ChangeFilter | None, strawberry.argument(
            description="Conditions on actor, label, uid, op, source, time.")] = None,
        first: Annotated[int, strawberry.argument(description="Page size.")] = 20,
        after: Annotated[str | None, strawberry.argument(
            description="`endCursor` of the previous page.")] = None,
    ) -> ChangePage:
        limit = check_limit(first)
        f = filter or ChangeFilter()
        params = changes_params(
            actor=f.actor, label=f.label, uid=f.uid, op=f.op.value if f.op else None,
            source=f.source, since=_aware(f.since), until=_aware(f.until),
            after=_decode(after) if after else None, limit=limit + 1)
        rows = await context(info).read(CHANGES_CYPHER, **params)
        page = [r["change"] for r in rows[:limit]]
        return ChangePage(items=[_change(c) for c in page], has_next_page=len(rows) > limit,
                          end_cursor=_cursor(page[-1]) if page else None)
