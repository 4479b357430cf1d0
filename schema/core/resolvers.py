"""Root fields every domain shares: `node(id)` and `nodes(ids)`."""

from __future__ import annotations

import asyncio

import strawberry
from strawberry.types import Info

from schema.core.access import requires
from schema.core.errors import api_error
from schema.core.node import Node, resolve_node


@strawberry.type(description="Relay object lookup.")
class Query:
    @strawberry.field(description="Any node by its global ID.",
                      metadata=requires("read"))
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field(description="Nodes by global IDs, in order (null where not found).",
                      metadata=requires("read"))
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > 100:
            raise api_error("не больше 100 идентификаторов", "BAD_ARGUMENT")
        return list(await asyncio.gather(*(resolve_node(info, i) for i in ids)))
