"""Bearer tokens → principals. Anonymous requests get `None` (public catalogue only).

Nothing is cached: every request asks the ledger (one indexed SELECT, well under a
millisecond on SQLite), so a revoked token or a disabled account is refused from the very
next request on, in every worker process sharing the ledger.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from graph.access import Principal
from hub import ledger


class Unauthenticated(Exception):
    """A token was sent but is unknown, revoked or belongs to a disabled account."""


def _secret(header: str) -> str:
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("Ожидается заголовок Authorization: Bearer <токен>.")
    return secret.strip()


async def principal_from_header(header: str | None, ledger_url: str) -> Principal | None:
    if not header:
        return None
    secret = _secret(header)
    if not secret.startswith(ledger.TOKEN_PREFIX) or len(secret) > 200:
        principal = None  # not one of ours: no need to ask the ledger
    else:
        principal = await run_in_threadpool(ledger.authenticate, ledger_url, secret)
    if principal is None:
        raise Unauthenticated("Токен недействителен, отозван или учётная запись отключена.")
    return principal
