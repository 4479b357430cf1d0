"""Rate limits of anonymous submissions: in-process token buckets per client address and per
contact.

Each bucket holds `burst` tokens and refills `rate` tokens per second; a submission takes one
from every bucket it names (address, each contact hash) or is refused with the seconds until
it could pass (RATE_LIMITED, HTTP 429, Retry-After). Buckets live in the process: with
`hub serve --workers N` each worker keeps its own, so a client may pass up to N × burst before
every worker refuses it — size `HUB_PUBLIC_*` per worker, and keep the proxy's per-address
limit (compose.yaml, nginx `limit_req`) as the cross-worker bound. At most `MAX_KEYS` buckets
are kept (least recently used dropped first: a dropped bucket is full again).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

MAX_KEYS = 100_000


@dataclass(frozen=True)
class Limit:
    burst: int
    rate: float  # tokens per second


class TokenBuckets:
    def __init__(self, limits: dict[str, Limit], clock: Any = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _level(self, kind: str, key: str, now: float) -> float:
        limit = self.limits[kind]
        tokens, at = self._buckets.get((kind, key), (float(limit.burst), now))
        return min(float(limit.burst), tokens + (now - at) * limit.rate)

    def take(self, keys: list[tuple[str, str]]) -> float | None:
        """Take one token from each (kind, key) bucket, all or none. None: allowed; else
        the seconds until every bucket has a token again."""
        with self._lock:
            now = self.clock()
            levels = {k: self._level(*k, now) for k in keys}
            short = [(k, lvl) for k, lvl in levels.items() if lvl < 1.0]
            if short:
                return max((1.0 - lvl) / self.limits[k[0]].rate for k, lvl in short)
            for k, lvl in levels.items():
                self._buckets[k] = (lvl - 1.0, now)
                self._buckets.move_to_end(k)
            while len(self._buckets) > MAX_KEYS:
                self._buckets.popitem(last=False)
            return None


def buckets_for(app_state: Any, settings: Any) -> TokenBuckets:
    """The process's buckets (one per app), made on first use from the settings."""
    found = getattr(app_state, "public_buckets", None)
    if found is None:
        found = TokenBuckets({
            "address": Limit(settings.public_address_burst,
                             settings.public_address_per_minute / 60.0),
            "contact": Limit(settings.public_contact_burst,
                             settings.public_contact_per_hour / 3600.0),
        })
        app_state.public_buckets = found
    return found


def client_address(request: Any, header: str) -> str:
    """The caller's address: the socket peer, or — behind a trusted proxy that sets it —
    the first address of `header` (HUB_PUBLIC_CLIENT_HEADER, e.g. X-Real-IP)."""
    if header:
        value = request.headers.get(header)
        if value:
            return value.split(",")[0].strip()[:64]
    client = getattr(request, "client", None)
    return client.host if client else "-"
