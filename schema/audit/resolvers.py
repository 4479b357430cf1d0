"""`changes`: one Cypher statement per page (AccessPolicy limits it to admin and operator)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from graph.audit_reads import changes_query
from schema.audit.types import Change, ChangeFilter, ChangeOp, FieldChange
from schema.core.access import requires
from schema.core.connection import Connection, page_of
from schema.core.errors import api_error
from schema.core.node import check_limit, context, native


def _cursor(change: dict[str, Any]) -> str:
    raw = json.dumps([native(change["at"]).isoformat(), change["set"], change["index"]])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode(cursor: str) -> tuple[dt.datetime, str, int]:
    """(at, change set id, entry index) of the last change of the previous page."""
    try:
        at, set_id, index = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
        if not isinstance(index, int):
            raise TypeError(index)
        return dt.datetime.fromisoformat(at), str(set_id), index
    except (ValueError, TypeError):
        raise api_error("Неверный курсор", "BAD_CURSOR") from None


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value and value.tzinfo is None else value


def _values(text: str | None) -> dict[str, Any]:
    return json.loads(text) if text else {}  # '' is stored for "no values"


def _change(c: dict[str, Any]) -> Change:
    before, after = _values(c.get("before")), _values(c.get("after"))
    fields = [FieldChange(
        field=f,
        before=json.dumps(before[f], ensure_ascii=False) if f in before else None,
        after=json.dumps(after[f], ensure_ascii=False) if f in after else None)
        for f in json.loads(c.get("fields") or "[]")]
    return Change(id=strawberry.ID(c["id"]), at=native(c["at"]), actor=c["actor"],
                  source=c["source"], label=c["label"], uid=c["uid"], op=ChangeOp(c["op"]),
                  fields=fields, version=c.get("version"))


@strawberry.type
class Query:
    @strawberry.field(description="Audit trail of writes, newest first (admin; an operator sees "
                                  "its region's). `totalCount` is not counted (null).",
                      metadata=requires("audit"))
    async def changes(
        self, info: Info,
        filter: Annotated[ChangeFilter | None, strawberry.argument(
            description="Conditions on actor, label, uid, op, source, time.")] = None,
        first: Annotated[int, strawberry.argument(description="Page size.")] = 20,
        after: Annotated[str | None, strawberry.argument(
            description="`endCursor` of the previous page.")] = None,
    ) -> Connection[Change]:
        limit = check_limit(first)
        f = filter or ChangeFilter()
        principal = context(info).principal
        # An operator reads the changes of its region; an admin everything.
        region = principal.region if principal and principal.role != "admin" else None
        if principal is None or (principal.role != "admin" and region is None):
            raise api_error("Журнал изменений доступен администратору и оператору ЦОПП.",
                            "FORBIDDEN")
        cypher, params = changes_query(
            actor=f.actor, label=f.label, uid=f.uid, op=f.op.value if f.op else None,
            source=f.source, since=_aware(f.since), until=_aware(f.until),
            after=_decode(after) if after else None, limit=limit + 1, region=region)
        rows = await context(info).read(cypher, **params)
        page = [r["change"] for r in rows[:limit]]
        return page_of([_change(c) for c in page], [_cursor(c) for c in page],
                       has_next=len(rows) > limit, after=after)
