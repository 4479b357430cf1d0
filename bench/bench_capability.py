"""Capability matching and network planning on region-scale data (a benchmark, not a test).

    hub neo4j start
    .venv/bin/python bench/bench_capability.py [--rounds 2] [--programs 30]

If the graph holds no region-scale data, the region of `loaders.generate` (scale "region":
50 000 equipment items, 10 000 staff, 600 competencies) is generated and loaded first through
`loaders.load` (graph.ingest). Ten-module network programs for planning are written through
graph.ingest too (codes BENCH-NET-*; MERGE, so runs are repeatable).

Figures: `sitesForCompetency` over every competency with an infrastructure list, as the bare
Cypher query and through the GraphQL schema (in-process `schema.execute`, request context
and DataLoaders as served); `planNetworkProgram` for 10-module programs, bare and through
GraphQL; and the PROFILE of the matching query (operators, index use, db hits).
Goals: p95 ≤ 30 ms (sitesForCompetency via GraphQL), ≤ 300 ms (planNetworkProgram).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import machine, percentile, save
from graph.capability import SITES_CYPHER, SitesQuery, sites_for_competency, sites_parameters
from graph.ingest import ingest, prepare
from graph.planning import plan_network_program
from graph.registry import REGISTRIES
from hub.db import async_driver, sync_driver
from hub.settings import get_settings

COHORT = 12
SITES_GQL = """
query($c: String!, $n: Int!, $region: String, $near: GeoPointInput) {
  sitesForCompetency(competency: $c, cohortSize: $n, region: $region, near: $near, first: 20) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { siteUid siteName organizationName workplaces coverage fullCoverage distanceKm
            staffMissing qualifiedStaffCount
            gaps { equipmentTypeCode required available missing }
            qualifiedStaff(first: 3) { nodes { uid fullName expertStatus } } }
  }
}"""
PLAN_GQL = """
query($p: String!, $home: String!, $n: Int!) {
  planNetworkProgram(program: $p, cohortSize: $n, homeOrganization: $home,
                     start: "2027-09-01", end: "2027-12-25") {
    exact partnerCount totalDistanceKm
    assignments { moduleNumber siteUid organizationInn role staff { uid } equipment { uid } }
    unplaced { moduleNumber reasons { kind message } }
    agreements { base { organizationInn hours } participant { organizationInn hours
                 sites { uid } equipment { uid } staff { uid } } }
  }
}"""


def stats(seconds: list[float]) -> dict[str, Any]:
    ms = sorted(s * 1000 for s in seconds)
    return {"n": len(ms), "p50_ms": round(percentile(ms, 0.5), 2),
            "p95_ms": round(percentile(ms, 0.95), 2), "max_ms": round(ms[-1], 2) if ms else None}


def ensure_region(driver: Any, database: str) -> None:
    records, _, _ = driver.execute_query("MATCH (e:Equipment) RETURN count(e) AS n",
                                         database_=database)
    if records[0]["n"] >= 10000:
        return
    from graph.migrations import migrate
    from loaders.generate import generate
    from loaders.load import load_directory

    migrate(driver, database=database)
    with tempfile.TemporaryDirectory() as tmp:
        print("generating and loading the region-scale data set…", flush=True)
        generate(Path(tmp), scale="region", seed=1)
        t0 = time.perf_counter()
        reports = load_directory(driver, tmp, database=database)
        bad = [r for r in reports if not r.ok]
        if bad:
            raise SystemExit(f"load failed: {bad[0].registry}: {bad[0].errors[:3]}")
        print(f"loaded in {time.perf_counter() - t0:.0f} s", flush=True)


def write_rows(driver: Any, database: str, registry: str, rows: list[dict[str, Any]]) -> None:
    prepared = prepare(REGISTRIES[registry], rows)
    with driver.session(database=database) as s:
        report = s.execute_write(lambda tx: ingest(tx, prepared))
    if not report.ok:
        raise SystemExit(f"{registry}: {report.errors[:3]}")


def bench_programs(driver: Any, database: str, count: int, seed: int = 7
                   ) -> list[tuple[str, str]]:
    """Ten-module programs of colleges: each module needs a competency's list items."""
    records, _, _ = driver.execute_query("""
        MATCH (o:Organization {kind: 'COLLEGE'})
        WITH o ORDER BY o.uid LIMIT $k
        CALL (o) {
          MATCH (o)<-[:WORKS_AT]-(:Staff)-[:QUALIFIED_IN]->(c:Competency)
                -[:HAS_INFRASTRUCTURE_LIST]->(l:InfrastructureList)
          WITH DISTINCT c, l ORDER BY c.uid
          RETURN collect({c: c.uid, items: l.items}) AS own
        }
        RETURN o.uid AS inn, own""", k=count, database_=database)
    all_lists, _, _ = driver.execute_query(
        "MATCH (c:Competency)-[:HAS_INFRASTRUCTURE_LIST]->(l) RETURN c.uid AS c, l.items AS items "
        "ORDER BY c", database_=database)
    rng = random.Random(seed)
    programs, modules, out = [], [], []
    for i, r in enumerate(records):
        code = f"BENCH-NET-{i + 1:03d}"
        pool = list(r["own"])[:4] + rng.sample([dict(x) for x in all_lists], 6)
        programs.append({"code": code, "name": f"Сетевая программа {i + 1}", "type": "SECTORAL",
                         "hours": 400, "organization": r["inn"], "network": True})
        for n, comp in enumerate(pool[:10], start=1):
            items = json.loads(comp["items"])[:3]
            modules.append({"program": code, "number": n, "name": f"Модуль {n}", "hours": 40,
                            "competency": comp["c"], "requirements": items, "min_staff": 1})
        out.append((code, r["inn"]))
    write_rows(driver, database, "programs", programs)
    write_rows(driver, database, "modules", modules)
    return out


def profile(driver: Any, database: str, competency: str, region: str) -> dict[str, Any]:
    params = sites_parameters(SitesQuery(competency, COHORT, region=region))
    with driver.session(database=database) as s:
        summary = s.run("PROFILE " + SITES_CYPHER, params).consume()
    ops: list[dict[str, Any]] = []

    def walk(p: dict[str, Any], depth: int) -> None:
        args = p.get("args", {})
        ops.append({"depth": depth, "operator": p["operatorType"],
                    "details": str(args.get("Details", ""))[:160],
                    "rows": p.get("rows"), "dbHits": p.get("dbHits")})
        for child in p.get("children", []):
            walk(child, depth + 1)

    walk(summary.profile, 0)
    return {
        "competency": competency,
        "total_db_hits": sum(o["dbHits"] or 0 for o in ops),
        "label_scans": [o for o in ops if "LabelScan" in o["operator"]
                        or o["operator"].startswith("AllNodesScan")],
        "index_seeks": [o["operator"] + " " + o["details"] for o in ops
                        if "Seek" in o["operator"]],
        "operators": ops,
    }


async def graphql_runs(settings: Any, comps: list[str], region: str, near: dict | None,
                       programs: list[tuple[str, str]], rounds: int) -> dict[str, Any]:
    from graph.access import SYSTEM
    from schema.api import schema
    from schema.core.context import HubContext

    driver = async_driver(settings)
    try:
        async def run(query: str, variables: dict[str, Any]) -> float:
            ctx = HubContext(driver=driver, database=settings.neo4j_database)
            ctx.principal = SYSTEM  # as an authenticated admin: the access policy runs too
            t0 = time.perf_counter()
            result = await schema.execute(query, variable_values=variables, context_value=ctx)
            took = time.perf_counter() - t0
            if result.errors:
                raise SystemExit(f"GraphQL error: {result.errors[0]}")
            return took

        for c in comps[:50]:  # warm-up
            await run(SITES_GQL, {"c": c, "n": COHORT, "region": region, "near": near})
        sites = [await run(SITES_GQL, {"c": c, "n": COHORT, "region": region, "near": near})
                 for _ in range(rounds) for c in comps]
        for p, home in programs[:3]:
            await run(PLAN_GQL, {"p": p, "home": home, "n": COHORT})
        plans = [await run(PLAN_GQL, {"p": p, "home": home, "n": COHORT})
                 for _ in range(rounds) for p, home in programs]
        return {"sites_for_competency": stats(sites), "plan_network_program": stats(plans)}
    finally:
        await driver.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=2, help="passes over all competencies")
    ap.add_argument("--programs", type=int, default=30, help="10-module programs to plan")
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()
    settings = get_settings()
    db = settings.neo4j_database
    driver = sync_driver(settings)
    try:
        ensure_region(driver, db)
        records, _, _ = driver.execute_query(
            "MATCH (c:Competency)-[:HAS_INFRASTRUCTURE_LIST]->() RETURN c.uid AS c ORDER BY c",
            database_=db)
        comps = [r["c"] for r in records]
        region_rec, _, _ = driver.execute_query(
            "MATCH (r:Region) WITH r ORDER BY r.code LIMIT 1 "
            "OPTIONAL MATCH (s:Site) WHERE s.latitude IS NOT NULL "
            "RETURN r.code AS code, avg(s.latitude) AS lat, avg(s.longitude) AS lon",
            database_=db)
        region = region_rec[0]["code"]
        near = {"lat": region_rec[0]["lat"], "lon": region_rec[0]["lon"]}
        programs = bench_programs(driver, db, args.programs)

        with driver.session(database=db) as s:
            for c in comps[:50]:  # warm-up
                s.execute_read(lambda tx, c=c: sites_for_competency(
                    tx, SitesQuery(c, COHORT, region=region, near=(near["lat"], near["lon"]))))
            bare, sizes = [], []
            for _ in range(args.rounds):
                for c in comps:
                    t0 = time.perf_counter()
                    page = s.execute_read(lambda tx, c=c: sites_for_competency(
                        tx, SitesQuery(c, COHORT, region=region,
                                       near=(near["lat"], near["lon"]))))
                    bare.append(time.perf_counter() - t0)
                    sizes.append(page.total_count)
            plan_bare, partners, exact = [], [], 0
            for _ in range(args.rounds):
                for code, home in programs:
                    t0 = time.perf_counter()
                    plan, _ = s.execute_read(lambda tx, code=code, home=home: (
                        plan_network_program(tx, code, home, COHORT)))
                    plan_bare.append(time.perf_counter() - t0)
                    partners.append(len(plan.partners))
                    exact += plan.exact
        typical = comps[len(comps) // 2]
        prof = profile(driver, db, typical, region)
    finally:
        driver.close()

    gql = asyncio.run(graphql_runs(settings, comps, region, near, programs, args.rounds))
    run = {
        "scale": "capability", "machine": machine(),
        "load_average": [round(x, 2) for x in os.getloadavg()], "competencies": len(comps),
        "programs": len(programs), "cohort": COHORT,
        "candidate_sites": {"mean": round(sum(sizes) / len(sizes), 1), "max": max(sizes)},
        "bare": {"sites_for_competency": stats(bare), "plan_network_program": stats(plan_bare)},
        "graphql": gql,
        "plans": {"exact": exact, "of": len(plan_bare),
                  "mean_partners": round(sum(partners) / len(partners), 2)},
        "profile": {k: v for k, v in prof.items() if k != "operators"},
    }
    print(json.dumps(run, ensure_ascii=False, indent=1))
    print(f"\nPROFILE of the matching query (competency {typical}):")
    for o in prof["operators"]:
        print(f"{'  ' * o['depth']}{o['operator']}  rows={o['rows']} hits={o['dbHits']}  "
              f"{o['details']}")
    if not args.no_save:
        print("saved:", save({**run, "profile_operators": prof["operators"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
