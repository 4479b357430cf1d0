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

from bench.client import Client
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
from bench.workloads import (
    TITLES,
    bulk_load,
    bulk_rows,
    bulk_table_rows,
    label_counts,
    prepare,
    profile,
)


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="region", choices=["demo", "region", "federal"])
    ap.add_argument("--regions", type=int, default=None, help="federal: regions to generate")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workloads", default="W1,W2,W3,W4,W5", help="W1,W2,W3,W4,W5 and/or MIX")
    ap.add_argument("--concurrency", default="8",
                    help="workers, or a comma list (each measured in turn): 1,8")
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
    ap.add_argument("--no-peer", action="store_true",
                    help="W2 without the @neo4j/graphql peer (bench/peer.py)")
    ap.add_argument("--no-prepare", action="store_true",
                    help="use the graph as it is (tests); W4 then needs generator data")
    return ap.parse_args(argv)


SHAPES = {"equipment_page1": "page1", "equipment_page2": "page2", "organization_tree": "tree"}


def shapes(name: str, requests: list) -> list[tuple[str | None, list[int]]]:
    """W2: each request shape measured on its own (indices into `requests`); others: all."""
    if name != "W2":
        return [(None, list(range(len(requests))))]
    return [(short, idx) for kind, short in SHAPES.items()
            if (idx := [i for i, r in enumerate(requests) if r.kind == kind])]


async def peer_requests(client: Any, peer_client: Any, requests: list
                        ) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, Any]]:
    """The peer's form of every W2 request, and whether the peer answers each one as the hub
    does (same items in the same order, totalCount, hasNextPage): each asked once of both."""
    from bench import peer

    out, cursors, diffs = [], {}, []
    for r in requests:
        query, variables = peer.request(r.kind, r.variables, cursors.get(r.variables["m"][0]))
        hub_data = await post(client, r.query, r.variables)
        peer_data = await post(peer_client, query, variables)
        if r.kind == "equipment_page1":
            cursors[r.variables["m"][0]] = \
                peer_data["equipmentConnection"]["pageInfo"]["endCursor"]
        d = peer.difference(peer.normalised(r.kind, hub_data, False),
                            peer.normalised(r.kind, peer_data, True))
        if d:
            diffs.append({"kind": r.kind, "m": r.variables["m"], "difference": d})
        out.append((query, variables))
    return out, {"requests": len(requests), "equal": len(requests) - len(diffs),
                 "different": len(diffs), "samples": diffs[:5]}


async def http_workload(url: str, token: str, driver: Any, db: str, name: str, region: str,
                        args: argparse.Namespace, peer_url: str | None = None
                        ) -> tuple[list[dict[str, Any]], list, dict[str, Any]]:
    """Rows per concurrency (and W2 shape): hub, peer (W2, when running), floor; the
    statements the hub ran; the peer's requests and equivalence."""
    requests = await prepare(driver, db, name, region, args.requests)
    headers = {"Authorization": f"Bearer {token}"}
    extra: dict[str, Any] = {}
    peer_reqs: list[tuple[str, dict[str, Any]]] | None = None
    if peer_url and name == "W2":
        async with Client(url, headers) as client, Client(peer_url) as peer_client:
            peer_reqs, extra["equivalence"] = await peer_requests(client, peer_client,
                                                                  requests)
        extra["peer_requests"] = peer_reqs
        eq = extra["equivalence"]
        print(f"  peer answers: {eq['equal']} of {eq['requests']} equal to the hub's"
              + "".join(f"\n    DIFF {d}" for d in eq["samples"]), flush=True)
    rows: list[dict[str, Any]] = []
    for workers in workers_of(name, args):
        async with Client(url, headers) as client, Client(peer_url or url) as peer_client:
            for shape, idx in shapes(name, requests):
                n = len(idx)

                async def hub(i: int, idx: list[int] = idx, n: int = n) -> None:
                    r = requests[idx[i % n]]
                    await post(client, r.query, r.variables)

                async def peer(i: int, idx: list[int] = idx, n: int = n) -> None:
                    assert peer_reqs is not None
                    await post(peer_client, *peer_reqs[idx[i % n]])

                async def floor(i: int, idx: list[int] = idx, n: int = n) -> None:
                    await replay(driver, db, requests[idx[i % n]].statements)

                targets = {"hub": hub, **({"peer": peer} if peer_reqs else {}), "floor": floor}
                got = {}
                for target, fn in targets.items():
                    before = [round(x, 2) for x in os.getloadavg()]
                    got[target] = await closed_loop(fn, concurrency=workers,
                                                    seconds=args.seconds, warmup=args.warmup)
                    print(f"  {name}{':' + shape if shape else ''} c={workers} {target:5} "
                          f"{got[target].throughput:7.1f}/s p50 {got[target].p50_ms:8.2f} "
                          f"p95 {got[target].p95_ms:8.2f} (load {before[0]})", flush=True)
                statements = sum(len(requests[i].statements) for i in idx) / n
                rows += figure_rows(name, shape, workers, got, n, round(statements, 2))
    return rows, [s for r in requests for s in r.statements], extra


def figure_rows(name: str, shape: str | None, workers: int, got: dict[str, Any],
                distinct: int, statements: float) -> list[dict[str, Any]]:
    """One row per target; the hub row carries hub / floor (p50: `ratio`, p95, throughput)
    and hub / peer (throughput: `peer_ratio`, the goal's figure; p50 as `peer_ratio_p50`)."""
    def ratio(a: float, b: float) -> float | None:
        return round(a / b, 2) if b else None

    hub, floor, peer = got["hub"], got["floor"], got.get("peer")
    rows = [{"workload": name, "shape": shape, "target": t, **as_dict(f),
             "concurrency": workers} for t, f in got.items()]
    rows[0].update(ratio=ratio(hub.p50_ms, floor.p50_ms),
                   ratio_p95=ratio(hub.p95_ms, floor.p95_ms),
                   throughput_ratio=ratio(hub.throughput, floor.throughput),
                   distinct_requests=distinct, statements_per_request=statements)
    if peer is not None:
        rows[0].update(peer_ratio=ratio(hub.throughput, peer.throughput),
                       peer_ratio_p50=ratio(hub.p50_ms, peer.p50_ms))
    rows[-1]["ratio"] = 1.0
    return rows


def workers_of(name: str, args: argparse.Namespace) -> list[int]:
    if name == "W1":
        return [args.dashboard_concurrency]
    return [int(c) for c in str(args.concurrency).split(",")]


async def run_http(settings: Any, token: str, url: str, names: list[str], region: str,
                   args: argparse.Namespace, peer_url: str | None = None
                   ) -> tuple[list[dict[str, Any]], dict[str, list], dict[str, Any]]:
    from hub.db import async_driver

    rows, hot, extra = [], {}, {}
    driver = async_driver(settings)
    try:
        for name in names:
            workers = workers_of(name, args)
            who = "hub, peer, floor" if peer_url and name == "W2" else "hub, then floor"
            print(f"{name} {TITLES[name]}: {who} ({','.join(map(str, workers))} workers, "
                  f"{args.warmup:g} s warm-up, {args.seconds:g} s)…", flush=True)
            if name == "MIX":
                from bench.mixed_load import run

                result, _ = await run(url, token, seconds=args.seconds,
                                      concurrency=max(workers), warmup=args.warmup)
                rows.append({"workload": "MIX", "target": "hub", **result["overall"],
                             "kinds": result["kinds"]})
                continue
            got, statements, more = await http_workload(
                url, token, driver, settings.neo4j_database, name, region, args, peer_url)
            rows += got
            hot[name] = statements
            extra.update(more)
    finally:
        await driver.close()
    return rows, hot, extra


def start_peer(settings: Any, run: dict[str, Any]) -> Any:
    """The @neo4j/graphql peer on a free port (installed first), or None — with the reason
    printed and in `run["peer"]` — when it cannot run here."""
    from bench import peer

    reason = peer.why_not()
    if reason is None:
        try:
            peer.install()
            port = free_port()
            proc = peer.start(settings, port)
        except (OSError, RuntimeError) as exc:
            reason = str(exc)
        else:
            run["peer"] = {"url": f"http://127.0.0.1:{port}", "source": str(peer.SOURCE)}
            return proc
    print(f"peer (@neo4j/graphql): not run — {reason}; W2 measures hub and floor only",
          flush=True)
    run["peer"] = {"skipped": reason}
    return None


def admin_token(settings: Any) -> str:
    from hub import ledger

    try:
        ledger.create_account(settings.ledger_url, "bench", "admin")
    except ledger.LedgerError:
        pass  # made by an earlier run
    return ledger.issue_token(settings.ledger_url, "bench").secret


def print_profile(name: str, checks: list[dict[str, Any]]) -> None:
    for c in checks:
        mark = "ok  " if c["ok"] else "SCAN"
        scans = "; ".join(f"{s['operator']} {s['label']}({s['nodes']})" for s in c["scans"])
        print(f"PROFILE {name} {mark} runs={c['runs']:>4} hits mean={c['db_hits']:>8} "
              f"max={c['db_hits_max']:>8} {c['statement'][:60]}"
              + (f"  [{scans}]" if scans else ""))
        for seek in c["seeks"]:
            print(f"        {seek}")


def row_key(r: dict[str, Any], concurrency: Any) -> tuple:
    """(workload, W2 shape, target, workers) of a result row."""
    return (r["workload"], r.get("shape"), r["target"], concurrency)


def region_baseline() -> tuple[dict[tuple, float], dict[tuple[str, str], int]]:
    """From the latest region-scale run that measured it: p95 per (workload, shape, target,
    workers) and PROFILE db hits per (workload, statement) — the latter does not depend on
    machine load."""
    p95: dict[tuple, float] = {}
    hits: dict[tuple[str, str], int] = {}
    for path in sorted(RESULTS.glob("*-bench-region.json"), reverse=True):
        data = json.loads(path.read_text())
        for r in data.get("rows", []):
            if r.get("p95_ms") and r.get("requests"):
                p95.setdefault(row_key(r, r.get("concurrency", data.get("concurrency"))),
                               r["p95_ms"])
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
        peer_proc = None
        web = [n for n in names if n != "W4"]
        if web:
            token = admin_token(settings)
            port = free_port()
            peer_proc = start_peer(settings, run) if "W2" in web and not args.no_peer else None
            # hub and floor do the same work: no dashboard shared between W1 requests
            server = serve(port, {"HUB_DASHBOARD_TTL": "0", **os.environ})
            try:
                rows, hot, extra = asyncio.run(run_http(
                    settings, token, f"http://127.0.0.1:{port}", web, region, args,
                    run["peer"]["url"] if peer_proc else None))
                run["hub_peak_rss_mb"] = peak_rss_mb(server.pid)
                if peer_proc:
                    run["peer"]["peak_rss_mb"] = peak_rss_mb(peer_proc.pid)
                    run["peer"]["equivalence"] = extra["equivalence"]
            finally:
                server.terminate()
                server.wait(20)
                if peer_proc:
                    peer_proc.terminate()
                    peer_proc.wait(20)
            if peer_proc:
                from bench import peer

                peer_statements = [s for st in peer.capture(settings, extra["peer_requests"])
                                   for s in st]
        if "W4" in names:
            print(f"W4 {TITLES['W4']}: loader vs LOAD CSV vs raw UNWIND…", flush=True)
            items = bulk_rows(args.scale, args.seed, args.regions, args.bulk_rows)
            w4 = bulk_load(driver, db, items, batch=args.bulk_batch)
            run["bulk_load"] = w4
            rows += bulk_table_rows(w4)
        run["rows"] = rows

        verdicts = {name: profile(driver, db, statements, counts, args.large_label)
                    for name, statements in hot.items()}
        run["profile"] = verdicts
        if peer_proc:  # the peer's plans: for comparison, never a reason to fail the run
            run["peer"]["profile"] = profile(driver, db, peer_statements, counts,
                                             args.large_label)

    print()
    print(table(rows))
    print("(W1–W3, W5: requests/s and ms per request, ratio = hub p50 / floor p50, "
          "hub/peer = hub requests/s / peer requests/s; "
          "W4: rows/s, ratio on loader / loader_b = loader / LOAD CSV in the same transactions "
          "(one; batches of --bulk-batch), on raw = loader / raw UNWIND)")
    if "hub_peak_rss_mb" in run:
        print(f"hub peak RSS (VmHWM): {run['hub_peak_rss_mb']} MiB"
              + (f", peer {run['peer']['peak_rss_mb']} MiB"
                 if run.get("peer", {}).get("peak_rss_mb") else ""))
    if run.get("peer", {}).get("equivalence"):
        eq = run["peer"]["equivalence"]
        print(f"peer answers equal to the hub's: {eq['equal']} of {eq['requests']}")
    bad = [(name, c) for name, checks in verdicts.items() for c in checks if not c["ok"]]
    for name, checks in verdicts.items():
        print_profile(name, checks)
    if run.get("peer", {}).get("profile"):
        print_profile("W2/peer", run["peer"]["profile"])
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
            key = row_key(r, r.get("concurrency"))
            b = base.get(key)
            if b and r.get("p95_ms"):
                ratio = round(r["p95_ms"] / b, 2)
                name = "/".join(str(k) for k in key if k is not None)
                run["federal_vs_region_p95"][name] = ratio
                print(f"p95 federal vs region {name}: {r['p95_ms']} ms vs {b} ms = {ratio}× "
                      f"(target ≤ 2)")
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
