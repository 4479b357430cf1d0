"""The change feed of one process: ONE poll of the audit's ChangeSet nodes, however many
subscribers.

Every write (GraphQL in any worker, `hub load` from the command line, other hubs on the same
database) creates a `(:ChangeSet {id, at, …, regions})` in its own transaction
(graph/audit.py). Every `interval` seconds — or at once after a write through this process —
the feed asks Neo4j for the sets newer than the last it saw, down the `at` index, and

- clears the process's shared dashboards (schema/core/cache.py), so `HUB_DASHBOARD_TTL`
  sharing stays correct with several workers and with writes from elsewhere;
- hands each set to every subscriber (`subscribe()`), which filters it (region, scope).

A transaction takes its `at` before it commits, so a set can become visible after a newer one
was seen: each poll looks back OVERLAP seconds and skips the set ids it already delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from graph.values import native

log = logging.getLogger("hub.live")

OVERLAP = dt.timedelta(seconds=5)
MAX_SETS_PER_POLL = 2000
QUEUE_SIZE = 1000

_HEAD = "MATCH (s:ChangeSet) WHERE s.at > $since\nWITH s ORDER BY s.at LIMIT $limit\n"
POLL_CYPHER = _HEAD + ("RETURN s.id AS id, s.at AS at, s.actor AS actor, s.source AS source, "
                       "s.label AS label, s.uids AS uids, s.regions AS regions")
# with entries' details, while someone subscribes to `changes`
POLL_FULL_CYPHER = _HEAD + (
    "RETURN s.id AS id, s.at AS at, s.actor AS actor, s.source AS source, s.label AS label, "
    "s.uids AS uids, s.regions AS regions, s.ops AS ops, s.fields AS fields, "
    "s.before AS before, s.after AS after, s.versions AS versions")


@dataclass(eq=False)
class Subscriber:
    wants_details: bool
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False


@dataclass
class ChangeFeed:
    driver: Any
    database: str
    interval: float = 0.5
    on_change: Callable[[], None] | None = None  # e.g. clear the shared dashboards
    _subscribers: set[Subscriber] = field(default_factory=set)
    _seen: dict[str, dt.datetime] = field(default_factory=dict)
    _since: dt.datetime | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task | None = None
    _last_error_log: float = 0.0
    polls: int = 0

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="change-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def poke(self) -> None:
        """A write went through this process: poll now rather than at the next tick."""
        self._wake.set()

    @contextlib.asynccontextmanager
    async def subscribe(self, *, details: bool = False) -> AsyncIterator[Subscriber]:
        sub = Subscriber(wants_details=details)
        self._subscribers.add(sub)
        try:
            yield sub
        finally:
            self._subscribers.discard(sub)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    # ------------------------------------------------------------ polling
    async def _run(self) -> None:
        from hub import metrics

        while True:
            try:
                sets = await self.poll()
                metrics.FEED_POLLS.inc()
                if sets:
                    metrics.FEED_CHANGES.inc(len(sets))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Neo4j away: keep trying, log rarely
                if time.monotonic() - self._last_error_log > 60:
                    self._last_error_log = time.monotonic()
                    log.warning("change feed: poll failed (%s); retrying", str(exc)[:200])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()

    async def poll(self) -> list[dict[str, Any]]:
        """One poll: the new sets (oldest first), delivered to the subscribers."""
        now = dt.datetime.now(dt.UTC)
        if self._since is None:  # start from now: what was written before is history
            self._since = now - OVERLAP
            first = True
        else:
            first = False
        details = any(s.wants_details for s in self._subscribers)
        records, _, _ = await self.driver.execute_query(
            POLL_FULL_CYPHER if details else POLL_CYPHER,
            {"since": self._since, "limit": MAX_SETS_PER_POLL},
            database_=self.database, routing_="r")
        self.polls += 1
        fresh = []
        newest = self._since
        for record in records:
            row = dict(record)
            row["at"] = at = native(row["at"])
            newest = max(newest, at)
            if row["id"] in self._seen:
                continue
            self._seen[row["id"]] = at
            fresh.append(row)
        # look back OVERLAP from the newest set seen (late commits), forget older ids
        self._since = max(self._since, newest - OVERLAP)
        if len(records) >= MAX_SETS_PER_POLL:  # a burst: continue from where this page ended
            self._since = newest - dt.timedelta(microseconds=1)
        self._seen = {k: v for k, v in self._seen.items() if v > self._since}
        if first:
            return []  # sets already there when the feed started are not news
        if fresh:
            if self.on_change is not None:
                self.on_change()
            for sub in list(self._subscribers):
                for row in fresh:
                    try:
                        sub.queue.put_nowait(row)
                    except asyncio.QueueFull:
                        sub.overflowed = True
                        break
        return fresh
