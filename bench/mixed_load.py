"""Mixed load on the served hub: concurrent reads and writes for a bounded time; zero errors,
and every acknowledged write is in the graph afterwards (a benchmark, not a test).

    hub neo4j start
    .venv/bin/python bench/mixed_load.py [--seconds 60] [--concurrency 8] [--writes 0.25]

Serves the app with `hub serve` in a subprocess (its own temporary ledger, an admin token),
loads the demo region if the graph has no sites, then runs a closed loop (bench/harness.py):
each request is a write (createEquipment with a fresh inventory number) with probability
--writes, else one of four reads (organizations page with nested sites, equipment of an
organization, the public catalogue, a node just written: read-your-writes). Prints throughput,
p50/p95 overall and per kind, and writes JSON to bench/results/. The MIX-* equipment it
creates stays in the graph.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import as_dict, closed_loop, figures, machine, save

WRITE = """mutation($i: EquipmentInput!) { createEquipment(input: $i) {
  status node { id uid } errors { field message } } }"""
READS = {
    "organizations": ("query { organizations(first: 20) { totalCount nodes { uid name "
                      "sites(first: 5) { code workplaces } } } }"),
    "equipment": ("query($org: String!) { equipment(first: 20, filter: {organization: [$org]}) "
                  "{ totalCount nodes { uid quantity status } } }"),
    "catalog": "query { catalog(first: 10) { items { code name cohorts { code seatsLeft } } } }",
    "node": "query($id: ID!) { node(id: $id) { ... on Equipment { uid quantity } } }",
}
SITES = "query { sites(first: 100) { nodes { organizationInn code } } equipmentTypes(first: 50) " \
        "{ nodes { code } } }"
MISSING = """
UNWIND $uids AS u
OPTIONAL MATCH (e:Equipment {uid: u})
OPTIONAL MATCH (c:Change {label: 'Equipment', uid: u, op: 'create'})
WITH u, e, count(c) AS audited
WHERE e IS NULL OR audited <> 1
RETURN collect(u) AS missing
"""


@dataclass
class Mix:
    """State of one run: what to write where, and what was acknowledged."""

    sites: list[tuple[str, str]]
    types: list[str]
    write_share: float
    tag: str = field(default_factory=lambda: f"{int(time.time()) % 100000:05d}")
    acked: list[tuple[str, str]] = field(default_factory=list)  # (uid, global id)
    latencies: dict[str, list[float]] = field(default_factory=dict)


async def _post(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(str(body["errors"])[:300])
    return body["data"]


def request_fn(client: httpx.AsyncClient, mix: Mix):
    rng = random.Random(7)

    async def request(i: int) -> None:
        began = time.perf_counter()
        if rng.random() < mix.write_share or not mix.acked:
            kind = "write"
            org, site = mix.sites[i % len(mix.sites)]
            data = await _post(client, WRITE, {"i": {
                "organization": org, "inventoryNumber": f"MIX-{mix.tag}-{i}", "site": site,
                "type": mix.types[i % len(mix.types)], "quantity": 1 + i % 5}})
            payload = data["createEquipment"]
            if payload["errors"] or payload["status"] != "CREATED":
                raise RuntimeError(f"write refused: {payload}")
            mix.acked.append((payload["node"]["uid"], payload["node"]["id"]))
        else:
            kind = rng.choice(list(READS))
            if kind == "equipment":
                variables = {"org": mix.sites[i % len(mix.sites)][0]}
            elif kind == "node":
                uid, gid = mix.acked[rng.randrange(len(mix.acked))]
                variables = {"id": gid}
            else:
                variables = {}
            data = await _post(client, READS[kind], variables)
            if kind == "node" and (data["node"] or {}).get("uid") != uid:
                raise RuntimeError(f"acknowledged write {uid} not readable: {data}")
        mix.latencies.setdefault(kind, []).append(time.perf_counter() - began)

    return request


async def run(url: str, token: str, *, seconds: float, concurrency: int,
              write_share: float = 0.25, warmup: float = 1.0) -> tuple[dict[str, Any], Mix]:
    """Closed loop against a served hub; figures overall and per request kind."""
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30,
                                 limits=limits) as client:
        data = await _post(client, SITES, {})
        sites = [(s["organizationInn"], s["code"]) for s in data["sites"]["nodes"]]
        types = [t["code"] for t in data["equipmentTypes"]["nodes"]]
        if not sites or not types:
            raise RuntimeError("the graph has no sites or equipment types to write to")
        mix = Mix(sites=sites, types=types, write_share=write_share)
        overall = await closed_loop(request_fn(client, mix), concurrency=concurrency,
                                    seconds=seconds, warmup=warmup)
    kinds = {kind: as_dict(figures(values, [], seconds))
             for kind, values in sorted(mix.latencies.items())}
    return {"overall": as_dict(overall), "kinds": kinds, "acknowledged_writes": len(mix.acked)}, mix


def missing_writes(driver: Any, mix: Mix, database: str | None = None) -> list[str]:
    """Acknowledged writes not in the graph, or without exactly one audit record."""
    uids = [uid for uid, _ in mix.acked]
    records, _, _ = driver.execute_query(MISSING, uids=uids, database_=database)
    return records[0]["missing"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(port: int, env: dict[str, str]) -> subprocess.Popen:
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--writes", type=float, default=0.25, help="share of writes")
    args = parser.parse_args()

    ledger_dir = tempfile.mkdtemp(prefix="hub-bench-ledger-")
    os.environ["HUB_DATABASE_URL"] = f"sqlite:///{ledger_dir}/ledger.sqlite"
    from graph.migrations import migrate
    from hub import ledger
    from hub.db import sync_driver
    from hub.settings import get_settings
    from loaders.demo import write_demo
    from loaders.load import load_directory

    settings = get_settings()
    ledger.create_account(settings.ledger_url, "bench-admin", "admin")
    token = ledger.issue_token(settings.ledger_url, "bench-admin").secret
    with sync_driver(settings) as driver:
        migrate(driver, database=settings.neo4j_database)
        records, _, _ = driver.execute_query("MATCH (s:Site) RETURN count(s) AS n",
                                             database_=settings.neo4j_database)
        if records[0]["n"] == 0:
            with tempfile.TemporaryDirectory() as tmp:
                write_demo(Path(tmp))
                load_directory(driver, tmp, database=settings.neo4j_database)
    port = free_port()
    server = _serve(port, dict(os.environ))
    try:
        result, mix = asyncio.run(run(f"http://127.0.0.1:{port}", token, seconds=args.seconds,
                                      concurrency=args.concurrency, write_share=args.writes))
        time.sleep(0.5)
        with sync_driver(settings) as driver:
            missing = missing_writes(driver, mix, settings.neo4j_database)
    finally:
        server.terminate()
        server.wait(20)
    overall = result["overall"]
    print(f"mixed load: {args.seconds:g} s, concurrency {args.concurrency}, "
          f"writes {args.writes:.0%}")
    print(f"  throughput {overall['throughput']} req/s, p50 {overall['p50_ms']} ms, "
          f"p95 {overall['p95_ms']} ms, p99 {overall['p99_ms']} ms, errors {overall['errors']}")
    for kind, f in result["kinds"].items():
        print(f"  {kind:>13}: n={f['requests']:6d}  p50 {f['p50_ms']:8.2f} ms  "
              f"p95 {f['p95_ms']:8.2f} ms")
    print(f"  acknowledged writes {len(mix.acked)}, missing afterwards {len(missing)}")
    path = save({"scale": "mixed", "machine": machine(), "seconds": args.seconds,
                 "concurrency": args.concurrency, "write_share": args.writes, **result,
                 "missing_writes": len(missing)})
    print(f"  saved {path}")
    return 0 if overall["errors"] == 0 and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
