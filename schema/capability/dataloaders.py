"""Per-request loaders of capability: qualified staff pages, one query per nesting level."""

from __future__ import annotations

from strawberry.types import Info

from graph.capability import StaffKey, StaffPage, qualified_staff_async
from schema.core.node import context


async def load_staff_page(info: Info, key: StaffKey) -> StaffPage:
    ctx = context(info)

    async def load(keys: list[StaffKey]) -> list[StaffPage]:
        return await qualified_staff_async(lambda q, p: ctx.read(q, **p), keys)

    return await ctx.loader(("capability", "qualified_staff"), load).load(key)
