"""The workloads: GraphQL requests (W1–W3) whose Cypher is captured for the floor, the bulk
load (W4: loader rows/s vs raw UNWIND), and the PROFILE check of each hot statement."""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.harness import Statement, capture

# ---------------------------------------------------------------- W1 dashboard
DASHBOARD = """
query($region: String!, $period: String!, $asOf: Date) {
  situationalCentre(region: $region, period: $period, asOf: $asOf) {
    period previousPeriod
    kpis { key value previous series { period value } }
    matrix { competencyCode municipalityCode workplaces graduates demand supply shortage }
    roadmap { number status overdue nextDue slots { index target kpi actual } }
  }
}"""

# ---------------------------------------------------------------- W2 registry browse
EQUIPMENT_PAGE = """
query($m: [String!], $after: String) {
  equipment(first: 50, after: $after, filter: {municipality: $m}) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { uid inventoryNumber name quantity status
            type { code name } site { code name address } }
  }
}"""
ORGANIZATION_TREE = """
query($m: [String!]) {
  organizations(first: 20, filter: {municipality: $m}) {
    totalCount
    nodes { inn name kind sites(first: 10) { code name workplaces
            equipment(first: 50) { uid quantity status } } }
  }
}"""

# ---------------------------------------------------------------- W3 capability
SITES = """
query($c: String!, $n: Int!, $region: String, $near: GeoPointInput) {
  sitesForCompetency(competency: $c, cohortSize: $n, region: $region, near: $near, first: 20) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { siteUid siteName organizationName workplaces coverage fullCoverage distanceKm
            staffMissing qualifiedStaffCount
            gaps { equipmentTypeCode required available missing }
            qualifiedStaff(first: 3) { nodes { uid fullName expertStatus } } }
  }
}"""
COHORT = 12


@dataclass
class Request:
    kind: str
    query: str
    variables: dict[str, Any]
    statements: list[Statement] = field(default_factory=list)


async def w1_requests(driver: Any, db: str, region: str, limit: int) -> list[Request]:
    return [Request("dashboard", DASHBOARD,
                    {"region": region, "period": "2025", "asOf": "2026-11-01"})]


async def w2_requests(driver: Any, db: str, region: str, limit: int) -> list[Request]:
    """Per municipality: equipment page 1, page 2 (cursor of page 1), organizations tree."""
    rows = await _rows(driver, db, "MATCH (m:Municipality {region: $r}) "
                       "RETURN m.oktmo AS m ORDER BY m LIMIT $k", r=region, k=limit)
    out = []
    for r in rows:
        m = [r["m"]]
        data, _ = await capture(driver, db, EQUIPMENT_PAGE, {"m": m, "after": None})
        out.append(Request("equipment_page1", EQUIPMENT_PAGE, {"m": m, "after": None}))
        info = data["equipment"]["pageInfo"]
        if info["hasNextPage"]:
            out.append(Request("equipment_page2", EQUIPMENT_PAGE,
                               {"m": m, "after": info["endCursor"]}))
        out.append(Request("organization_tree", ORGANIZATION_TREE, {"m": m}))
    return out


async def w3_requests(driver: Any, db: str, region: str, limit: int) -> list[Request]:
    """sitesForCompetency over competencies with a list (evenly spread), near the centre."""
    comps = [r["c"] for r in await _rows(
        driver, db, "MATCH (c:Competency)-[:HAS_INFRASTRUCTURE_LIST]->() "
        "RETURN c.uid AS c ORDER BY c")]
    step = max(1, len(comps) // limit)
    centre = (await _rows(driver, db, "MATCH (s:Site) WHERE s.latitude IS NOT NULL "
                          "RETURN avg(s.latitude) AS lat, avg(s.longitude) AS lon"))[0]
    near = {"lat": centre["lat"], "lon": centre["lon"]}
    return [Request("sites_for_competency", SITES,
                    {"c": c, "n": COHORT, "region": region, "near": near})
            for c in comps[::step][:limit]]


# ---------------------------------------------------------------- W5 network planning
PLAN = """
query($p: String!, $home: String!, $n: Int!) {
  planNetworkProgram(program: $p, cohortSize: $n, homeOrganization: $home) {
    exact partnerCount totalDistanceKm
    assignments { moduleNumber siteUid organizationInn role hours distanceKm }
    unplaced { moduleNumber reasons { kind equipmentTypeCode required bestAvailable } }
    agreements { participant { organizationInn } existingAgreements { title } }
  }
}"""
PLAN_PROGRAMS, PLAN_MODULES = 20, 10


async def w5_requests(driver: Any, db: str, region: str, limit: int) -> list[Request]:
    """planNetworkProgram for 10-module programs of the region's colleges (the generator's
    programs have 2–5 modules): BENCH-NET-nn, each module teaching a competency with an
    infrastructure list and needing one unit of three of its types per group and no staff of
    their own (the generated staff cover few competencies per organization), so that most
    modules have many candidate sites; made once (idempotent writes)."""
    from graph.ingest import ingest_async, prepare
    from graph.registry import REGISTRIES

    colleges = [r["o"] for r in await _rows(
        driver, db, "MATCH (o:Organization {region: $r, kind: 'COLLEGE'}) "
        "RETURN o.uid AS o ORDER BY o LIMIT $k", r=region, k=PLAN_PROGRAMS)]
    lists = await _rows(
        driver, db, "MATCH (c:Competency)-[:HAS_INFRASTRUCTURE_LIST]->(l)-[r:REQUIRES]->(t) "
        "WITH c, collect({equipment_type: t.uid, quantity: 1, scope: 'PER_GROUP'})[..3] "
        "AS needs RETURN c.uid AS c, needs ORDER BY c")
    programs, modules = [], []
    for i, home in enumerate(colleges):
        code = f"BENCH-NET-{i + 1:02d}"
        programs.append({"code": code, "name": f"Сетевая программа {i + 1}",
                         "type": "SECTORAL", "hours": 36 * PLAN_MODULES, "network": True,
                         "organization": home})
        for k in range(PLAN_MODULES):
            comp = lists[(i * PLAN_MODULES + k) * 7 % len(lists)]
            modules.append({"program": code, "number": k + 1, "name": f"Модуль {k + 1}",
                            "hours": 36, "competency": comp["c"], "requirements": comp["needs"],
                            "min_staff": 0})
    async with driver.session(database=db) as session:
        for registry, rows in (("programs", programs), ("modules", modules)):
            prepared = prepare(REGISTRIES[registry], rows)
            report = await session.execute_write(lambda tx, p=prepared: ingest_async(tx, p))
            if not report.ok:
                raise RuntimeError(f"W5 {registry}: {report.errors[:3]}")
    return [Request("plan_network_program", PLAN,
                    {"p": p["code"], "home": p["organization"], "n": COHORT})
            for p in programs[:limit]]


REQUESTS = {"W1": w1_requests, "W2": w2_requests, "W3": w3_requests, "W5": w5_requests}
TITLES = {"W1": "dashboard", "W2": "registry browse", "W3": "capability", "W4": "bulk load",
          "W5": "network planning", "MIX": "mixed read/write"}


async def _rows(driver: Any, db: str, query: str, **params: Any) -> list[dict[str, Any]]:
    records, _, _ = await driver.execute_query(query, params, database_=db)
    return [r.data() for r in records]


async def prepare(driver: Any, db: str, workload: str, region: str, limit: int
                  ) -> list[Request]:
    """The workload's requests, each with the statements the hub runs for it."""
    requests = await REQUESTS[workload](driver, db, region, limit)
    for r in requests:
        _, r.statements = await capture(driver, db, r.query, r.variables)
    return requests


# ---------------------------------------------------------------- W4 bulk load
RAW = """
UNWIND $rows AS row
MERGE (e:Equipment {uid: row.uid})
SET e += row.props
WITH e, row
MATCH (s:Site {uid: row.site})
MERGE (s)-[:HAS_EQUIPMENT]->(e)
WITH e, row
MATCH (t:EquipmentType {uid: row.type})
MERGE (e)-[:OF_TYPE]->(t)
"""
# What a Neo4j user writes for the same file: the same MERGE statements, the cells converted in
# Cypher; in one transaction, or `IN TRANSACTIONS OF $batch ROWS`.
LOAD_CSV = """
LOAD CSV WITH HEADERS FROM $url AS row FIELDTERMINATOR ';'
CALL (row) {
  MERGE (e:Equipment {uid: row.organization + ':' + row.inventory_number})
  SET e += {organization: row.organization, inventory_number: row.inventory_number,
            type: row.type, site: row.site, name: row.name, status: row.status,
            quantity: toInteger(row.quantity), year: toInteger(row.year)}
  WITH e, row
  MATCH (s:Site {uid: row.organization + ':' + row.site})
  MERGE (s)-[:HAS_EQUIPMENT]->(e)
  WITH e, row
  MATCH (t:EquipmentType {uid: row.type})
  MERGE (e)-[:OF_TYPE]->(t)
}"""
PREFIX = "W4-"
# W4 targets: the loader as `hub load` runs it (one transaction) and with `--batch-rows`, the
# same file through LOAD CSV in one transaction and in batches, the rows through raw UNWIND.
W4_TARGETS = ("loader", "load_csv", "loader_b", "load_csv_b", "raw")


def bulk_rows(scale: str, seed: int, regions: int | None, rows: int) -> list[dict[str, Any]]:
    """The first region's equipment rows (regenerated: deterministic), inventory numbers
    prefixed so that they are new items next to the loaded ones."""
    from loaders.generate import SCALES, build_catalogue, generate_region, region_list

    spec = SCALES[scale] if not regions else replace(SCALES[scale], regions=regions)
    cat = build_catalogue(seed, spec.competencies)
    items = generate_region(seed, spec, cat, region_list(spec)[0])["equipment"]
    items = items[:rows] if rows else items
    return [{**item, "inventory_number": PREFIX + item["inventory_number"]} for item in items]


def _clear_bulk(driver: Any, db: str, uids: list[str]) -> None:
    for i in range(0, len(uids), 10000):
        chunk = uids[i:i + 10000]
        driver.execute_query("UNWIND $u AS u MATCH (e:Equipment {uid: u}) DETACH DELETE e",
                             u=chunk, database_=db)
    # A W4 load writes only W4 rows: its audit sets are those that name W4 items only.
    driver.execute_query("MATCH (s:ChangeSet {label: 'Equipment'}) WHERE all(u IN s.uids "
                         "WHERE split(u, ':')[1] STARTS WITH $p) DETACH DELETE s",
                         p=PREFIX, database_=db)


def _raw_load(driver: Any, db: str, items: list[dict[str, Any]], batch: int) -> None:
    rows = [{"uid": f"{i['organization']}:{i['inventory_number']}",
             "site": f"{i['organization']}:{i['site']}", "type": i["type"], "props": i}
            for i in items]
    with driver.session(database=db) as session:
        for i in range(0, len(rows), batch):
            chunk = rows[i:i + batch]
            session.execute_write(lambda tx, c=chunk: tx.run(RAW, rows=c).consume())


def _served_csv(driver: Any, db: str, path: Path) -> tuple[str, Path | None]:
    """A file URL under which the bench's (local) Neo4j reads `path` with LOAD CSV, and the
    copy made for it (to delete) when LOAD CSV is confined to server.directories.import."""
    import shutil

    from neo4j.exceptions import ClientError

    def readable(url: str) -> bool:
        try:
            driver.execute_query("LOAD CSV FROM $url AS r RETURN count(*) AS n", url=url,
                                 database_=db)
            return True
        except ClientError:
            return False

    url = path.resolve().as_uri()
    if readable(url):  # file URLs not confined (server.directories.import unset)
        return url, None
    records, _, _ = driver.execute_query(
        "SHOW SETTINGS YIELD name, value WHERE name = 'server.directories.import' "
        "RETURN value", database_=db)
    if records and records[0]["value"]:
        copy = Path(records[0]["value"]) / f"hub-bench-w4-{path.name}"
        shutil.copyfile(path, copy)
        if readable(f"file:///{copy.name}"):
            return f"file:///{copy.name}", copy
        copy.unlink()
    raise RuntimeError("W4: the bench's Neo4j cannot read the CSV file (LOAD CSV): is it local?")


def _server_cpu() -> Callable[[], float] | None:
    """CPU seconds used so far by the bench's local Neo4j (None: not a local runtime)."""
    import os

    from hub import neo4j_runtime
    from hub.settings import get_settings

    pid = neo4j_runtime.status(get_settings()).pid
    if pid is None:
        return None

    def used() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    return used


def _load_csv(driver: Any, db: str, url: str, batch: int | None) -> None:
    query = LOAD_CSV + (" IN TRANSACTIONS OF $batch ROWS" if batch else "")
    with driver.session(database=db) as session:  # auto-commit: what IN TRANSACTIONS needs
        session.run(query, url=url, batch=batch).consume()


def bulk_load(driver: Any, db: str, items: list[dict[str, Any]], *, batch: int = 5000,
              repeat: int = 2, log=print) -> dict[str, Any]:
    """Best of `repeat` interleaved runs of each W4 target over the same rows: the loader
    (`hub load equipment FILE` in-process: read, map, validate, check references,
    graph.ingest with rights, audit and stock) and LOAD CSV read the same CSV file (the
    exchange format: `;`, field names), raw UNWIND gets the rows as Python dicts. The W4
    items are removed after each run and STOCKS rebuilt at the end."""
    from graph.kpi_aggregates import rebuild_supply
    from graph.stock import backfill
    from loaders.formats import RegistryFiles
    from loaders.load import load_source

    n = len(items)
    uids = [f"{i['organization']}:{i['inventory_number']}" for i in items]
    rates: dict[str, list[float]] = {t: [] for t in W4_TARGETS}
    # CPU seconds (Neo4j's, the bench process's) per run: what contention on a busy machine
    # moves least
    cpu: dict[str, list[tuple[float, float]]] = {t: [] for t in W4_TARGETS}
    server_cpu = _server_cpu()
    with tempfile.TemporaryDirectory(prefix="hub-bench-w4-") as tmp:
        with RegistryFiles(Path(tmp), "csv") as files:
            files.write("equipment", items)
        path = Path(tmp) / "equipment.csv"
        url, copy = _served_csv(driver, db, path)

        def loader(batch_rows: int | None) -> None:
            report = load_source(driver, "equipment", str(path), batch_rows=batch_rows,
                                 database=db)
            if not report.ok or report.created != n:
                raise RuntimeError(f"loader: created {report.created} of {n}: "
                                   f"{report.errors[:3]}")

        runs = {"loader": lambda: loader(None), "load_csv": lambda: _load_csv(driver, db, url,
                                                                             None),
                "loader_b": lambda: loader(batch),
                "load_csv_b": lambda: _load_csv(driver, db, url, batch),
                "raw": lambda: _raw_load(driver, db, items, batch)}
        try:
            _clear_bulk(driver, db, uids)
            for _ in range(repeat):  # interleaved: a busy machine affects all alike
                for target in W4_TARGETS:
                    c0, s0 = time.process_time(), server_cpu() if server_cpu else 0.0
                    t = time.perf_counter()
                    runs[target]()
                    rates[target].append(n / (time.perf_counter() - t))
                    cpu[target].append((server_cpu() - s0 if server_cpu else 0.0,
                                        time.process_time() - c0))
                    records, _, _ = driver.execute_query(
                        "UNWIND $u AS u MATCH (e:Equipment {uid: u}) RETURN count(e) AS c",
                        u=uids, database_=db)
                    if records[0]["c"] != n:
                        raise RuntimeError(f"W4 {target}: {records[0]['c']} of {n} items")
                    _clear_bulk(driver, db, uids)
                log("  W4 rows/s (CPU s Neo4j + bench): " + ", ".join(
                    f"{t} {rates[t][-1]:.0f} ({cpu[t][-1][0]:.2f} + {cpu[t][-1][1]:.2f})"
                    for t in W4_TARGETS))
        finally:
            _clear_bulk(driver, db, uids)
            backfill(driver, db, force=True)
            rebuild_supply(driver, db)  # the KPI workplaces the deleted items counted in
            if copy is not None:
                copy.unlink(missing_ok=True)
    best = {t: max(r) for t, r in rates.items()}

    cpu_s = {t: {"neo4j": round(statistics.median(c[0] for c in v), 2),
                 "bench": round(statistics.median(c[1] for c in v), 2)} for t, v in cpu.items()}
    return {"rows": n, "batch": batch, "rows_per_s": {t: round(v) for t, v in best.items()},
            "cpu_s": cpu_s if server_cpu else None,
            "ratio_load_csv": round(best["loader"] / best["load_csv"], 2),
            "ratio_raw": round(best["loader"] / best["raw"], 2),
            "ratio_batches_load_csv": round(best["loader_b"] / best["load_csv_b"], 2),
            "ratio_batches_raw": round(best["loader_b"] / best["raw"], 2),
            "load_csv_url": url}


def bulk_table_rows(w4: dict[str, Any]) -> list[dict[str, Any]]:
    """W4 in the bench table: rows/s; ratio on the loader rows = loader / LOAD CSV (same
    transactions), on the raw row = loader (one transaction) / raw."""
    rate = w4["rows_per_s"]
    ratio = {"loader": w4["ratio_load_csv"], "load_csv": 1.0,
             "loader_b": w4["ratio_batches_load_csv"], "load_csv_b": 1.0,
             "raw": w4["ratio_raw"]}
    return [{"workload": "W4", "target": t, "requests": w4["rows"], "throughput": rate[t],
             "ratio": ratio[t]} for t in W4_TARGETS]


# ---------------------------------------------------------------- PROFILE check
SCANS = ("NodeByLabelScan", "AllNodesScan", "NodeIndexScan", "DirectedRelationshipIndexScan",
         "UndirectedRelationshipIndexScan", "DirectedRelationshipTypeScan",
         "UndirectedRelationshipTypeScan", "DirectedAllRelationshipsScan",
         "UndirectedAllRelationshipsScan")
SEEK = "Seek"


def label_counts(driver: Any, db: str) -> dict[str, int]:
    """Nodes per label and relationships per type (a scan's size)."""
    out = {}
    for kind, pattern in (("label", "MATCH (n:`{}`) RETURN count(n) AS n"),
                          ("relationshipType", "MATCH ()-[r:`{}`]->() RETURN count(r) AS n")):
        listed, _, _ = driver.execute_query(
            f"CALL db.{kind}s() YIELD {kind} RETURN {kind} AS name", database_=db)
        for r in listed:
            c, _, _ = driver.execute_query(pattern.format(r["name"]), database_=db)
            out[r["name"]] = c[0]["n"]
    return out


def profile(driver: Any, db: str, statements: list[Statement], counts: dict[str, int],
            large: int) -> list[dict[str, Any]]:
    """PROFILE every statement a workload ran, with each request's own parameters; per
    distinct statement: runs, db hits (mean, max), the index seeks used, the scans found and
    whether any is over a label or type with at least `large` entries (AllNodesScan always
    is)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    with driver.session(database=db) as s:
        for q, params in statements:
            summary = s.execute_read(
                lambda tx, q=q, p=params: tx.run("PROFILE " + q, p).consume())
            scans: list[dict[str, Any]] = []
            seeks: set[str] = set()
            hits = _walk(summary.profile, scans, seeks, counts, large)
            grouped.setdefault(q, []).append({"hits": hits, "scans": scans, "seeks": seeks})
    out = []
    for q, runs in grouped.items():
        hits = [r["hits"] for r in runs]
        scans = {(x["operator"], x["details"]): x for r in runs for x in r["scans"]}
        out.append({"statement": " ".join(q.split())[:140], "runs": len(runs),
                    "db_hits": round(sum(hits) / len(hits)), "db_hits_max": max(hits),
                    "seeks": sorted(set().union(*(r["seeks"] for r in runs))),
                    "scans": list(scans.values()),
                    "ok": not any(x["large"] for x in scans.values())})
    return out


def _walk(p: dict[str, Any], scans: list[dict[str, Any]], seeks: set[str],
          counts: dict[str, int], large: int) -> int:
    """db hits of the plan below `p`; scans appended to `scans`, index seeks to `seeks`."""
    op = p["operatorType"].split("@")[0]
    hits = p.get("dbHits") or 0
    details = str(p.get("args", {}).get("Details", ""))
    if op in SCANS:
        m = re.search(r":`?(\w+)", details)
        label = m.group(1) if m else None
        size = counts.get(label, 0) if label else sum(counts.values())
        scans.append({"operator": op, "details": details[:120], "label": label,
                      "nodes": size, "rows": p.get("rows"),
                      "large": op == "AllNodesScan" or size >= large})
    elif SEEK in op:
        index = re.search(r":`?(\w+)`?\(([^)]*)\)", details)
        seeks.add(f"{op} {index.group(1)}({index.group(2)})" if index else op)
    for child in p.get("children", []):
        hits += _walk(child, scans, seeks, counts, large)
    return hits
