"""The situational-centre dashboard (KPIs + matrix + roadmap) at region scale: p50/p95 through
GraphQL next to the same Cypher through the bare driver (a benchmark, not a test).

    hub neo4j start
    .venv/bin/python bench/bench_situational.py [--scale region|demo] [--rounds 50]

If the graph holds no cohorts for the region, the region of `loaders.generate` at the given
scale plus its activity (`loaders.demo_activities`: cohorts, enrollments, events, staff
training, demand over two years, the roadmap) is generated and written through graph.ingest.

GraphQL runs in-process (`schema.execute` with the request context, as served, minus HTTP);
the bare run is the identical statement and parameters on the same async driver.
Goal: GraphQL p50 ≤ 1.2 × bare p50.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import machine, percentile, save
from graph import kpi as K
from graph.ingest import ingest, prepare
from graph.registry import LOAD_ORDER, REGISTRIES
from hub.db import async_driver, sync_driver
from hub.settings import get_settings

QUERY = """
query($region: String!, $period: String!, $asOf: Date) {
  situationalCentre(region: $region, period: $period, asOf: $asOf) {
    period previousPeriod
    kpis { key value previous series { period value } }
    matrix { competencyCode municipalityCode workplaces graduates demand supply shortage }
    roadmap { number status overdue nextDue slots { index target kpi actual } }
  }
}"""


def stats(seconds: list[float]) -> dict[str, Any]:
    values = sorted(seconds)
    return {"n": len(values), "p50_ms": round(percentile(values, 0.5) * 1000, 2),
            "p95_ms": round(percentile(values, 0.95) * 1000, 2)}


def ensure_region(driver: Any, database: str, scale: str) -> tuple[str, dict[str, int]]:
    from loaders.demo_activities import demo_activities
    from loaders.generate import SCALES, build_catalogue, generate_region, region_list

    spec = SCALES[scale]
    code = region_list(spec)[0][0]
    records, _, _ = driver.execute_query(
        "MATCH (:Organization {region: $r})<-[:RUN_BY]-(c:Cohort) RETURN count(c) AS n",
        r=code, database_=database)
    if records[0]["n"]:
        return code, {}
    cat = build_catalogue(1, spec.competencies)
    region = generate_region(1, spec, cat, region_list(spec)[0])
    rows = {n: list(getattr(cat, n)) for n in ("equipment_types", "competencies",
                                               "infrastructure_lists")}
    rows.update(region)
    rows.update(demo_activities(region, seed=1))
    counts = {}
    for name in LOAD_ORDER:
        items = rows.get(name) or []
        for i in range(0, len(items), 5000):
            prepared = prepare(REGISTRIES[name], items[i:i + 5000])
            with driver.session(database=database) as s:
                report = s.execute_write(lambda tx, p=prepared: ingest(tx, p))
            if not report.ok:
                raise SystemExit(f"{name}: {report.errors[:3]}")
        counts[name] = len(items)
        print(f"  loaded {name}: {len(items)}", flush=True)
    return code, counts


async def runs(settings: Any, region: str, period: str, as_of: dt.date,
               rounds: int) -> dict[str, Any]:
    from graph.access import SYSTEM
    from schema.api import schema
    from schema.core.context import HubContext

    p = K.parse_period(period)
    cypher = K.dashboard_cypher(K.PARTS)
    params = K.dashboard_params(region, p, as_of)
    variables = {"region": region, "period": period, "asOf": as_of.isoformat()}
    driver = async_driver(settings)
    try:
        async def bare() -> float:
            t = time.perf_counter()
            async with driver.session(database=settings.neo4j_database) as s:
                result = await s.run(cypher, params)
                await result.single()
            return time.perf_counter() - t

        async def graphql() -> float:
            ctx = HubContext(driver=driver, database=settings.neo4j_database)
            ctx.principal = SYSTEM  # an authenticated admin: the access policy runs too
            t = time.perf_counter()
            result = await schema.execute(QUERY, variable_values=variables, context_value=ctx)
            took = time.perf_counter() - t
            if result.errors:
                raise RuntimeError(result.errors)
            assert len(ctx.queries) == 1, ctx.queries
            return took

        for _ in range(3):  # warm-up: plans cached, pool filled
            await bare()
            await graphql()
        bare_s, gql_s = [], []
        for _ in range(rounds):  # interleaved, so both see the same machine load
            bare_s.append(await bare())
            gql_s.append(await graphql())
    finally:
        await driver.close()
    b, g = stats(bare_s), stats(gql_s)
    return {"bare": b, "graphql": g,
            "ratio_p50": round(g["p50_ms"] / b["p50_ms"], 3),
            "ratio_p95": round(g["p95_ms"] / b["p95_ms"], 3)}


def sizes(driver: Any, database: str, region: str) -> dict[str, int]:
    records, _, _ = driver.execute_query(
        "MATCH (n) WHERE n:Cohort OR n:Enrollment OR n:Learner OR n:CareerGuidanceEvent "
        "OR n:StaffTraining OR n:DemandSignal OR n:Equipment OR n:Staff OR n:RoadmapActivity "
        "OR n:ControlPoint RETURN labels(n)[0] AS l, count(n) AS n", database_=database)
    return {r["l"]: r["n"] for r in records}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="region", choices=["demo", "region"])
    parser.add_argument("--period", default="2025")
    parser.add_argument("--as-of", default="2026-11-01")
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    settings = get_settings()
    with sync_driver(settings) as driver:
        region, loaded = ensure_region(driver, settings.neo4j_database, args.scale)
        graph_sizes = sizes(driver, settings.neo4j_database, region)
    figures = asyncio.run(runs(settings, region, args.period,
                               dt.date.fromisoformat(args.as_of), args.rounds))
    run = {"bench": "situational", "scale": args.scale, "region": region,
           "period": args.period, "graph": graph_sizes, "loaded": loaded,
           "machine": machine(), **figures}
    path = save(run)
    print(f"graph: {graph_sizes}")
    print(f"bare driver : p50 {figures['bare']['p50_ms']} ms, p95 {figures['bare']['p95_ms']} ms")
    print(f"GraphQL     : p50 {figures['graphql']['p50_ms']} ms, "
          f"p95 {figures['graphql']['p95_ms']} ms")
    print(f"ratio p50 {figures['ratio_p50']}, p95 {figures['ratio_p95']} (goal ≤ 1.2); "
          f"saved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
