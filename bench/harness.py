"""Closed-loop load at a fixed concurrency for a fixed time, and the figures it yields; the
served hub as a subprocess (its peak memory readable), statement capture and the floor replay."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Figures:
    requests: int
    errors: int
    seconds: float
    throughput: float  # requests per second
    p50_ms: float
    p95_ms: float
    p99_ms: float
    error_samples: list[str] = field(default_factory=list)


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


def figures(latencies: list[float], errors: list[str], seconds: float) -> Figures:
    lat = sorted(latencies)
    n = len(lat) + len(errors)
    return Figures(
        requests=n, errors=len(errors), seconds=round(seconds, 3),
        throughput=round(len(lat) / seconds, 1) if seconds else 0.0,
        p50_ms=round(percentile(lat, 0.50) * 1000, 2),
        p95_ms=round(percentile(lat, 0.95) * 1000, 2),
        p99_ms=round(percentile(lat, 0.99) * 1000, 2),
        error_samples=errors[:5],
    )


async def closed_loop(request: Callable[[int], Awaitable[None]], *, concurrency: int,
                      seconds: float, warmup: float) -> Figures:
    """`concurrency` workers each send the next request as soon as the previous one answers.

    `request(i)` raises on any error. Counted: requests that end inside the measured window
    (after the warm-up, before the end), so that a request slower than the warm-up still
    counts. No request starts after the end; the ones in flight are awaited, not counted.
    """
    latencies: list[float] = []
    errors: list[str] = []
    counter = 0
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + seconds

    async def worker() -> None:
        nonlocal counter
        while True:
            began = time.perf_counter()
            if began >= stop_at:
                return
            i = counter
            counter += 1
            try:
                await request(i)
            except Exception as exc:  # noqa: BLE001 - counted and sampled
                if measure_from <= time.perf_counter() <= stop_at:
                    errors.append(f"{type(exc).__name__}: {exc}"[:300])
                continue
            ended = time.perf_counter()
            if measure_from <= ended <= stop_at:
                latencies.append(ended - began)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return figures(latencies, errors, seconds)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(port: int, env: dict[str, str]) -> subprocess.Popen:
    """`hub serve` in a subprocess, once /readyz answers 200."""
    import httpx

    hub = Path(sys.executable).with_name("hub")
    proc = subprocess.Popen([str(hub), "serve", "--port", str(port), "--log-level", "warning"],
                            env=env, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("hub serve exited")
        time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("hub serve did not become ready")


async def post(client: Any, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """One GraphQL request through a `bench.client.Client`; raises on HTTP or GraphQL
    errors."""
    status, body = await client.post_json("/graphql", {"query": query, "variables": variables})
    if status != 200:
        raise RuntimeError(f"HTTP {status}: {str(body)[:200]}")
    if body.get("errors"):
        raise RuntimeError(str(body["errors"])[:300])
    return body["data"]


Statement = tuple[str, dict[str, Any]]


async def capture(driver: Any, database: str, query: str, variables: dict[str, Any]
                  ) -> tuple[dict[str, Any], list[Statement]]:
    """Run one GraphQL request in-process as an admin; its data and the (query, params) pairs
    it ran, in the order it ran them (schema.core.context.QUERY_LISTENERS)."""
    from graph.access import SYSTEM
    from schema.api import schema
    from schema.core.context import QUERY_LISTENERS, HubContext

    ctx = HubContext(driver=driver, database=database)
    ctx.principal = SYSTEM
    seen: list[Statement] = []

    def listener(request_id: str, q: str, params: dict[str, Any]) -> None:
        if request_id == ctx.request_id:
            seen.append((q, params))

    QUERY_LISTENERS.append(listener)
    try:
        result = await schema.execute(query, variable_values=variables, context_value=ctx)
    finally:
        QUERY_LISTENERS.remove(listener)
    if result.errors:
        raise RuntimeError(f"GraphQL error: {result.errors[0]}")
    return result.data, seen


async def replay(driver: Any, database: str, statements: list[Statement]) -> None:
    """The floor: the same statements through the bare async driver, in order, each in a read
    transaction of one session (as the hub runs them), every record fetched."""
    async with driver.session(database=database) as session:
        for q, params in statements:
            async def work(tx: Any, q: str = q, params: dict[str, Any] = params) -> None:
                result = await tx.run(q, params)
                async for _ in result:
                    pass

            await session.execute_read(work)


def peak_rss_mb(pid: int) -> float | None:
    """Peak resident memory (VmHWM) of a running process, in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def machine() -> dict[str, Any]:
    from importlib.metadata import version

    import neo4j
    import strawberry  # noqa: F401

    return {
        "cpus": os.cpu_count(), "python": platform.python_version(),
        "platform": platform.platform(), "neo4j_driver": neo4j.__version__,
        "strawberry": version("strawberry-graphql"),
        "rust_ext": _has_rust_ext(),
    }


def _has_rust_ext() -> bool:
    try:
        import neo4j._rust  # type: ignore[import-not-found]  # noqa: F401
        return True
    except ImportError:
        return False


def save(run: dict[str, Any], name: str | None = None) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"{stamp}-{name or run.get('scale', 'x')}.json"
    path.write_text(json.dumps(run, ensure_ascii=False, indent=2, default=str))
    return path


def table(rows: list[dict[str, Any]]) -> str:
    """`ratio` is hub / floor at p50 (W4: see its note), `hub/peer` hub / peer throughput."""
    cols = ["workload", "workers", "target", "requests", "throughput", "p50_ms", "p95_ms",
            "p99_ms", "errors", "ratio", "hub/peer"]
    lines = ["  ".join(f"{c:>10}" for c in cols)]
    for row in rows:
        cells = {**row, "workload": row["workload"] + (f":{row['shape']}" if row.get("shape")
                                                       else ""),
                 "workers": row.get("concurrency", ""), "hub/peer": row.get("peer_ratio", "")}
        lines.append("  ".join(f"{'' if cells.get(c) is None else cells[c]!s:>10}"
                               for c in cols))
    return "\n".join(lines)


def as_dict(f: Figures) -> dict[str, Any]:
    return asdict(f)
