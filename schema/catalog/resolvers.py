"""`catalog`: one Cypher statement per page."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from graph import enums as e
from graph.catalog import CATALOG_CYPHER, CATALOG_STATUSES
from graph.search import fulltext_query
from schema.catalog.types import CatalogCohort, CatalogProgram, CatalogSite
from schema.core.access import requires
from schema.core.connection import Connection, cursor_key, key_cursor, page_of, selects
from schema.core.enums import ProgramFormat, ProgramType
from schema.core.node import check_limit, context, native


def _program(row: dict[str, Any]) -> CatalogProgram:
    p = row["program"]
    return CatalogProgram(
        code=p["code"], name=p["name"], type=ProgramType(p["type"]), hours=p["hours"],
        format=ProgramFormat(p.get("format") or e.ProgramFormat.FULL_TIME.value),
        description=p.get("description"), developer=row["developer"],
        competencies=sorted(row["competencies"]),
        cohorts=[
            CatalogCohort(
                code=c["code"], starts_on=native(c["starts_on"]), ends_on=native(c["ends_on"]),
                seats=c["seats"], seats_left=max(0, c["seats_left"]),
                organization=c["organization"],
                sites=[CatalogSite(**s) for s in c["sites"]],
            )
            for c in row["cohorts"]
        ],
    )


@strawberry.type
class Query:
    @strawberry.field(description="Approved programs and where to enrol (public).",
                      metadata=requires("public"))
    async def catalog(
        self, info: Info,
        search: Annotated[str | None, strawberry.argument(
            description="Words of the program name (Russian full-text).")] = None,
        type: Annotated[ProgramType | None, strawberry.argument(
            description="Only programs of this type.")] = None,
        municipality: Annotated[str | None, strawberry.argument(
            description="ОКТМО: only programs with a cohort at a site there.")] = None,
        first: Annotated[int, strawberry.argument(description="Page size.")] = 20,
        after: Annotated[str | None, strawberry.argument(
            description="`endCursor` of the previous page.")] = None,
    ) -> Connection[CatalogProgram]:
        limit = check_limit(first)
        query = fulltext_query(search) if search else None
        rows = await context(info).read(
            CATALOG_CYPHER, query=query, statuses=CATALOG_STATUSES,
            type=type.value if type else None, municipality=municipality,
            after=cursor_key("catalog", after) if after else None, today=dt.date.today(),
            limit=limit + 1,
            with_total=selects(info, "totalCount"))
        [row] = rows
        page = row["page"]
        items = [_program(r) for r in page[:limit]]
        return page_of(items, [key_cursor("catalog", p.code) for p in items],
                       has_next=len(page) > limit,
                       after=after, total=row["total"] if selects(info, "totalCount") else None)

