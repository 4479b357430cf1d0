"""Bearer tokens → principals. Anonymous requests get `None` (public catalogue only)."""

from __future__ import annotations

import time

from starlette.concurrency import run_in_threadpool

from graph.access import Principal
from hub import ledger

CACHE_SECONDS = 5.0  # a revoked token stops working within this time
_cache: dict[str, tuple[float, Principal | None]] = {}


class Unauthenticated(Exception):
    """A token was sent but is unknown, revoked or belongs to a disabled account."""


async def principal_from_header(header: str | None, ledger_url: str) -> Principal | None:
    if not header:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("Ожидается заголовок Authorization: Bearer <токен>.")
    key = ledger.digest(secret.strip())
    now = time.monotonic()
    hit = _cache.get(key)
    if hit and hit[0] > now:
        principal = hit[1]
    else:
        principal = await run_in_threadpool(ledger.authenticate, ledger_url, secret.strip())
        if len(_cache) > 10000:
            _cache.clear()
        _cache[key] = (now + CACHE_SECONDS, principal)
    if principal is None:
        raise Unauthenticated("Токен недействителен, отозван или учётная запись отключена.")
    return principal
