"""Relay connections with keyset cursors (sort value + uid), not offsets.

`list_connection` runs one query per page through the request context: the page (one row
more than asked, to know if there is a next page) and, only when selected, `totalCount`.
A cursor remembers the sort it was made for; using it with another sort is an error.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from enum import Enum
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.types import Info

from graph.reads import LISTS, MAX_PAGE, RELEVANCE, cursor_value, page_query
from graph.search import fulltext_query
from schema.core.errors import api_error
from schema.core.node import check_limit, context, wrap

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


def encode_cursor(sort: str, descending: bool, key: Any, uid: str) -> str:
    raw = json.dumps([sort, descending, cursor_value(key), uid], ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str, sort: str, descending: bool) -> tuple[Any, str]:
    try:
        s, d, key, uid = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, TypeError):
        raise api_error("Неверный курсор", "BAD_CURSOR") from None
    if (s, d) != (sort, descending):
        raise api_error("Курсор получен при другой сортировке", "BAD_CURSOR")
    return key, uid


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
    key = decode_cursor(after, sort_name, descending) if after else None
    query, params = page_query(
        registry, filters={k: plain(v) for k, v in (filters or {}).items()}, sort=sort_name,
        descending=descending, search=lucene, include_retired=include_retired,
        limit=first + 1, after=key, with_total=selects(info, "totalCount"),
    )
    rows = await context(info).read(query, **params)
    page, total = rows[0]["page"], rows[0]["total"]
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


__all__ = ["MAX_PAGE", "Connection", "Edge", "PageInfo", "SortDirection", "list_connection"]
