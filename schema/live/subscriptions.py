"""GraphQL subscriptions (graphql-transport-ws on /graphql): `changes(region)` — the audit
feed — and `situationalCentre(region, period)`, re-sent when a write lands that can change it.

Both read the process's one ChangeFeed (schema/live/feed.py). Authentication happens in
`connection_init` (payload `{"Authorization": "Bearer …"}`, hub/app.py), the ledger is asked
again every RECHECK seconds (a revoked token or a disabled account ends the subscription),
and the scoping is that of the queries: `changes` needs `ACTIONS["audit"]` (an operator sees
its region's changes only, an admin all), `situationalCentre` needs `read`.
Limits: subscriptions per connection (hub/app.py) and per token (here).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from collections.abc import AsyncGenerator
from typing import Annotated, Any, Self

import strawberry
from strawberry.types import Info

from schema.audit.resolvers import _change
from schema.audit.types import Change
from schema.core.access import requires
from schema.core.errors import api_error
from schema.core.node import context
from schema.situational import types as T
from schema.situational.resolvers import (
    AsOfArg,
    PeriodArg,
    RegionArg,
    RegionsArg,
    situational_centre,
)

RECHECK = 30.0  # seconds between ledger checks of a subscription's token
_open_per_token: Counter[str] = Counter()


def _token_key(ctx: Any) -> str:
    header = (getattr(ctx, "connection_params", None) or {}).get("Authorization", "")
    return hashlib.sha256(str(header).encode()).hexdigest()


class _Slot:
    """One open subscription: counted per token (limit) and in /metrics."""

    def __init__(self, info: Info, kind: str) -> None:
        self.ctx = context(info)
        self.kind = kind
        self.key = _token_key(self.ctx)
        self.checked = time.monotonic()

    def __enter__(self) -> Self:
        from hub import metrics

        limit = getattr(self.ctx.feed, "per_token", 20)
        if _open_per_token[self.key] >= limit:
            raise api_error(f"Слишком много подписок на один токен (не больше {limit}).",
                            "TOO_MANY_SUBSCRIPTIONS")
        _open_per_token[self.key] += 1
        metrics.SUBSCRIPTIONS.labels(self.kind).inc()
        return self

    def __exit__(self, *exc: object) -> None:
        from hub import metrics

        _open_per_token[self.key] -= 1
        if _open_per_token[self.key] <= 0:
            del _open_per_token[self.key]
        metrics.SUBSCRIPTIONS.labels(self.kind).dec()

    async def recheck(self) -> None:
        """Every RECHECK seconds: the token must still be valid in the ledger."""
        if time.monotonic() - self.checked < RECHECK:
            return
        from hub.auth import Unauthenticated, principal_from_header

        self.checked = time.monotonic()
        header = (self.ctx.connection_params or {}).get("Authorization")
        try:
            principal = await principal_from_header(header, self.ctx.feed.ledger_url)
        except Unauthenticated as exc:
            raise api_error(str(exc), "UNAUTHENTICATED") from None
        if principal != self.ctx.principal:
            raise api_error("Права токена изменились; подключитесь заново.", "UNAUTHENTICATED")


def _feed(info: Info) -> Any:
    feed = getattr(context(info), "feed", None)
    if feed is None:
        raise api_error("Подписки недоступны.", "SUBSCRIPTIONS_UNAVAILABLE")
    return feed


async def _next(sub: Any, slot: _Slot, timeout: float) -> dict[str, Any] | None:
    """The next change set, or None after `timeout` seconds without one."""
    if sub.overflowed:
        raise api_error("Подписчик не успевает за изменениями; подключитесь заново.",
                        "SUBSCRIBER_TOO_SLOW")
    try:
        return await asyncio.wait_for(sub.queue.get(), timeout)
    except TimeoutError:
        return None
    finally:
        await slot.recheck()


def _entries(row: dict[str, Any], region: str | None) -> list[dict[str, Any]]:
    regions = row.get("regions") or []
    out = []
    for i, uid in enumerate(row["uids"]):
        if region is not None and (i >= len(regions) or regions[i] != region):
            continue
        out.append({"id": f"{row['id']}:{i}", "set": row["id"], "index": i, "at": row["at"],
                    "actor": row["actor"], "source": row["source"], "label": row["label"],
                    "uid": uid, "op": row["ops"][i], "fields": row["fields"][i],
                    "before": row["before"][i], "after": row["after"][i],
                    "version": row["versions"][i] if row.get("versions") else None})
    return out


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Audit feed: each change as it is committed (any worker, `hub load`). "
                    "An operator receives its region's changes only; an admin all, or one "
                    "region's with `region`.",
        metadata=requires("audit"))
    async def changes(
        self, info: Info,
        region: Annotated[str | None, strawberry.argument(
            description="Subject code; an operator's own region whatever is given.")] = None,
    ) -> AsyncGenerator[Change, None]:
        principal = context(info).principal
        if principal is None:
            raise api_error("Требуется токен доступа.", "UNAUTHENTICATED")
        if principal.role != "admin":
            if principal.region is None:
                raise api_error("Журнал изменений доступен администратору и оператору ЦОПП.",
                                "FORBIDDEN")
            if region is not None and region != principal.region:
                raise api_error("Оператор видит изменения только своего региона.", "FORBIDDEN")
            region = principal.region
        feed = _feed(info)
        with _Slot(info, "changes") as slot:
            async with feed.subscribe(details=True) as sub:
                while True:
                    row = await _next(sub, slot, RECHECK)
                    if row is None:
                        continue
                    for entry in _entries(row, region):
                        yield _change(entry)

    @strawberry.subscription(
        description="The situational centre of a region (of several regions with `regions`, "
                    "of the whole country with neither) for a period: sent at once, then "
                    "again (debounced) after every write that can change it.",
        metadata=requires("read"))
    async def situational_centre(
        self, info: Info, region: RegionArg = None, regions: RegionsArg = None, *,
        period: PeriodArg, as_of: AsOfArg = None,
    ) -> AsyncGenerator[T.SituationalCentre, None]:
        watched = None if region is None and regions is None else {region, *(regions or ())}
        feed = _feed(info)
        ctx = context(info)
        debounce = getattr(feed, "debounce", 0.3)
        with _Slot(info, "situationalCentre") as slot:
            async with feed.subscribe() as sub:
                while True:
                    ctx.loaders.clear()  # nothing read for the previous push is reused
                    ctx.queries.clear()
                    yield await situational_centre(info, region, period, as_of, regions)
                    while True:  # wait for a change of these regions (or of a catalogue)
                        row = await _next(sub, slot, RECHECK)
                        if row is not None and (watched is None or "" in row["regions"]
                                                or not watched.isdisjoint(row["regions"])):
                            break
                    deadline = time.monotonic() + 4 * debounce
                    while time.monotonic() < deadline:  # let a burst of writes settle
                        row = await _next(sub, slot, debounce)
                        if row is None:
                            break
