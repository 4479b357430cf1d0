"""python -m bench: workloads through the served hub next to the same Cypher on the bare driver.

    python -m bench [--scale region|federal|demo] [--workloads W1,W2,W3,W4,W5] [--concurrency 8]
                    [--seconds 20] [--warmup 3] [--regions N]

See bench/README.md. Exit status 1 when, at federal scale, a hot statement scans a large label.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HUB_DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench-ledger.sqlite'}")

from bench.harness import (
    RESULTS,
    as_dict,
    closed_loop,
    free_port,
    machine,
    peak_rss_mb,
    post,
    replay,
    save,
    serve,
    table,
)
from bench.workloads import TITLES, bulk_load, bulk_rows, label_counts, prepare, profile


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="region", choices=["demo", "region", "federal"])
    ap.add_argument("--regions", type=int, default=None, help="federal: regions to generate")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workloads", default="W1,W2,W3,W4,W5", help="W1,W2,W3,W4,W5 and/or MIX")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--dashboard-concurrency", type=int, default=2,
                    help="W1 workers: one dashboard takes seconds of both cores at region scale")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--requests", type=int, default=100,
                    help="distinct requests per workload (municipalities for W2, "
                         "competencies for W3)")
    ap.add_argument("--bulk-rows", type=int, default=20000, help="W4 rows (0: all)")
    ap.add_argument("--bulk-batch", type=int, default=5000)
    ap.add_argument("--large-label", type=int, default=2000,
                    help="a label with at least this many nodes must not be scanned")
    ap.add_argument("--no-prepare", action="store_true",
                    help="use the graph as it is (tests); W4 then needs generator data")
    return ap.parse_args(argv)


async def http_workload(url: str, token: str, driver: Any, db: str, name: str, region: str,
                        args: argparse.Namespace) -> tuple[list[dict[str, Any]], list]:
    import httpx

    requests = await prepare(driver, db, name, region, args.requests)
    n = len(requests)
    workers = workers_of(name, args)
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60,
                                 limits=limits) as client:
        async def hub(i: int) -> None:
            r = requests[i % n]
            await post(client, r.query, r.variables)

        hub_f = await closed_loop(hub, concurrency=workers, seconds=args.seconds,
                                  warmup=args.warmup)

    async def floor(i: int) -> None:
        await replay(driver, db, requests[i % n].statements)

    floor_f = await closed_loop(floor, concurrency=workers, seconds=args.seconds,
                                warmup=args.warmup)
    statements = sum(len(r.statements) for r in requests) / n
    rows = [{"workload": name, "target": "hub", **as_dict(hub_f),
             "ratio": round(hub_f.p50_ms / floor_f.p50_ms, 2) if floor_f.p50_ms else ""},
            {"workload": name, "target": "floor", **as_dict(floor_f), "ratio": 1.0}]
    rows[0]["ratio_p95"] = round(hub_f.p95_ms / floor_f.p95_ms, 2) if floor_f.p95_ms else None
    rows[0]["throughput_ratio"] = (round(hub_f.throughput / floor_f.throughput, 2)
                                   if floor_f.throughput else None)
    rows[0]["distinct_requests"] = n
    rows[0]["concurrency"] = rows[1]["concurrency"] = workers
    rows[0]["statements_per_request"] = round(statements, 2)
    return rows, [s for r in requests for s in r.statements]


def workers_of(name: str, args: argparse.Namespace) -> int:
    return args.dashboard_concurrency if name == "W1" else args.concurrency


async def run_http(settings: Any, token: str, url: str, names: list[str], region: str,
                   args: argparse.Namespace) -> tuple[list[dict[str, Any]], dict[str, list]]:
    from hub.db import async_driver

    rows, hot = [], {}
    driver = async_driver(settings)
    try:
        for name in names:
            print(f"{name} {TITLES[name]}: hub, then floor ({workers_of(name, args)} workers, "
                  f"{args.warmup:g} s warm-up, {args.seconds:g} s)…", flush=True)
            if name == "MIX":
                from bench.mixed_load import run

                result, _ = await run(url, token, seconds=args.seconds,
                                      concurrency=args.concurrency, warmup=args.warmup)
                rows.append({"workload": "MIX", "target": "hub", **result["overall"],
                             "kinds": result["kinds"]})
                continue
            got, statements = await http_workload(url, token, driver, settings.neo4j_database,
                                                  name, region, args)
            rows += got
            hot[name] = statements
    finally:
        await driver.close()
    return rows, hot


def admin_token(settings: Any) -> str:
    from hub import ledger

    try:
        ledger.create_account(settings.ledger_url, "bench", "admin")
    except ledger.LedgerError:
        pass  # made by an earlier run
    return ledger.issue_token(settings.ledger_url, "bench").secret


def region_baseline() -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], int]]:
    """From the latest region-scale run that measured it: p95 per (workload, target) and
    PROFILE db hits per (workload, statement) — the latter does not depend on machine load."""
    p95: dict[tuple[str, str], float] = {}
    hits: dict[tuple[str, str], int] = {}
    for path in sorted(RESULTS.glob("*-bench-region.json"), reverse=True):
        data = json.loads(path.read_text())
        for r in data.get("rows", []):
            if r.get("p95_ms") and r.get("requests"):
                p95.setdefault((r["workload"], r["target"]), r["p95_ms"])
        for name, checks in data.get("profile", {}).items():
            for c in checks:
                hits.setdefault((name, c["statement"]), c["db_hits"])
    return p95, hits


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    from bench.dataset import ensure_dataset, loaded_key
    from hub.db import sync_driver
    from hub.settings import get_settings

    names = [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    unknown = set(names) - set(TITLES)
    if unknown:
        raise SystemExit(f"unknown workloads: {sorted(unknown)}")
    settings = get_settings()
    db = settings.neo4j_database
    run: dict[str, Any] = {"bench": "hub-vs-floor", "scale": args.scale, "seed": args.seed,
                           "regions": args.regions, "machine": machine(),
                           "load_average": [round(x, 2) for x in os.getloadavg()],
                           "concurrency": args.concurrency, "seconds": args.seconds,
                           "warmup": args.warmup, "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    with sync_driver(settings) as driver:
        if args.no_prepare:
            records, _, _ = driver.execute_query(
                "MATCH (r:Region) RETURN r.code AS code ORDER BY code LIMIT 1", database_=db)
            run["dataset"] = {"key": "as-is", "region": records[0]["code"]}
        else:
            run["dataset"] = ensure_dataset(driver, db, args.scale, args.seed, args.regions)
        region = run["dataset"]["region"] or loaded_key(driver, db)[1]
        counts = label_counts(driver, db)
        run["graph"] = {k: v for k, v in sorted(counts.items()) if v}

        rows: list[dict[str, Any]] = []
        hot: dict[str, list] = {}
        web = [n for n in names if n != "W4"]
        if web:
            token = admin_token(settings)
            port = free_port()
            # hub and floor do the same work: no dashboard shared between W1 requests
            server = serve(port, {"HUB_DASHBOARD_TTL": "0", **os.environ})
            try:
                rows, hot = asyncio.run(run_http(settings, token, f"http://127.0.0.1:{port}",
                                                 web, region, args))
                run["hub_peak_rss_mb"] = peak_rss_mb(server.pid)
            finally:
                server.terminate()
                server.wait(20)
        if "W4" in names:
            print(f"W4 {TITLES['W4']}: raw UNWIND vs loader…", flush=True)
            items = bulk_rows(args.scale, args.seed, args.regions, args.bulk_rows)
            w4 = bulk_load(driver, db, items, batch=args.bulk_batch)
            run["bulk_load"] = w4
            rows += [{"workload": "W4", "target": "loader", "requests": w4["rows"],
                      "throughput": w4["loader_rows_per_s"], "ratio": w4["ratio"]},
                     {"workload": "W4", "target": "raw", "requests": w4["rows"],
                      "throughput": w4["raw_rows_per_s"], "ratio": 1.0}]
        run["rows"] = rows

        verdicts = {name: profile(driver, db, statements, counts, args.large_label)
                    for name, statements in hot.items()}
        run["profile"] = verdicts

    print()
    print(table(rows))
    print("(W1–W3, W5: requests/s and ms per request, ratio = hub p50 / floor p50; "
          "W4: rows/s, ratio = loader / raw)")
    if "hub_peak_rss_mb" in run:
        print(f"hub peak RSS (VmHWM): {run['hub_peak_rss_mb']} MiB")
    bad = []
    for name, checks in verdicts.items():
        for c in checks:
            mark = "ok  " if c["ok"] else "SCAN"
            scans = "; ".join(f"{s['operator']} {s['label']}({s['nodes']})" for s in c["scans"])
            print(f"PROFILE {name} {mark} runs={c['runs']:>4} hits mean={c['db_hits']:>8} "
                  f"max={c['db_hits_max']:>8} {c['statement'][:60]}"
                  + (f"  [{scans}]" if scans else ""))
            for seek in c["seeks"]:
                print(f"        {seek}")
            if not c["ok"]:
                bad.append((name, c))
    if args.scale == "federal":
        base, base_hits = region_baseline()
        run["federal_vs_region_p95"] = {}
        for name, checks in verdicts.items():
            for c in checks:
                b = base_hits.get((name, c["statement"]))
                if b:
                    print(f"db hits federal vs region {name}: {c['db_hits']} vs {b} = "
                          f"{c['db_hits'] / b:.2f}×  {c['statement'][:60]}")
        for r in rows:
            b = base.get((r["workload"], r["target"]))
            if b and r.get("p95_ms"):
                ratio = round(r["p95_ms"] / b, 2)
                run["federal_vs_region_p95"][f"{r['workload']}/{r['target']}"] = ratio
                print(f"p95 federal vs region {r['workload']} {r['target']}: "
                      f"{r['p95_ms']} ms vs {b} ms = {ratio}× (target ≤ 2)")
        if not base:
            print("no region-scale results in bench/results/ to compare p95 with")
    path = save(run, f"bench-{args.scale}")
    print(f"saved {path}")
    if bad and args.scale == "federal":
        print(f"FAIL: {len(bad)} hot statement(s) scan a large label", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
