"""Closed-loop load at a fixed concurrency for a fixed time, and the figures it yields."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
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

    `request(i)` raises on any error; only requests started after the warm-up are counted.
    Bounded in time: the loop stops by itself.
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
                if began >= measure_from:
                    errors.append(f"{type(exc).__name__}: {exc}"[:300])
                continue
            if began >= measure_from:
                latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return figures(latencies, errors, seconds)


def median_of(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


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
    import neo4j
    import strawberry  # noqa: F401
    from importlib.metadata import version

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


def save(run: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"{stamp}-{run.get('scale', 'x')}.json"
    path.write_text(json.dumps(run, ensure_ascii=False, indent=2, default=str))
    return path


def table(rows: list[dict[str, Any]]) -> str:
    cols = ["workload", "target", "throughput", "p50_ms", "p95_ms", "p99_ms", "errors", "ratio"]
    lines = ["  ".join(f"{c:>12}" for c in cols)]
    for row in rows:
        lines.append("  ".join(f"{str(row.get(c, '')):>12}" for c in cols))
    return "\n".join(lines)


def as_dict(f: Figures) -> dict[str, Any]:
    return asdict(f)
