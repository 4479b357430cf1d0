"""Short-lived shared results for expensive reads that many screens ask for at once.

A region's situational-centre screens refresh the same dashboard every few seconds; at region
scale one dashboard is seconds of database work. `SharedResults` keeps a computed result for
`ttl` seconds and lets concurrent requests for the same key wait for one computation instead
of starting their own. A write through this process clears it (read-your-writes for the one
who wrote); writes elsewhere (another process, `hub load`) show within `ttl`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

MAX_ENTRIES = 256


@dataclass
class SharedResults:
    ttl: float
    _entries: dict[Hashable, tuple[float, Any]] = field(default_factory=dict)
    _running: dict[Hashable, asyncio.Future] = field(default_factory=dict)
    _generation: int = 0

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> Any:
        if self.ttl <= 0:
            return await compute()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        running = self._running.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future = asyncio.get_running_loop().create_future()
        self._running[key] = future
        generation = self._generation
        try:
            value = await compute()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else has to
            raise
        finally:
            if self._running.get(key) is future:
                del self._running[key]
        if generation == self._generation:  # no write cleared the cache meanwhile
            self._store(key, value)
        future.set_result(value)
        return value

    def clear(self) -> None:
        """After a write: nothing computed before it is served again."""
        self._entries.clear()
        self._running.clear()
        self._generation += 1

    def _store(self, key: Hashable, value: Any) -> None:
        now = time.monotonic()
        if len(self._entries) >= MAX_ENTRIES:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.pop(next(iter(self._entries)))
        self._entries[key] = (now + self.ttl, value)
