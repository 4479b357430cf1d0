"""Relay connections with keyset cursors (sort value + uid), not offsets.

`list_connection` runs one query per page through the request context: the page (one row
more than asked, to know if there is a next page) and, only when selected, `totalCount`.
A cursor remembers the sort it was made for; using it with another sort is an error.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
from collections.abc import Mapping
from enum import Enum
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from graph.reads import LISTS, MAX_PAGE, RELEVANCE, Sort, cursor_value, page_query
from graph.search import fulltext_query
from schema.core.errors import api_error
from schema.core.node import (
    check_limit,
    context,
    fold_limits,
    folds,
    prime,
    selections,
    wanted,
    wrap,
)

T = TypeVar("T")
DEFAULT_PAGE = 20


@strawberry.enum(description="Sort direction.")
class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.type(description="Where a page sits in the whole list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items after this page.")
    has_previous_page: bool = strawberry.field(description="An `after` cursor was given.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: str | None = strawberry.field(description="Cursor to pass as `after`.")


@strawberry.type(description="An item of a page with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque keyset cursor of this item.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list (Relay connection, keyset cursors).")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="Items of the page with cursors.")
    page_info: PageInfo = strawberry.field(description="Paging information.")
    total_count: int | None = strawberry.field(
        description="Number of items matching the filters (all pages).")

    @strawberry.field(description="Items of the page without cursors.")
    def nodes(self) -> list[T]:
        return [e.node for e in self.edges]


def page_of(nodes: list[Any], cursors: list[str], *, has_next: bool, after: str | None,
            total: int | None = None) -> Connection:
    """A connection of a page read by its own statement (catalogue, audit, plans)."""
    edges = [Edge(cursor=c, node=n) for n, c in zip(nodes, cursors, strict=True)]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=has_next, has_previous_page=after is not None,
                           start_cursor=cursors[0] if cursors else None,
                           end_cursor=cursors[-1] if cursors else None),
        total_count=total)


def key_cursor(tag: str, key: str) -> str:
    """The cursor of a list paged by one key (catalogue, plans, applications)."""
    return base64.urlsafe_b64encode(json.dumps([tag, key]).encode()).decode()


def cursor_key(tag: str, cursor: str) -> str:
    """The key of a `key_cursor` made for `tag`; anything else is BAD_ARGUMENT."""
    try:
        found, key = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
        if found != tag or not isinstance(key, str) or not key or len(key) > 200:
            raise ValueError(cursor)
        return key
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise api_error("Неверный курсор: возьмите pageInfo.endCursor из ответа без "
                        "изменений.", "BAD_ARGUMENT") from None


def encode_cursor(sort: str, descending: bool, key: Any, uid: str) -> str:
    raw = json.dumps([sort, descending, cursor_value(key), uid], ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode()


MAX_CURSOR = 2048  # characters of a cursor; ours are far shorter
_INT64 = (-(2**63), 2**63 - 1)


def _bad_value(what: str) -> Exception:
    return api_error(f"Неверный курсор: {what}. Возьмите курсор из ответа API "
                     "(pageInfo.endCursor) без изменений.", "BAD_ARGUMENT")


def _typed_key(key: Any, kind: str) -> Any:
    """The sort value of a cursor as the query expects it; a forged value (a number past
    64 bits, NaN, a list where a date belongs…) is refused here rather than by Neo4j."""
    if key is None:
        return None
    if kind == "string":
        if not isinstance(key, str) or len(key) > 1000:
            raise _bad_value("значение сортировки должно быть строкой")
        return key
    if kind == "int":
        if isinstance(key, bool) or not isinstance(key, int) or not (
                _INT64[0] <= key <= _INT64[1]):
            raise _bad_value("значение сортировки должно быть целым числом (64 бита)")
        return key
    if kind == "float":
        if isinstance(key, bool) or not isinstance(key, int | float) or not math.isfinite(
                float(key)) or abs(key) > 1e300:
            raise _bad_value("значение сортировки должно быть конечным числом")
        return float(key)
    if kind in ("datetime", "date"):
        parse = dt.datetime.fromisoformat if kind == "datetime" else dt.date.fromisoformat
        try:
            if not isinstance(key, str) or len(key) > 64:
                raise ValueError
            return parse(key).isoformat()
        except ValueError:
            raise _bad_value("значение сортировки должно быть датой в формате ISO 8601"
                             ) from None
    return key


def decode_cursor(cursor: str, sort: str, descending: bool,
                  kind: str = "string") -> tuple[Any, str]:
    """(sort value, uid) of an `after` cursor made for this sort; `kind` is the sort key's
    type (graph.reads.Sort.kind)."""
    if len(cursor) > MAX_CURSOR:
        raise _bad_value("слишком длинный")
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, TypeError, binascii.Error, UnicodeError, RecursionError):
        raise api_error("Неверный курсор", "BAD_CURSOR") from None
    if not isinstance(decoded, list) or len(decoded) != 4:
        raise _bad_value("ожидается [сортировка, направление, значение, идентификатор]")
    s, d, key, uid = decoded
    if not isinstance(s, str) or not isinstance(d, bool):
        raise _bad_value("сортировка и направление заданы неверно")
    if (s, d) != (sort, descending):
        raise api_error("Курсор получен при другой сортировке", "BAD_CURSOR")
    if not isinstance(uid, str) or not uid or len(uid) > 200:
        raise _bad_value("идентификатор должен быть непустой строкой")
    return _typed_key(key, kind), uid


def _sort_kind(registry: str, sort: str) -> str:
    if sort == RELEVANCE:
        return "float"
    spec: Sort | None = LISTS[registry].all_sorts().get(sort)
    return spec.kind if spec is not None else "string"


def _selects(selections: Any, name: str) -> bool:
    for sel in selections or ():
        if getattr(sel, "name", None) == name:
            return True
        if _selects(getattr(sel, "selections", None), name):
            return True
    return False


def selects(info: Info, name: str) -> bool:
    """Whether the current field's selection asks for `name` (e.g. totalCount)."""
    return any(_selects(f.selections, name) for f in info.selected_fields)


def node_selections(selections: Any) -> list[Any]:
    """What a connection's selection asks of its nodes (`edges { node }` and `nodes`)."""
    out: list[Any] = []
    for sel in selections or ():
        name = getattr(sel, "name", None) if isinstance(sel, SelectedField) else None
        if name == "nodes":
            out += sel.selections
        elif name == "edges":
            out += [x for e in sel.selections if getattr(e, "name", None) == "node"
                    for x in e.selections]
        elif isinstance(sel, InlineFragment | FragmentSpread):
            out += node_selections(sel.selections)
    return out


def plain(value: Any) -> Any:
    """Filter input values → Cypher parameters (enums to their codes)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


async def list_connection(info: Info, registry: str, label: str, *,
                          filters: Mapping[str, Any] | None = None, sort: str | None = None,
                          descending: bool = False, search: str | None = None,
                          include_retired: bool = False, first: int = DEFAULT_PAGE,
                          after: str | None = None) -> Connection:
    """A keyset page of `registry` with its filters (names from `graph.reads.LISTS`)."""
    check_limit(first)
    lucene = fulltext_query(search) if search else None
    if search and lucene is None:
        return Connection(edges=[], page_info=PageInfo(has_next_page=False,
                          has_previous_page=after is not None, start_cursor=None,
                          end_cursor=None), total_count=0)
    if sort == RELEVANCE and lucene is None:
        sort = None
    sort_name = sort or (RELEVANCE if lucene else LISTS[registry].default_sort)
    key = (decode_cursor(after, sort_name, descending, _sort_kind(registry, sort_name))
           if after else None)
    asked = node_selections(selections(info))
    found = folds(asked, label, include_retired)
    query, params = page_query(
        registry, filters={k: plain(v) for k, v in (filters or {}).items()}, sort=sort_name,
        descending=descending, search=lucene, include_retired=include_retired,
        limit=first + 1, after=key, with_total=selects(info, "totalCount"),
        props=wanted(asked, label), nests=tuple(f.nest for f in found),
        nest_limits=fold_limits(found),
    )
    ctx = context(info)
    rows = await ctx.read(query, **params)
    page, total = rows[0]["page"], rows[0]["total"]
    for item in page[:first]:
        prime(ctx, found, item["props"], item["nested"], include_retired)
    edges = [
        Edge(cursor=encode_cursor(sort_name, descending, item["key"], item["props"]["uid"]),
             node=wrap(label, item["props"]))
        for item in page[:first]
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(page) > first, has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=total,
    )


__all__ = ["MAX_PAGE", "Connection", "Edge", "PageInfo", "SortDirection", "cursor_key",
           "key_cursor", "list_connection", "page_of"]
