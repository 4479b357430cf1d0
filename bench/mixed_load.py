"""Mixed load on the served hub: concurrent reads and writes for a bounded time; zero errors,
and every acknowledged write is in the graph afterwards. Run as workload MIX of
`python -m bench` (see bench/README.md); tests/test_mixed_load.py runs it briefly.

Each request is a write (createEquipment with a fresh inventory number) with probability
`write_share`, else one of four reads (organizations page with nested sites, equipment of an
organization, the public catalogue, a node just written: read-your-writes). The MIX-*
equipment it creates stays in the graph.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from bench.client import Client
from bench.harness import as_dict, closed_loop, figures
from bench.harness import post as _post
from graph.audit import CHANGE_KEYS_INDEX, key_phrase

WRITE = """mutation($i: EquipmentInput!) { createEquipment(input: $i) {
  status node { id uid } errors { field message } } }"""
READS = {
    "organizations": ("query { organizations(first: 20) { totalCount nodes { uid name "
                      "sites(first: 5) { code workplaces } } } }"),
    "equipment": ("query($org: String!) { equipment(first: 20, filter: {organization: [$org]}) "
                  "{ totalCount nodes { uid quantity status } } }"),
    "catalog": "query { catalog(first: 10) { nodes { code name cohorts { code seatsLeft } } } }",
    "node": "query($id: ID!) { node(id: $id) { ... on Equipment { uid quantity } } }",
}
SITES = "query { sites(first: 100) { nodes { organizationInn code } } equipmentTypes(first: 50) " \
        "{ nodes { code } } }"
MISSING = f"""
UNWIND $rows AS row
WITH row.uid AS u, row.phrase AS phrase
OPTIONAL MATCH (e:Equipment {{uid: u}})
CALL (u, phrase) {{
  CALL db.index.fulltext.queryNodes('{CHANGE_KEYS_INDEX}', phrase) YIELD node AS s
  WITH s WHERE s.label = 'Equipment'
  RETURN sum(size([i IN range(0, size(s.uids) - 1)
                   WHERE s.uids[i] = u AND s.ops[i] = 'create'])) AS audited
}}
WITH u, e, audited
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


def request_fn(client: Client, mix: Mix):
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
    async with Client(url, headers, timeout=30) as client:
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
    rows = [{"uid": uid, "phrase": key_phrase(uid)} for uid, _ in mix.acked]
    records, _, _ = driver.execute_query(MISSING, rows=rows, database_=database)
    return records[0]["missing"]
