"""The KPI aggregates: kept by every write in its own transaction, read by the dashboard.

**Facts.** Each record that counts in a KPI has `KpiFact` nodes, one per person or program it
counts for (`member`: `L:<learner>`, `S:<staff uid>`, `P:<program uid>`, '' for none), with the
region it counts in and what it contributes, each fact dated by its one date (the rules are
graph/kpi.py's; `_keys` says which KPI each fact feeds):

    E day                  an enrollment (enrolled_on, else the cohort's start)   member L:
    C day [TYPE copp]      a completion (completed_on); type and ЦОПП offer when
                           the cohort has a program                              member L:
    M day place COMP…      the same completion as graduates of the matrix cells  member L:
    K day TYPE copp        a cohort with a completion (ends_on)                  member P:
    V day KIND n           a career-guidance activity with n participants        —
    A day                  a known participant of one                            member L:
    G day TYPE             a constructed program (approved_on)                   —
    T day copp KIND        a staff training (completed_on), by the ЦОПП network
                           or not, and the kind of the staff's organization      member S:

**Counts.** `KpiCount` per (region, bucket) — a bucket is a calendar month `2025-05`, quarter
`2025-Q2` or year `2025` — holds one property per KPI key: a flow the sum of its facts'
weights, a distinct KPI the number of members with a fact of it in the bucket (so months of a
distinct count do not add up, as the rules say). `KpiShared` names, per (KPI, bucket,
member), the regions where a member counts when there are several: a view over several
regions counts that member once. `KpiCell` per (region, bucket, competency, municipality)
holds the graduates of the supply × demand matrix, `KpiSupply` per (competency, site) the
workplaces a site can equip (see "Workplaces" below; `KpiListItem` says which lists require
an equipment type).

**Write path.** `follow(registry, changes)` runs at the end of every write of graph/ingest.py
(create, update, bulk, retire, restore, loads, roadmap, public services), in its transaction:
1. the records the write can change: the records themselves, the cohort of an enrollment, the
   enrollments of a cohort, and what a program, an organization's region, kind or
   municipality, an agreement (its programs and parties, before and after) or a site's
   municipality reaches;
2. each of them locked, its facts recomputed from the graph and compared with the stored ones;
3. for the records whose facts differ, the members they touch are locked (their Learner,
   Staff or Program node) and all their facts read, so that a distinct count moves only when
   a member enters or leaves a bucket;
4. facts, counts, cells and shared members written, counters locked in a fixed order.
Reads therefore never see a write without its figures. `backfill` builds everything from the
stored records (`hub migrate`, once per graph and `AGGREGATES_VERSION`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from graph.kpi import (
    CELL_LABEL,
    CONSTRUCTED_STATUSES,
    COUNT_LABEL,
    EVENT_KPIS,
    EVENT_PARTICIPANTS,
    SHARED_LABEL,
    SUPPLY_LABEL,
    by_network,
    offered,
)

FACT_LABEL, LIST_ITEM_LABEL, LIST_LABEL = "KpiFact", "KpiListItem", "KpiList"
AGGREGATES_VERSION = 1  # bump when a fact or its keys change: `hub migrate` rebuilds

# Constraints and indexes of the aggregates, for graph/migrations.py.
SCHEMA: tuple[str, ...] = (
    f"CREATE CONSTRAINT kpifact_uid IF NOT EXISTS FOR (n:{FACT_LABEL}) REQUIRE n.uid IS UNIQUE",
    f"CREATE INDEX kpifact_record IF NOT EXISTS FOR (n:{FACT_LABEL}) ON (n.record)",
    f"CREATE INDEX kpifact_member IF NOT EXISTS FOR (n:{FACT_LABEL}) ON (n.member)",
    f"CREATE CONSTRAINT kpicount_uid IF NOT EXISTS FOR (n:{COUNT_LABEL}) REQUIRE n.uid IS UNIQUE",
    f"CREATE INDEX kpicount_place IF NOT EXISTS FOR (n:{COUNT_LABEL}) ON (n.region, n.bucket)",
    (f"CREATE CONSTRAINT kpishared_uid IF NOT EXISTS FOR (n:{SHARED_LABEL}) "
     "REQUIRE n.uid IS UNIQUE"),
    f"CREATE INDEX kpishared_bucket IF NOT EXISTS FOR (n:{SHARED_LABEL}) ON (n.bucket)",
    f"CREATE CONSTRAINT kpicell_uid IF NOT EXISTS FOR (n:{CELL_LABEL}) REQUIRE n.uid IS UNIQUE",
    f"CREATE INDEX kpicell_place IF NOT EXISTS FOR (n:{CELL_LABEL}) ON (n.region, n.bucket)",
    (f"CREATE CONSTRAINT kpisupply_uid IF NOT EXISTS FOR (n:{SUPPLY_LABEL}) "
     "REQUIRE n.uid IS UNIQUE"),
    *(f"CREATE INDEX kpisupply_{p} IF NOT EXISTS FOR (n:{SUPPLY_LABEL}) ON (n.{p})"
      for p in ("municipality", "site", "competency")),
    (f"CREATE CONSTRAINT kpilistitem_uid IF NOT EXISTS FOR (n:{LIST_ITEM_LABEL}) "
     "REQUIRE n.uid IS UNIQUE"),
    *(f"CREATE INDEX kpilistitem_{p} IF NOT EXISTS FOR (n:{LIST_ITEM_LABEL}) ON (n.{p})"
      for p in ("type", "list")),
    f"CREATE CONSTRAINT kpilist_uid IF NOT EXISTS FOR (n:{LIST_LABEL}) REQUIRE n.uid IS UNIQUE",
)

# The records that have facts, by label: the statement part computing them is `_FACTS[label]`.
LABELS = ("Enrollment", "Cohort", "CareerGuidanceEvent", "Program", "StaffTraining")
# A member's own node, locked while its facts are read and changed.
MEMBER_LABELS = {"L": "Learner", "S": "Staff", "P": "Program"}

# registry → the fields of an update that can change a figure. A create, retire or restore
# always can, except for organizations and sites (nothing counts through a new one yet, and
# a retired one still counts: the rules do not look at it).
FIELDS: dict[str, frozenset[str]] = {
    "enrollments": frozenset({"status", "enrolled_on", "completed_on"}),
    "cohorts": frozenset({"organization", "starts_on", "ends_on", "sites"}),
    "programs": frozenset({"organization", "type", "status", "approved_on", "competencies"}),
    "organizations": frozenset({"region", "kind", "municipality"}),
    "agreements": frozenset({"kind", "parties", "program", "valid_from", "valid_to"}),
    "career_guidance_events": frozenset({
        "kind", "held_on", "learners", "participants_school", "participants_college",
        "participants_employed", "participants_pre_retirement", "participants_unemployed",
        "participants_college_staff"}),
    "staff_trainings": frozenset({"provider"}),
    "sites": frozenset({"municipality"}),
}
_UPDATES_ONLY = frozenset({"organizations", "sites"})


# --- 1. The records a write can change ------------------------------------------------------

REACH_CYPHER = """
CALL () {
  UNWIND $enrollments AS u
  MATCH (:Enrollment {uid: u})-[:IN_COHORT]->(c:Cohort)
  RETURN collect(DISTINCT c.uid) AS shallow
}
CALL () {
  CALL () {
    UNWIND $cohorts AS u MATCH (c:Cohort {uid: u}) RETURN c
    UNION
    UNWIND $programs AS u MATCH (:Program {uid: u})<-[:OF_PROGRAM]-(c:Cohort) RETURN c
    UNION
    UNWIND $organizations AS u MATCH (:Organization {uid: u})<-[:RUN_BY]-(c:Cohort) RETURN c
    UNION
    UNWIND $organizations AS u
    MATCH (:Organization {uid: u})<-[:DEVELOPED_BY]-(:Program)<-[:OF_PROGRAM]-(c:Cohort)
    RETURN c
    UNION
    UNWIND $organizations AS u
    MATCH (:Organization {uid: u})<-[:PARTY]-(:PartnerAgreement {kind: 'NETWORK'})
          -[:FOR_PROGRAM]->(:Program)<-[:OF_PROGRAM]-(c:Cohort)
    RETURN c
    UNION
    UNWIND $agreements AS u
    MATCH (:PartnerAgreement {uid: u})-[:FOR_PROGRAM]->(:Program)<-[:OF_PROGRAM]-(c:Cohort)
    RETURN c
    UNION
    UNWIND $sites AS u MATCH (:Site {uid: u})<-[:AT_SITE]-(c:Cohort) RETURN c
  }
  OPTIONAL MATCH (c)<-[:IN_COHORT]-(e:Enrollment)
  RETURN collect(DISTINCT c.uid) AS deep, collect(e.uid) AS enrollments
}
CALL () {
  UNWIND $organizations AS u
  MATCH (:Organization {uid: u})<-[:DEVELOPED_BY]-(p:Program)
  RETURN collect(p.uid) AS programs
}
CALL () {
  UNWIND $organizations AS u
  MATCH (:Organization {uid: u})<-[:ORGANIZED_BY]-(ev:CareerGuidanceEvent)
  RETURN collect(ev.uid) AS events
}
CALL () {
  CALL () {
    UNWIND $organizations AS u
    MATCH (:Organization {uid: u})<-[:WORKS_AT]-(:Staff)<-[:OF_STAFF]-(tr:StaffTraining)
    RETURN tr
    UNION
    UNWIND $organizations AS u
    MATCH (:Organization {uid: u})<-[:PARTY]-(:PartnerAgreement {kind: 'NETWORK'})
          -[:PARTY]->(:Organization)<-[:PROVIDED_BY]-(tr:StaffTraining)
    RETURN tr
    UNION
    UNWIND $agreements AS u
    MATCH (:PartnerAgreement {uid: u})-[:PARTY]->(:Organization)<-[:PROVIDED_BY]-(tr:StaffTraining)
    RETURN tr
    UNION
    UNWIND $providers AS u
    MATCH (:Organization {uid: u})<-[:PROVIDED_BY]-(tr:StaffTraining)
    RETURN tr
  }
  RETURN collect(tr.uid) AS trainings
}
RETURN shallow, deep, enrollments, programs, events, trainings
"""


@dataclass
class Reach:
    """Uids per label whose facts are (re)computed, and the starting points to expand."""

    records: dict[str, set[str]] = field(default_factory=lambda: {x: set() for x in LABELS})
    start: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def expands(self) -> bool:
        return any(self.start.values())


def _before_parties(value: Any) -> list[str]:
    if not value:
        return []
    parties = json.loads(value) if isinstance(value, str) else value
    return [p["organization"] for p in parties if p.get("organization")]


def reach_of(registry: str, changes: Iterable[dict[str, Any]]) -> Reach:
    reach = Reach()
    fields = FIELDS.get(registry)
    if fields is None:
        return reach
    for change in changes:
        if change["op"] == "update":
            if not fields.intersection(change["fields"]):
                continue
        elif registry in _UPDATES_ONLY:
            continue
        uid, before = change["uid"], change.get("before") or {}
        if registry == "enrollments":
            reach.records["Enrollment"].add(uid)
            reach.start["enrollments"].add(uid)
        elif registry == "cohorts":
            reach.start["cohorts"].add(uid)
        elif registry == "programs":
            reach.records["Program"].add(uid)
            reach.start["programs"].add(uid)
        elif registry == "organizations":
            reach.start["organizations"].add(uid)
            reach.start["providers"].add(uid)
        elif registry == "agreements":
            reach.start["agreements"].add(uid)
            if before.get("program"):
                reach.start["programs"].add(before["program"])
            reach.start["providers"].update(_before_parties(before.get("parties")))
        elif registry == "career_guidance_events":
            reach.records["CareerGuidanceEvent"].add(uid)
        elif registry == "staff_trainings":
            reach.records["StaffTraining"].add(uid)
        elif registry == "sites":
            reach.start["sites"].add(uid)
    return reach


def reach_plan(reach: Reach) -> Any:
    """Expand the starting points into records (one statement, only when there are any)."""
    if not reach.expands():
        return reach
    params = {k: sorted(reach.start.get(k, ())) for k in (
        "enrollments", "cohorts", "programs", "organizations", "agreements", "sites",
        "providers")}
    [row] = yield REACH_CYPHER, params
    reach.records["Cohort"].update(row["shallow"], row["deep"])
    reach.records["Enrollment"].update(row["enrollments"])
    reach.records["Program"].update(row["programs"])
    reach.records["CareerGuidanceEvent"].update(row["events"])
    reach.records["StaffTraining"].update(row["trainings"])
    return reach


# --- 2. Facts of records, recomputed from the graph ------------------------------------------

_LOCK = "SET {x}._lock = true REMOVE {x}._lock\n  WITH *"
_PLACE = """coalesce(reduce(m = null, x IN [(co)-[:AT_SITE]->(s:Site) | s.municipality] |
                               CASE WHEN m IS NULL OR x < m THEN x ELSE m END),
                        o.municipality)"""

_FACTS = {
    "Enrollment": """
CALL () {
  UNWIND $Enrollment AS u
  MATCH (e:Enrollment {uid: u})
  {lock_e}
  OPTIONAL MATCH (e)-[:IN_COHORT]->(co:Cohort)
  WITH co, collect(e) AS es
  OPTIONAL MATCH (co)-[:RUN_BY]->(o:Organization)
  OPTIONAL MATCH (co)-[:OF_PROGRAM]->(p:Program)
  WITH co, es, p, o, o.region AS region
  WITH co, es, p, region,
       CASE WHEN p IS NOT NULL AND region IS NOT NULL THEN """ + offered("co", "p", "region")
    + """ ELSE false END AS copp,
       CASE WHEN p IS NOT NULL THEN [(p)-[:DEVELOPS]->(x:Competency) | x.uid] ELSE [] END
       AS comps,
       CASE WHEN co IS NOT NULL THEN """ + _PLACE + """ END AS place
  WITH co, es, p, region, copp, comps,
       CASE WHEN EXISTS { MATCH (:Municipality {uid: place}) } THEN place END AS place
  UNWIND es AS e
  RETURN collect({r: e.uid, m: e.learner, region: region,
                  live: co IS NOT NULL AND e.retiredAt IS NULL AND co.retiredAt IS NULL,
                  d1: toString(coalesce(e.enrolled_on, co.starts_on)),
                  done: CASE WHEN e.status = 'COMPLETED' THEN toString(e.completed_on) END,
                  p: p IS NOT NULL, t: p.type, copp: copp, place: place, comps: comps})
         AS Enrollment
}""",
    "Cohort": """
CALL () {
  UNWIND $Cohort AS u
  MATCH (co:Cohort {uid: u})
  {lock_co}
  OPTIONAL MATCH (co)-[:RUN_BY]->(o:Organization)
  OPTIONAL MATCH (co)-[:OF_PROGRAM]->(p:Program)
  WITH co, p, o.region AS region
  RETURN collect({r: co.uid, m: p.uid, region: region, d: toString(co.ends_on), t: p.type,
                  live: co.retiredAt IS NULL AND p IS NOT NULL
                        AND EXISTS { (co)<-[:IN_COHORT]-(e:Enrollment)
                                     WHERE e.status = 'COMPLETED' AND e.retiredAt IS NULL },
                  copp: CASE WHEN p IS NOT NULL AND region IS NOT NULL THEN """
    + offered("co", "p", "region") + """ ELSE false END}) AS Cohort
}""",
    "CareerGuidanceEvent": """
CALL () {
  UNWIND $CareerGuidanceEvent AS u
  MATCH (ev:CareerGuidanceEvent {uid: u})
  {lock_ev}
  OPTIONAL MATCH (ev)-[:ORGANIZED_BY]->(o:Organization)
  RETURN collect({r: ev.uid, region: o.region, live: ev.retiredAt IS NULL,
                  d: toString(ev.held_on), kind: ev.kind, n: """ + EVENT_PARTICIPANTS + """,
                  learners: [(ev)<-[:PARTICIPATED_IN]-(l:Learner) | l.uid]})
         AS CareerGuidanceEvent
}""",
    "Program": """
CALL () {
  UNWIND $Program AS u
  MATCH (p:Program {uid: u})
  {lock_p}
  OPTIONAL MATCH (p)-[:DEVELOPED_BY]->(o:Organization)
  RETURN collect({r: p.uid, region: o.region, d: toString(p.approved_on), t: p.type,
                  live: p.retiredAt IS NULL AND p.status IN $constructed}) AS Program
}""",
    "StaffTraining": """
CALL () {
  UNWIND $StaffTraining AS u
  MATCH (tr:StaffTraining {uid: u})
  {lock_tr}
  OPTIONAL MATCH (tr)-[:OF_STAFF]->(s:Staff)-[:WORKS_AT]->(o:Organization)
  WITH tr, s, o, o.region AS region
  RETURN collect({r: tr.uid, m: s.uid, region: region, d: toString(tr.completed_on),
                  kind: o.kind, live: tr.retiredAt IS NULL,
                  copp: CASE WHEN region IS NOT NULL THEN """ + by_network("tr", "region")
    + """ ELSE false END}) AS StaffTraining
}""",
}

_STORED = f"""
CALL () {{
  UNWIND $records AS r
  MATCH (f:{FACT_LABEL} {{record: r}})
  RETURN collect([f.record, f.member, f.region, f.facts]) AS stored
}}"""


@lru_cache
def facts_cypher(labels: tuple[str, ...], lock: bool, stored: bool) -> str:
    """Facts of the given records as the graph has them now (each record locked first when
    `lock`), and with `stored` the facts stored for them."""
    body = []
    for label in labels:
        text = _FACTS[label]
        for x in ("e", "co", "ev", "p", "tr"):
            text = text.replace("{lock_" + x + "}", _LOCK.format(x=x) if lock else "")
        body.append(text)
    returns = list(labels)
    if stored:
        body.append(_STORED)
        returns.append("stored")
    return "".join(body) + "\nRETURN " + ", ".join(returns)


Row = tuple[str, str, str, tuple[str, ...]]  # record, member, region, facts


def record_key(label: str, uid: str) -> str:
    return f"{label}:{uid}"


def _rows(label: str, raw: dict[str, Any]) -> list[Row]:
    """A record's fact rows from what `_FACTS` read of it (none when it does not count)."""
    record, region = record_key(label, raw["r"]), raw["region"]
    if not raw["live"] or region is None:
        return []
    if label == "Enrollment":
        facts = []
        if raw["d1"]:
            facts.append(f"E {raw['d1']}")
        if raw["done"]:
            if raw["p"]:
                facts.append(f"C {raw['done']} {raw['t'] or '-'} {int(raw['copp'])}")
                if raw["place"] and raw["comps"]:
                    facts.append(f"M {raw['done']} {raw['place']} " + " ".join(raw["comps"]))
            else:
                facts.append(f"C {raw['done']}")
        return [(record, f"L:{raw['m']}", region, tuple(facts))] if facts else []
    if label == "Cohort":
        if not raw["d"]:
            return []
        return [(record, f"P:{raw['m']}", region,
                 (f"K {raw['d']} {raw['t'] or '-'} {int(raw['copp'])}",))]
    if label == "CareerGuidanceEvent":
        if not raw["d"]:
            return []
        out: list[Row] = [(record, "", region, (f"V {raw['d']} {raw['kind']} {raw['n']}",))]
        out += [(record, f"L:{x}", region, (f"A {raw['d']}",)) for x in sorted(set(raw["learners"]))]
        return out
    if label == "Program":
        if not raw["d"]:
            return []
        return [(record, "", region, (f"G {raw['d']} {raw['t'] or '-'}",))]
    if not raw["d"] or raw["m"] is None:  # StaffTraining
        return []
    return [(record, f"S:{raw['m']}", region,
             (f"T {raw['d']} {int(raw['copp'])} {raw['kind'] or '-'}",))]


def facts_plan(records: dict[str, set[str]], *, lock: bool, stored: bool) -> Any:
    """({record: rows now}, {record: rows stored}) for the records (by label)."""
    labels = tuple(label for label in LABELS if records.get(label))
    if not labels:
        return {}, {}
    params: dict[str, Any] = {label: sorted(records[label]) for label in labels}
    params["constructed"] = list(CONSTRUCTED_STATUSES)
    keys = [record_key(label, uid) for label in labels for uid in params[label]]
    params["records"] = keys
    [row] = yield facts_cypher(labels, lock, stored), params
    now: dict[str, list[Row]] = {k: [] for k in keys}
    for label in labels:
        for raw in row[label]:
            now[record_key(label, raw["r"])] = _rows(label, raw)
    before: dict[str, list[Row]] = {k: [] for k in keys}
    for rec, member, region, facts in row["stored"] if stored else ():
        before[rec].append((rec, member, region, tuple(facts)))
    return now, before


# --- 3. What facts count in ------------------------------------------------------------------

Keys = tuple[tuple[tuple[str, int], ...], tuple[str, ...], tuple[tuple[str, str], ...]]


@cache
def _keys(kind: str, rest: tuple[str, ...]) -> Keys:
    """(flows with their weight, distinct KPIs, matrix cells (competency, municipality)) of a
    fact, whatever its day."""
    flows: list[tuple[str, int]] = []
    distinct: list[str] = []
    if kind == "E":
        return (("enrollments", 1),), ("learnersEnrolled", "peopleCovered"), ()
    if kind == "A":
        return (), ("peopleCovered",), ()
    if kind == "M":
        place, *comps = rest
        return (), (), tuple((c, place) for c in comps)
    if kind in ("C", "K"):
        if not rest:  # a completion in a cohort without a program: a person covered
            return (), ("peopleCovered",), ()
        typ, copp = rest
        flow, people = ("completions", "peopleTrained") if kind == "C" else \
            ("cohortsCompleted", "programsImplemented")
        for scope in ("", "Copp") if copp == "1" else ("",):
            for typed in ("", f".{typ}") if typ != "-" else ("",):
                flows.append((flow + scope + typed, 1))
                distinct.append(people + scope + typed)
        if kind == "C":
            distinct.append("peopleCovered")
        return tuple(flows), tuple(distinct), ()
    if kind == "V":
        event_kind, n = rest[0], int(rest[1])
        count, participants = EVENT_KPIS[event_kind]
        return ((count, 1), (participants, n), ("careerGuidanceAttendance", n)), (), ()
    if kind == "G":
        typ = rest[0]
        return (("programsConstructed", 1),) + (
            ((f"programsConstructed.{typ}", 1),) if typ != "-" else ()), (), ()
    if kind == "T":
        copp, org_kind = rest
        if copp != "1":
            return (("staffTrainingsElsewhere", 1),), ("staffTrainedElsewhere",), ()
        distinct = ["staffTrained", "peopleCovered"]
        if org_kind == "COPP":
            distinct.append("staffTrainedCopp")
        elif org_kind == "COLLEGE":
            distinct.append("staffTrainedCollege")
        return (("staffTrainings", 1),), tuple(distinct), ()
    raise ValueError(kind)


@lru_cache(maxsize=100_000)
def buckets(day: str) -> tuple[str, str, str]:
    """The month, quarter and year of an ISO day, labelled as graph.kpi labels periods."""
    y, m = int(day[:-6]), int(day[-5:-3])
    return f"{y}-{m:02d}", f"{y}-Q{(m - 1) // 3 + 1}", str(y)


def _split(fact: str) -> tuple[str, str, Keys]:
    kind, day, *rest = fact.split(" ")
    return kind, day, _keys(kind, tuple(rest))


@dataclass
class Deltas:
    counts: dict[tuple[str, str], dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    cells: dict[tuple[str, str, str, str], int] = field(default_factory=lambda: defaultdict(int))
    shared: dict[tuple[str, str, str], list[str] | None] = field(default_factory=dict)

    def flows(self, rows: Iterable[Row], sign: int) -> None:
        """Add (sign 1) or take away (-1) the flows and matrix cells of the rows."""
        for _, _, region, facts in rows:
            for fact in facts:
                _, day, (flows, _, cells) = _split(fact)
                for bucket in buckets(day):
                    if flows:
                        counts = self.counts[(region, bucket)]
                        for key, weight in flows:
                            counts[key] += sign * weight
                    for competency, place in cells:
                        self.cells[(region, bucket, competency, place)] += sign

    def member(self, member: str, before: Sequence[Row], after: Sequence[Row]) -> None:
        """A member's distinct counts: +1 where it enters a (region, bucket, KPI), -1 where it
        leaves; and its regions per (KPI, bucket) where it counts in several, before and after."""
        was, now = presence(before), presence(after)
        for key in was.keys() | now.keys():
            old, new = was.get(key, frozenset()), now.get(key, frozenset())
            kpi, bucket = key
            for region in new - old:
                self.counts[(region, bucket)][kpi] += 1
            for region in old - new:
                self.counts[(region, bucket)][kpi] -= 1
            if len(new) > 1 and new != old:
                self.shared[(kpi, bucket, member)] = sorted(new)
            elif len(old) > 1 and len(new) <= 1:
                self.shared[(kpi, bucket, member)] = None


def presence(rows: Iterable[Row]) -> dict[tuple[str, str], frozenset[str]]:
    """(distinct KPI, bucket) → the regions where the rows (of one member) count in it."""
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    for _, _, region, facts in rows:
        for fact in facts:
            _, day, (_, distinct, _) = _split(fact)
            for bucket in buckets(day):
                for kpi in distinct:
                    out[(kpi, bucket)].add(region)
    return {k: frozenset(v) for k, v in out.items()}


# --- 4. Writing -------------------------------------------------------------------------------

MEMBERS_CYPHER = "".join(
    f"""CALL () {{
  UNWIND ${prefix} AS u
  MATCH (n:{label} {{uid: u}})
  SET n._lock = true REMOVE n._lock
}}
""" for prefix, label in MEMBER_LABELS.items()) + f"""UNWIND $members AS m
MATCH (f:{FACT_LABEL} {{member: m}})
RETURN f.record AS record, f.member AS member, f.region AS region, f.facts AS facts
"""


def members_params(members: Sequence[str]) -> dict[str, Any]:
    """The members (sorted) and, per kind, the uids of their nodes to lock."""
    params: dict[str, Any] = {prefix: [] for prefix in MEMBER_LABELS}
    for member in members:
        prefix, _, uid = member.partition(":")
        params[prefix].append(uid)
    params["members"] = list(members)
    return params


APPLY_CYPHER = f"""
CALL () {{
  UNWIND $gone AS u
  MATCH (f:{FACT_LABEL} {{uid: u}})
  DELETE f
}}
CALL () {{
  UNWIND $facts AS x
  MERGE (f:{FACT_LABEL} {{uid: x.uid}})
  SET f.record = x.record, f.member = x.member, f.region = x.region, f.facts = x.facts
}}
CALL () {{
  UNWIND $counts AS x
  MERGE (k:{COUNT_LABEL} {{uid: x.uid}})
  ON CREATE SET k.region = x.region, k.bucket = x.bucket
  SET k._lock = true REMOVE k._lock
  WITH k, x
  UNWIND x.d AS d
  WITH k, d.k AS key, coalesce(k[d.k], 0) + d.v AS v
  SET k[key] = CASE WHEN v = 0 THEN null ELSE v END
}}
CALL () {{
  UNWIND $cells AS x
  MERGE (g:{CELL_LABEL} {{uid: x.uid}})
  ON CREATE SET g.region = x.region, g.bucket = x.bucket, g.competency = x.competency,
                g.municipality = x.municipality, g.graduates = 0
  SET g._lock = true REMOVE g._lock
  WITH g, x
  SET g.graduates = g.graduates + x.d
  WITH g WHERE g.graduates = 0
  DELETE g
}}
CALL () {{
  UNWIND $shared AS x
  MERGE (s:{SHARED_LABEL} {{uid: x.uid}})
  SET s.key = x.key, s.bucket = x.bucket, s.member = x.member, s.regions = x.regions
  WITH s WHERE x.regions IS NULL
  DELETE s
}}
"""


def fact_uid(row: Row) -> str:
    return f"{row[0]} {row[1]}"


def _apply_params(gone: Iterable[str], rows: Iterable[Row], deltas: Deltas) -> dict[str, Any]:
    counts = []
    for (region, bucket), by_key in sorted(deltas.counts.items()):
        d = [{"k": k, "v": v} for k, v in sorted(by_key.items()) if v]
        if d:
            counts.append({"uid": f"{region} {bucket}", "region": region, "bucket": bucket,
                           "d": d})
    cells = [{"uid": " ".join(key), "region": key[0], "bucket": key[1], "competency": key[2],
              "municipality": key[3], "d": n}
             for key, n in sorted(deltas.cells.items()) if n]
    shared = [{"uid": " ".join(key), "key": key[0], "bucket": key[1], "member": key[2],
               "regions": regions} for key, regions in sorted(deltas.shared.items())]
    return {"gone": sorted(gone), "counts": counts, "cells": cells, "shared": shared,
            "facts": [{"uid": fact_uid(r), "record": r[0], "member": r[1], "region": r[2],
                       "facts": list(r[3])} for r in rows]}


def follow(registry: str, changes: Sequence[dict[str, Any]]) -> Any:
    """The aggregates after a write of `registry` (its audited `changes`), in the writer's
    transaction: a plan (graph.writes.run_plan). Writes that cannot move a figure cost
    nothing."""
    yield from facts_follow(registry, changes)
    yield from supply_plan(supply_reach_of(registry, changes))


def facts_follow(registry: str, changes: Sequence[dict[str, Any]]) -> Any:
    reach = reach_of(registry, changes)
    if not reach.expands() and not any(reach.records.values()):
        return None
    reach = yield from reach_plan(reach)
    now, before = yield from facts_plan(reach.records, lock=True, stored=True)
    changed = {r for r in now if sorted(now[r]) != sorted(before[r])}
    if not changed:
        return None
    deltas = Deltas()
    deltas.flows((row for r in changed for row in before[r]), -1)
    deltas.flows((row for r in changed for row in now[r]), 1)
    members = sorted({row[1] for r in changed for row in before[r] + now[r] if row[1]})
    if members:
        stored = yield MEMBERS_CYPHER, members_params(members)
        of_member: dict[str, list[Row]] = defaultdict(list)
        for x in stored:
            of_member[x["member"]].append((x["record"], x["member"], x["region"],
                                           tuple(x["facts"])))
        new_of_member: dict[str, list[Row]] = defaultdict(list)
        for r in changed:
            for row in now[r]:
                new_of_member[row[1]].append(row)
        for member in members:
            was = of_member[member]
            after = [row for row in was if row[0] not in changed] + new_of_member[member]
            deltas.member(member, was, after)
    new_rows = [row for r in changed for row in now[r]]
    kept = {fact_uid(row) for row in new_rows}
    gone = {fact_uid(row) for r in changed for row in before[r]} - kept
    yield APPLY_CYPHER, _apply_params(gone, new_rows, deltas)
    return None


# --- Workplaces of the matrix: `KpiSupply` per (competency, site) ---------------------------
# A row where the site (not retired) holds, in working order, every item of the competency's
# infrastructure list (not retired): the workplaces it can equip, min(site workplaces, min over
# PER_WORKPLACE items ⌊available / quantity⌋) — the live formula of graph/kpi.py
# (`_SUPPLY_LIVE`), from the STOCKS graph/writes.py has already brought up to date in this
# transaction. Recomputed for the (list, site) pairs a write can change: an equipment item's
# site and type (before and after) × the lists requiring the type; a site (workplaces,
# municipality, retired) × the lists requiring a type it holds; a list × the sites holding its
# rarest type. Each site involved is locked before its stock is read.

SUPPLY_FIELDS: dict[str, frozenset[str]] = {
    "equipment": frozenset({"organization", "site", "type", "status", "quantity"}),
    "infrastructure_lists": frozenset({"items"}),
    "sites": frozenset({"workplaces", "municipality"}),
}

# Which lists require a type: `KpiListItem` (list, type), and each list's items as vectors:
# `KpiList` (types, quantities, perWorkplace, active), both kept from the lists — the REQUIRES
# relationships of a type are mostly the modules', too many to walk on every write, and a bulk
# equipment write reads every list.

SUPPLY_INPUT_CYPHER = f"""
CALL () {{
  UNWIND $items AS x
  MATCH (e:Equipment {{uid: x.u}})
  RETURN collect([e.organization + ':' + e.site, e.type]) +
         collect([coalesce(x.o, e.organization) + ':' + coalesce(x.s, e.site),
                  coalesce(x.t, e.type)]) AS moved
}}
WITH $pairs + moved AS pairs
CALL (pairs) {{
  UNWIND pairs AS pair
  WITH DISTINCT pair[1] AS type
  MATCH (i:{LIST_ITEM_LABEL} {{type: type}})
  RETURN collect([type, i.list]) AS typeLists
}}
CALL () {{
  UNWIND $sites AS u
  MATCH (:Site {{uid: u}})-[k:STOCKS]->()
  MATCH (i:{LIST_ITEM_LABEL} {{type: k.type}})
  RETURN collect(DISTINCT [i.list, u]) AS bySite
}}
CALL () {{
  UNWIND $lists AS u
  MATCH (l:InfrastructureList {{uid: u}})
  CALL (l) {{
    MATCH (l)-[:REQUIRES]->(t)
    WITH t ORDER BY COUNT {{ (t)<-[:STOCKS]-() }}
    RETURN head(collect(t)) AS rare
  }}
  MATCH (rare)<-[:STOCKS]-(s)
  RETURN collect([u, s.uid]) AS byList
}}
WITH pairs, typeLists, bySite, byList,
     [p IN pairs | p[0]] + [x IN bySite | x[1]] + [x IN byList | x[1]] + $sites AS siteUids,
     [x IN typeLists | x[1]] + [x IN bySite | x[0]] + [x IN byList | x[0]] + $lists AS listUids
CALL (siteUids) {{
  UNWIND siteUids AS u
  WITH DISTINCT u ORDER BY u
  MATCH (s:Site {{uid: u}})
  {{lock}}
  CALL (s) {{
    MATCH (s)-[k:STOCKS]->()
    RETURN collect([k.type, k.working]) AS stock
  }}
  CALL (s) {{
    MATCH (x:{SUPPLY_LABEL} {{site: s.uid}})
    RETURN collect([x.competency, x.site, x.municipality, x.workplaces]) AS kept
  }}
  RETURN collect([s.uid, s.municipality, s.workplaces, s.retiredAt IS NULL, stock]) AS sites,
         reduce(all = [], k IN collect(kept) | all + k) AS keptOfSites
}}
CALL (listUids) {{
  UNWIND listUids AS u
  WITH DISTINCT u WHERE NOT u IN $lists
  MATCH (k:{LIST_LABEL} {{uid: u}})
  RETURN collect([u, k.active, k.types, k.quantities, k.perWorkplace]) AS keptLists
}}
CALL () {{
  UNWIND $lists AS u
  MATCH (l:InfrastructureList {{uid: u}})
  CALL (l) {{
    MATCH (l)-[r:REQUIRES]->(t)
    RETURN collect(t.uid) AS types, collect(r.quantity) AS quantities,
           collect(r.scope = 'PER_WORKPLACE') AS perWorkplace
  }}
  RETURN collect([u, l.retiredAt IS NULL, types, quantities, perWorkplace]) AS freshLists
}}
CALL () {{
  UNWIND $lists AS u
  MATCH (x:{SUPPLY_LABEL} {{competency: u}})
  RETURN collect([x.competency, x.site, x.municipality, x.workplaces]) AS keptOfLists
}}
RETURN pairs, typeLists, bySite, byList, sites, keptLists + freshLists AS lists,
       keptOfSites + keptOfLists AS kept
"""

SUPPLY_APPLY_CYPHER = f"""
CALL () {{
  UNWIND $gone AS u
  MATCH (x:{SUPPLY_LABEL} {{uid: u}})
  DELETE x
}}
CALL () {{
  UNWIND $rows AS r
  MERGE (x:{SUPPLY_LABEL} {{uid: r.uid}})
  SET x.competency = r.competency, x.site = r.site, x.municipality = r.municipality,
      x.workplaces = r.workplaces
}}
CALL () {{
  UNWIND $listItems AS x
  MERGE (k:{LIST_LABEL} {{uid: x.list}})
  SET k.active = x.active, k.types = x.types, k.quantities = x.quantities,
      k.perWorkplace = x.perWorkplace
}}
CALL () {{
  UNWIND $listItems AS x
  OPTIONAL MATCH (i:{LIST_ITEM_LABEL} {{list: x.list}})
  WITH x, collect(i) AS old
  FOREACH (i IN [i IN old WHERE NOT i.type IN x.types] | DELETE i)
  WITH x
  UNWIND x.types AS type
  MERGE (i:{LIST_ITEM_LABEL} {{uid: x.list + ' ' + type}})
  SET i.list = x.list, i.type = type
}}
"""


@dataclass
class SupplyReach:
    pairs: set[tuple[str, str]] = field(default_factory=set)  # (site, type)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # equipment uid → before
    sites: set[str] = field(default_factory=set)
    lists: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.pairs or self.items or self.sites or self.lists)


def supply_reach_of(registry: str, changes: Iterable[dict[str, Any]]) -> SupplyReach:
    reach = SupplyReach()
    fields = SUPPLY_FIELDS.get(registry)
    if fields is None:
        return reach
    for change in changes:
        op, uid = change["op"], change["uid"]
        if op == "update" and not fields.intersection(change["fields"]):
            continue
        if registry == "equipment":
            after = change.get("after") or {}
            if op == "create":
                reach.pairs.add((f"{after['organization']}:{after['site']}", after["type"]))
            else:
                before = change.get("before") or {}
                reach.items[uid] = {"u": uid, "o": before.get("organization"),
                                    "s": before.get("site"), "t": before.get("type")}
        elif registry == "sites":
            if op != "create":  # a new site holds nothing yet
                reach.sites.add(uid)
        else:
            reach.lists.add(uid)
    return reach


def supply_workplaces(items: Sequence[Sequence[Any]], stock: dict[str, int],
                      workplaces: int) -> int | None:
    """What a site can equip for a list, or None when an item is short (graph/kpi.py rule)."""
    if not items:
        return None
    most = workplaces
    for type_, quantity, per_workplace in items:
        available = stock.get(type_, 0)
        if available < quantity:
            return None
        if per_workplace and available // quantity < most:
            most = available // quantity
    return most


def supply_plan(reach: SupplyReach, *, lock: bool = True) -> Any:
    """Recompute the (list, site) rows the reach names; written in the same transaction."""
    if not reach:
        return None
    params = {"pairs": [list(p) for p in sorted(reach.pairs)],
              "items": [reach.items[u] for u in sorted(reach.items)],
              "sites": sorted(reach.sites), "lists": sorted(reach.lists)}
    [row] = yield supply_input_cypher(lock), params
    sites = {s[0]: s for s in row["sites"]}
    stocks = {uid: {t: w for t, w in s[4]} for uid, s in sites.items()}
    lists = {x[0]: (x[1], tuple(zip(x[2], x[3], x[4])), frozenset(x[2])) for x in row["lists"]}
    lists_of: dict[str, list[str]] = defaultdict(list)
    for type_, list_uid in row["typeLists"]:
        lists_of[type_].append(list_uid)
    candidates: dict[str, set[str]] = defaultdict(set)  # site → lists to evaluate there
    for site, type_ in row["pairs"]:
        candidates[site].update(lists_of[type_])
    for list_uid, site in (*row["bySite"], *row["byList"]):
        candidates[site].add(list_uid)
    kept = {}
    for k in row["kept"]:
        kept[f"{k[0]} {k[1]}"] = k
        if k[1] in reach.sites or k[0] in reach.lists:
            candidates[k[1]].add(k[0])
    rows: list[dict[str, Any]] = []
    gone: set[str] = set()
    for site, candidate_lists in candidates.items():
        s = sites.get(site)
        # a retired site, or one without a municipality, equips nothing
        place, workplaces = (s[1], s[2]) if s is not None and s[3] else (None, 0)
        held = stocks[site].keys() if s is not None else frozenset()
        for competency in candidate_lists:
            uid, lst, n = f"{competency} {site}", lists.get(competency), None
            if place is not None and lst is not None and lst[0] and lst[2] <= held:
                n = supply_workplaces(lst[1], stocks[site], workplaces)
            old = kept.get(uid)
            if n is None:
                if old is not None:
                    gone.add(uid)
            elif old is None or (old[2], old[3]) != (place, n):
                rows.append({"uid": uid, "competency": competency, "site": site,
                             "municipality": place, "workplaces": n})
    fresh = [{"list": x[0], "active": x[1], "types": x[2], "quantities": x[3],
              "perWorkplace": x[4]} for x in row["lists"] if x[0] in reach.lists]
    if rows or gone or fresh:
        yield SUPPLY_APPLY_CYPHER, {"rows": sorted(rows, key=lambda r: r["uid"]),
                                    "gone": sorted(gone), "listItems": fresh}
    return None


@lru_cache
def supply_input_cypher(lock: bool) -> str:
    return SUPPLY_INPUT_CYPHER.replace("{lock}", _LOCK.format(x="s") if lock else "")


# --- Built from the stored records (`hub migrate`) --------------------------------------------

_PAGE = """
MATCH (n:{label}) WHERE n.uid > $after
RETURN n.uid AS uid ORDER BY n.uid LIMIT $limit
"""
_WIPE = """
MATCH (n:{label})
CALL (n) {{ DETACH DELETE n }} IN TRANSACTIONS OF 5000 ROWS
"""
BATCH = 5000


def _run(driver: Any, plan: Any, database: str | None, write: bool = False) -> Any:
    from graph.writes import run_plan

    with driver.session(database=database) as session:
        run = session.execute_write if write else session.execute_read
        return run(lambda tx: run_plan(tx, plan))


def rebuild(driver: Any, database: str | None = None) -> int:
    """Every fact and count from the records as stored; the number of fact nodes. Held in
    memory per member while built (a national graph would want it per member range)."""
    for label in (FACT_LABEL, COUNT_LABEL, SHARED_LABEL, CELL_LABEL):
        with driver.session(database=database) as session:
            session.run(_WIPE.format(label=label)).consume()
    rows: list[Row] = []
    for label in LABELS:
        after = ""
        while True:
            records, _, _ = driver.execute_query(_PAGE.format(label=label), after=after,
                                                 limit=BATCH, database_=database)
            uids = [r["uid"] for r in records]
            if not uids:
                break
            after = uids[-1]
            now, _ = _run(driver, facts_plan({label: set(uids)}, lock=False, stored=False),
                          database)
            rows.extend(row for rs in now.values() for row in rs)
    deltas = Deltas()
    deltas.flows(rows, 1)
    by_member: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if row[1]:
            by_member[row[1]].append(row)
    for member, its in by_member.items():
        deltas.member(member, (), its)
    empty = Deltas()
    for start in range(0, len(rows), BATCH):
        driver.execute_query(APPLY_CYPHER, _apply_params((), rows[start:start + BATCH], empty),
                             database_=database)
    driver.execute_query(APPLY_CYPHER, _apply_params((), (), deltas), database_=database)
    rebuild_supply(driver, database)
    return len(rows)


def rebuild_supply(driver: Any, database: str | None = None) -> None:
    """The workplaces rows from the stock as stored (also after equipment was deleted or
    STOCKS rebuilt outside graph.ingest, as the bench's W4 clean-up does)."""
    for label in (SUPPLY_LABEL, LIST_ITEM_LABEL, LIST_LABEL):
        with driver.session(database=database) as session:
            session.run(_WIPE.format(label=label)).consume()
    records, _, _ = driver.execute_query("MATCH (l:InfrastructureList) RETURN l.uid AS uid",
                                         database_=database)
    lists = {r["uid"] for r in records}
    _run(driver, supply_plan(SupplyReach(lists=lists), lock=False), database, write=True)


def backfill(driver: Any, database: str | None = None, force: bool = False) -> bool:
    """Build the aggregates once per graph and AGGREGATES_VERSION (or when forced); True if
    it ran. Idempotent: it starts from nothing each time."""
    records, _, _ = driver.execute_query(
        "OPTIONAL MATCH (h:HubSchema {id: 'graph'}) RETURN h.kpiVersion AS v", database_=database)
    if not force and records and records[0]["v"] == AGGREGATES_VERSION:
        return False
    rebuild(driver, database)
    driver.execute_query("MERGE (h:HubSchema {id: 'graph'}) SET h.kpiVersion = $v",
                         v=AGGREGATES_VERSION, database_=database)
    return True


def migrate(driver: Any, database: str | None = None) -> bool:
    """The aggregates' schema (idempotent), then `backfill`: what `hub migrate` runs."""
    for stmt in SCHEMA:
        driver.execute_query(stmt, database_=database)
    driver.execute_query("CALL db.awaitIndexes(300)", database_=database)
    return backfill(driver, database)
