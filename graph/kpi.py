"""Situational-centre figures of one region, computed by Cypher in ONE round trip.

`dashboard_cypher(parts)` composes independent parts — `kpis`, `matrix`, `roadmap` — into one
statement (each part is a `CALL () { … }` returning one row); `parse_dashboard` turns its
record into dataclasses. Every KPI is computed for a list of windows at once: the period, the
previous period of the same length and the quarters of both (the time series).

KPI definitions (region = the organization's `region`; dates inclusive):
- learnersEnrolled: distinct learners enrolled (any status) in cohorts run by the region's
  organizations whose dates overlap the window;
- peopleTrained[.TYPE]: distinct learners with a COMPLETED enrollment completed in the window
  (per type of the cohort's program; the total counts a person once);
- programsConstructed[.TYPE]: programs developed in the region, status APPROVED or later,
  approved in the window;
- programsImplemented[.TYPE]: programs with a cohort that ended in the window with at least one
  completed enrollment;
- careerGuidanceEvents / careerGuidanceParticipants: events of kind EVENT and their participants;
  professionalTrials / professionalTrialParticipants: kind PROFESSIONAL_TRIAL;
  firstProfessionTrainees: participants of kind FIRST_PROFESSION;
- staffTrained (distinct staff with повышение квалификации completed in the window),
  staffTrainedCopp, staffTrainedCollege: by the kind of the staff member's organization;
- coppStaff: current staff of the region's ЦОПП (not time-bound);
- partnerNetwork: distinct organizations party to an agreement with the region's ЦОПП that is
  in force on the window's last day;
- peopleCovered = learnersEnrolled + all career-guidance participants + staffTrained.

Supply × demand matrix (competency × municipality of the region, for the period):
- workplaces (from the working stock per site and type, `STOCKS` of graph/stock.py): over the region's sites that satisfy every item of the competency's
  infrastructure list (working, non-retired equipment ≥ quantity), the deliverable workplaces
  min(site workplaces, min over PER_WORKPLACE items ⌊available / quantity⌋) — the formula of
  graph/capability.py for a cohort of one, without its staff requirement (candidate sites:
  those stocking the list's rarest type);
- graduates: completions in the period of programs developing the competency, placed in the
  municipality of the cohort's site (the organization's if it has none);
- demand: vacancies + employer requests of demand signals overlapping the period (survey
  answers are shown apart); supply = graduates + workplaces; shortage when demand > supply.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from graph.enums import ProgramType
from graph.privacy import EVERYTHING, scope_condition

PROGRAM_TYPES: tuple[str, ...] = tuple(t.value for t in ProgramType)
CONSTRUCTED_STATUSES = ("APPROVED", "RUNNING", "ARCHIVED")

BASE_KPIS: tuple[str, ...] = (
    "peopleCovered", "learnersEnrolled", "peopleTrained", "programsConstructed",
    "programsImplemented", "careerGuidanceEvents", "careerGuidanceParticipants",
    "professionalTrials", "professionalTrialParticipants", "firstProfessionTrainees",
    "staffTrained", "staffTrainedCopp", "staffTrainedCollege", "coppStaff", "partnerNetwork",
)
TYPED_KPIS = ("peopleTrained", "programsConstructed", "programsImplemented")
KPI_KEYS: tuple[str, ...] = BASE_KPIS + tuple(
    f"{k}.{t}" for k in TYPED_KPIS for t in PROGRAM_TYPES
)

KPI_LABELS: dict[str, str] = {
    "peopleCovered": "Охвачено деятельностью ЦОПП, чел.",
    "learnersEnrolled": "Зачислено на обучение, чел.",
    "peopleTrained": "Прошли обучение, чел.",
    "programsConstructed": "Сконструировано (утверждено) программ",
    "programsImplemented": "Реализовано программ",
    "careerGuidanceEvents": "Профориентационных мероприятий",
    "careerGuidanceParticipants": "Участников профориентационных мероприятий, чел.",
    "professionalTrials": "Профессиональных проб",
    "professionalTrialParticipants": "Участников профессиональных проб, чел.",
    "firstProfessionTrainees": "Обучено первой профессии, чел.",
    "staffTrained": "Повысили квалификацию, чел.",
    "staffTrainedCopp": "Повысили квалификацию сотрудники ЦОПП, чел.",
    "staffTrainedCollege": "Повысили квалификацию сотрудники ПОО, чел.",
    "coppStaff": "Штат ЦОПП, чел.",
    "partnerNetwork": "Партнерская сеть ЦОПП, организаций",
}


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    label: str

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError("конец периода раньше начала")

    @property
    def months(self) -> int | None:
        """Whole calendar months the period spans, if it is month-aligned."""
        last = calendar.monthrange(self.end.year, self.end.month)[1]
        if self.start.day != 1 or self.end.day != last:
            return None
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def previous(self) -> Period:
        months = self.months
        if months is None:
            days = (self.end - self.start).days + 1
            end = self.start - dt.timedelta(days=1)
            return Period(end - dt.timedelta(days=days - 1), end, f"{end - dt.timedelta(days=days - 1)}..{end}")
        total = self.start.year * 12 + self.start.month - 1 - months
        start = dt.date(total // 12, total % 12 + 1, 1)
        end = self.start - dt.timedelta(days=1)
        return Period(start, end, _label(start, end))


def _label(start: dt.date, end: dt.date) -> str:
    if start.month == 1 and start.day == 1 and end == dt.date(start.year, 12, 31):
        return str(start.year)
    if start.day == 1 and start.year == end.year and (start.month - 1) % 3 == 0 \
            and end.month == start.month + 2 \
            and end.day == calendar.monthrange(end.year, end.month)[1]:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if start.day == 1 and (start.year, start.month) == (end.year, end.month) \
            and end.day == calendar.monthrange(end.year, end.month)[1]:
        return f"{start.year}-{start.month:02d}"
    return f"{start.isoformat()}..{end.isoformat()}"


def quarter(year: int, q: int) -> Period:
    start = dt.date(year, 3 * q - 2, 1)
    end_month = 3 * q
    end = dt.date(year, end_month, calendar.monthrange(year, end_month)[1])
    return Period(start, end, f"{year}-Q{q}")


def parse_period(text: str) -> Period:
    """«2025», «2025-Q2», «2025-05», or «2025-01-01..2025-06-30»."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}", text):
            y = int(text)
            return Period(dt.date(y, 1, 1), dt.date(y, 12, 31), text)
        if m := re.fullmatch(r"(\d{4})-?Q([1-4])", text, re.IGNORECASE):
            return quarter(int(m.group(1)), int(m.group(2)))
        if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
            y, mo = int(m.group(1)), int(m.group(2))
            return Period(dt.date(y, mo, 1), dt.date(y, mo, calendar.monthrange(y, mo)[1]), text)
        if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})", text):
            start, end = dt.date.fromisoformat(m.group(1)), dt.date.fromisoformat(m.group(2))
            return Period(start, end, _label(start, end))
    except ValueError as exc:
        raise PeriodError(f"недопустимый период «{text}»: {exc}") from None
    raise PeriodError(
        f"недопустимый период «{text}»: ожидается ГГГГ, ГГГГ-Qn, ГГГГ-ММ или ГГГГ-ММ-ДД..ГГГГ-ММ-ДД"
    )


def quarters_between(start: dt.date, end: dt.date) -> list[Period]:
    out: list[Period] = []
    y, q = start.year, (start.month - 1) // 3 + 1
    while True:
        p = quarter(y, q)
        if p.start > end:
            return out
        out.append(p)
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)


def windows(period: Period) -> list[dict[str, Any]]:
    prev = period.previous()
    items = [("current", period), ("previous", prev)]
    items += [(q.label, q) for q in quarters_between(prev.start, period.end)]
    return [{"key": k, "from": p.start, "to": p.end} for k, p in items]


# --- Cypher parts -------------------------------------------------------------------------------
# Each part is `CALL () { … RETURN <one row> }`; rows of KPI parts are {k: kpi, w: window, v}.

_ENROLLMENTS = """
  CALL () {
    MATCH (o:Organization {region: $region})<-[:RUN_BY]-(c:Cohort)
    WHERE c.retiredAt IS NULL AND c.starts_on <= $to AND c.ends_on >= $from
    MATCH (c)-[:OF_PROGRAM]->(p:Program)
    WITH c, p.type AS t, p.uid AS pu,
         [w IN $windows WHERE c.starts_on <= w.to AND c.ends_on >= w.from | w.key] AS activeIn,
         [w IN $windows WHERE w.from <= c.ends_on <= w.to | w.key] AS endedIn
    MATCH (c)<-[:IN_COHORT]-(e:Enrollment)
    WHERE e.retiredAt IS NULL
    WITH t, pu, activeIn, endedIn, e.learner AS l, e.status = 'COMPLETED' AS done,
         e.completed_on AS completedOn  // read once, not once per window
    WITH t, pu, activeIn, endedIn, l, done,
         CASE WHEN done THEN [w IN $windows WHERE w.from <= completedOn <= w.to | w.key]
              ELSE [] END AS doneIn
    UNWIND [k IN activeIn | ['learnersEnrolled', k, l, '*']] +
           [k IN doneIn | ['peopleTrained', k, l, t]] +
           [k IN doneIn | ['peopleTrained', k, l, '*']] +
           [k IN endedIn WHERE done | ['programsImplemented', k, pu, t]] AS f
    WITH f[0] AS k, f[1] AS wk, f[3] AS t, count(DISTINCT f[2]) AS n
    RETURN collect({k: CASE t WHEN '*' THEN k ELSE k + '.' + t END, w: wk, v: n}) AS rows
  }"""

_EVENTS = """
  CALL () {
    MATCH (o:Organization {region: $region})<-[:ORGANIZED_BY]-(ev:CareerGuidanceEvent)
    WHERE ev.retiredAt IS NULL AND $from <= ev.held_on <= $to
    WITH ev, ev.participants_school + ev.participants_college + ev.participants_employed
             + ev.participants_pre_retirement + ev.participants_unemployed
             + ev.participants_poo_staff AS n
    UNWIND $windows AS w
    WITH w, ev, n WHERE w.from <= ev.held_on <= w.to
    WITH w.key AS wk, ev.kind AS kind, count(ev) AS events, sum(n) AS people
    RETURN collect({k: CASE kind WHEN 'EVENT' THEN 'careerGuidanceEvents'
                                 WHEN 'PROFESSIONAL_TRIAL' THEN 'professionalTrials' END,
                    w: wk, v: events}) +
           collect({k: CASE kind WHEN 'EVENT' THEN 'careerGuidanceParticipants'
                                 WHEN 'PROFESSIONAL_TRIAL' THEN 'professionalTrialParticipants'
                                 ELSE 'firstProfessionTrainees' END,
                    w: wk, v: people}) AS rows
  }"""

_PROGRAMS = """
  CALL () {
    MATCH (o:Organization {region: $region})<-[:DEVELOPED_BY]-(p:Program)
    WHERE p.retiredAt IS NULL AND p.status IN $constructed AND $from <= p.approved_on <= $to
    UNWIND $windows AS w
    WITH w, p WHERE w.from <= p.approved_on <= w.to
    WITH w.key AS wk, p.type AS t, count(p) AS n
    RETURN collect({k: 'programsConstructed.' + t, w: wk, v: n}) AS rows
  }"""

_STAFF = """
  CALL () {
    MATCH (o:Organization {region: $region})<-[:WORKS_AT]-(s:Staff)<-[:OF_STAFF]-(tr:StaffTraining)
    WHERE tr.retiredAt IS NULL AND $from <= tr.completed_on <= $to
    UNWIND $windows AS w
    WITH w, s, o WHERE w.from <= tr.completed_on <= w.to
    WITH w.key AS wk, count(DISTINCT s) AS all,
         count(DISTINCT CASE WHEN o.kind = 'COPP' THEN s END) AS copp,
         count(DISTINCT CASE WHEN o.kind = 'COLLEGE' THEN s END) AS college
    RETURN collect({k: 'staffTrained', w: wk, v: all}) +
           collect({k: 'staffTrainedCopp', w: wk, v: copp}) +
           collect({k: 'staffTrainedCollege', w: wk, v: college}) AS rows
  }"""

_NETWORK = """
  CALL () {
    OPTIONAL MATCH (o:Organization {region: $region, kind: 'COPP'})<-[:WORKS_AT]-(s:Staff)
    WHERE o.retiredAt IS NULL AND s.retiredAt IS NULL
    WITH count(DISTINCT s) AS staff
    OPTIONAL MATCH (o:Organization {region: $region, kind: 'COPP'})<-[:PARTY]-(a:PartnerAgreement)
                   -[:PARTY]->(partner:Organization)
    WHERE partner <> o AND a.retiredAt IS NULL AND partner.retiredAt IS NULL
    WITH staff, collect({p: partner.uid, from: a.valid_from, to: a.valid_to}) AS parties
    RETURN [w IN $windows | {k: 'coppStaff', w: w.key, v: staff}] +
           [w IN $windows | {k: 'partnerNetwork', w: w.key,
             v: size(reduce(acc = [], x IN parties |
                  CASE WHEN x.p IS NULL OR x.p IN acc OR x.from > w.to
                            OR (x.to IS NOT NULL AND x.to < w.to) THEN acc
                       ELSE acc + x.p END))}] AS rows
  }"""

def _kpi_part() -> str:
    """The five inner CALLs each return `rows`: renamed, as Cypher cannot rebind a name."""
    parts = [_ENROLLMENTS, _EVENTS, _PROGRAMS, _STAFF, _NETWORK]
    named = [p.replace(" AS rows\n  }", f" AS rows{i}\n  }}") for i, p in enumerate(parts)]
    total = " + ".join(f"rows{i}" for i in range(len(parts)))
    return "\nCALL () {" + "".join(named) + f"\n  RETURN {total} AS kpiRows\n}}"


MATRIX_PART = """
CALL () {
  CALL () {
    MATCH (co:Cohort)<-[:IN_COHORT]-(e:Enrollment)
    WHERE co.retiredAt IS NULL AND co.starts_on <= $pto AND e.status = 'COMPLETED'
      AND $pfrom <= e.completed_on <= $pto AND e.retiredAt IS NULL
    WITH co, count(e) AS n  // per cohort first: its organization is then expanded once
    MATCH (co)-[:RUN_BY]->(o:Organization {region: $region})
    MATCH (co)-[:OF_PROGRAM]->(:Program)-[:DEVELOPS]->(c:Competency)
    WITH c, n, coalesce(reduce(m = null, x IN [(co)-[:AT_SITE]->(s:Site) | s.municipality] |
                               CASE WHEN m IS NULL OR x < m THEN x ELSE m END),
                        o.municipality) AS place
    WHERE place IS NOT NULL
    WITH c, place, sum(n) AS graduates
    MATCH (mu:Municipality {uid: place})
    RETURN collect({c: c.uid, cn: c.name, m: mu.uid, mn: mu.name, graduates: graduates}) AS output
  }
  CALL () {
    MATCH (mu:Municipality {region: $region})<-[:IN_MUNICIPALITY]-(d:DemandSignal)
    WHERE d.retiredAt IS NULL AND d.starts_on <= $pto AND d.ends_on >= $pfrom
    MATCH (d)-[:FOR_COMPETENCY]->(c:Competency)
    WITH c, mu, sum(d.vacancies) AS vacancies, sum(d.employer_requests) AS requests,
         sum(d.survey_answers) AS answers, collect(DISTINCT d.source) AS sources
    RETURN collect({c: c.uid, cn: c.name, m: mu.uid, mn: mu.name, vacancies: vacancies,
                    requests: requests, answers: answers, sources: sources}) AS demand
  }
  CALL () {
    MATCH (mu:Municipality {region: $region})
    WITH collect(mu.uid) AS places
    MATCH (c:Competency)-[:HAS_INFRASTRUCTURE_LIST]->(l:InfrastructureList)
    WHERE c.retiredAt IS NULL AND l.retiredAt IS NULL
    CALL (l) {
      MATCH (l)-[r:REQUIRES]->(t:EquipmentType)
      // STOCKS only start at sites: no label test, so the count is the type's degree
      WITH t, r, COUNT { (t)<-[:STOCKS]-() } AS holders ORDER BY holders
      RETURN collect({t: t.uid, q: r.quantity, s: r.scope}) AS items, head(collect(t)) AS rare,
             head(collect(r.quantity)) AS rareQ
    }
    MATCH (rare)<-[k0:STOCKS]-(s:Site)
    WHERE k0.working >= rareQ AND s.municipality IN places AND s.retiredAt IS NULL
    WITH c, s, items, [(s)-[k:STOCKS]->(x:EquipmentType) | [x.uid, k.working]] AS stock
    WITH c, s, [it IN items | {it: it, a: coalesce(head([p IN stock WHERE p[0] = it.t | p[1]]), 0)}]
         AS held
    WHERE all(h IN held WHERE h.a >= h.it.q)
    WITH c, s, reduce(m = s.workplaces, h IN held |
           CASE WHEN h.it.s = 'PER_WORKPLACE' AND h.a / h.it.q < m THEN h.a / h.it.q ELSE m END)
         AS deliverable
    WITH c, s.municipality AS place, count(s) AS sites, sum(deliverable) AS workplaces
    MATCH (mu:Municipality {uid: place})
    RETURN collect({c: c.uid, cn: c.name, m: mu.uid, mn: mu.name, sites: sites,
                    workplaces: workplaces}) AS supply
  }
  RETURN supply + output + demand AS matrixRows
}"""

ROADMAP_PART = """
CALL () {
  OPTIONAL MATCH (a:RoadmapActivity {region: $region})
  WHERE a.retiredAt IS NULL
  CALL (a) {
    OPTIONAL MATCH (a)<-[:CONTROL_POINT_OF]-(cp:ControlPoint)
    WITH cp ORDER BY cp.due_on
    RETURN collect(cp {.due_on, .done_on}) AS points
  }
  CALL (a) {
    OPTIONAL MATCH (a)<-[:SLOT_OF]-(sl:IndicatorSlot)
    WITH sl ORDER BY sl.index
    RETURN collect(sl {.index, .description, .implicit, .target, .kpi}) AS slots
  }
  WITH a, points, slots,
       [p IN points WHERE p.due_on < $asOf AND p.done_on IS NULL
                      AND NOT a.status IN ['DONE', 'CANCELLED'] | p.due_on] AS late
  ORDER BY a.number
  RETURN collect(a {.number, .group, .group_title, .title, .responsible, .due_text, .first_due,
                    .recurrence, .expected_result, .documents, .status, .evidence, .notes,
                    points: points, slots: slots, overdue: late,
                    nextDue: head([p IN points WHERE p.due_on >= $asOf AND p.done_on IS NULL
                                   | p.due_on])}) AS roadmapRows
}"""

PARTS = ("kpis", "matrix", "roadmap")


def dashboard_cypher(parts: tuple[str, ...] | frozenset[str] = PARTS) -> str:
    """One statement for the requested parts. The roadmap needs the KPIs (slot actuals)."""
    wanted = set(parts)
    if "roadmap" in wanted:
        wanted.add("kpis")
    body, returns = [], []
    if "kpis" in wanted:
        body.append(_kpi_part())
        returns.append("kpiRows")
    if "matrix" in wanted:
        body.append(MATRIX_PART)
        returns.append("matrixRows")
    if "roadmap" in wanted:
        body.append(ROADMAP_PART)
        returns.append("roadmapRows")
    if not body:
        raise ValueError("no dashboard part requested")
    return "".join(body) + "\nRETURN " + ", ".join(returns)


def dashboard_params(region: str, period: Period, as_of: dt.date | None = None) -> dict[str, Any]:
    ws = windows(period)
    return {
        "region": region, "windows": ws,
        "from": min(w["from"] for w in ws), "to": max(w["to"] for w in ws),
        "pfrom": period.start, "pto": period.end,
        "constructed": list(CONSTRUCTED_STATUSES),
        "asOf": as_of or dt.date.today(),
    }


# --- Results ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SeriesPoint:
    period: str
    value: int


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    value: int
    previous: int
    series: tuple[SeriesPoint, ...]

    @property
    def change(self) -> int:
        return self.value - self.previous


@dataclass(frozen=True)
class MatrixCell:
    competency: str
    competency_name: str
    municipality: str
    municipality_name: str
    sites: int = 0
    workplaces: int = 0
    graduates: int = 0
    vacancies: int = 0
    employer_requests: int = 0
    survey_answers: int = 0
    sources: tuple[str, ...] = ()

    @property
    def demand(self) -> int:
        return self.vacancies + self.employer_requests

    @property
    def supply(self) -> int:
        """People trained in the period plus the places to train more at once."""
        return self.graduates + self.workplaces

    @property
    def shortage(self) -> bool:
        return self.demand > self.supply

    @property
    def gap(self) -> int:
        return self.demand - self.supply


@dataclass(frozen=True)
class SlotView:
    index: int
    description: str
    implicit: bool
    target: int | None
    kpi: str | None
    actual: int | None


@dataclass(frozen=True)
class ActivityView:
    number: int
    group: int
    group_title: str
    title: str
    responsible: tuple[str, ...]
    due_text: str
    first_due: dt.date
    recurrence: str
    expected_result: str
    documents: str
    status: str
    evidence: tuple[str, ...]
    notes: str | None
    control_points: tuple[tuple[dt.date, dt.date | None], ...]
    overdue_points: tuple[dt.date, ...]
    next_due: dt.date | None
    slots: tuple[SlotView, ...]

    @property
    def overdue(self) -> bool:
        return bool(self.overdue_points)


@dataclass
class Dashboard:
    region: str
    period: Period
    previous: Period
    quarters: list[Period]
    kpis: dict[str, Kpi] = field(default_factory=dict)
    matrix: list[MatrixCell] = field(default_factory=list)
    roadmap: list[ActivityView] = field(default_factory=list)


def _native(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


def parse_kpis(rows: list[Any], period: Period) -> dict[str, Kpi]:
    values: dict[tuple[str, str], int] = {}
    for row in rows:
        if row["k"] is not None:
            values[(row["k"], row["w"])] = int(row["v"])
    prev = period.previous()
    quarters = quarters_between(prev.start, period.end)
    for key in TYPED_KPIS:  # the totals of program counts are sums over types
        if key == "peopleTrained":
            continue
        for w in ["current", "previous", *(q.label for q in quarters)]:
            values[(key, w)] = sum(values.get((f"{key}.{t}", w), 0) for t in PROGRAM_TYPES)
    for w in ["current", "previous", *(q.label for q in quarters)]:
        values[("peopleCovered", w)] = sum(values.get((k, w), 0) for k in (
            "learnersEnrolled", "careerGuidanceParticipants", "professionalTrialParticipants",
            "firstProfessionTrainees", "staffTrained"))
    out = {}
    for key in KPI_KEYS:
        base, _, typ = key.partition(".")
        label = KPI_LABELS[base] + (f": {ProgramType(typ).label}" if typ else "")
        out[key] = Kpi(
            key, label, values.get((key, "current"), 0), values.get((key, "previous"), 0),
            tuple(SeriesPoint(q.label, values.get((key, q.label), 0)) for q in quarters),
        )
    return out


def parse_matrix(rows: list[dict[str, Any]]) -> list[MatrixCell]:
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        cell = cells.setdefault((row["c"], row["m"]), {
            "competency": row["c"], "competency_name": row["cn"],
            "municipality": row["m"], "municipality_name": row["mn"]})
        for src, dst in (("sites", "sites"), ("workplaces", "workplaces"),
                         ("graduates", "graduates"), ("vacancies", "vacancies"),
                         ("requests", "employer_requests"), ("answers", "survey_answers")):
            if row.get(src) is not None:
                cell[dst] = int(row[src])
        if row.get("sources"):
            cell["sources"] = tuple(sorted(row["sources"]))
    return [MatrixCell(**cells[k]) for k in sorted(cells)]


def parse_roadmap(rows: list[dict[str, Any]], kpis: dict[str, Kpi]) -> list[ActivityView]:
    out = []
    for a in rows:
        if a is None or a.get("number") is None:
            continue
        slots = tuple(
            SlotView(s["index"], s["description"], bool(s["implicit"]), s["target"], s["kpi"],
                     kpis[s["kpi"]].value if s["kpi"] in kpis else None)
            for s in a["slots"] if s.get("index") is not None
        )
        out.append(ActivityView(
            number=a["number"], group=a["group"], group_title=a["group_title"], title=a["title"],
            responsible=tuple(a["responsible"] or ()), due_text=a["due_text"],
            first_due=_native(a["first_due"]), recurrence=a["recurrence"],
            expected_result=a["expected_result"], documents=a["documents"], status=a["status"],
            evidence=tuple(a["evidence"] or ()), notes=a["notes"],
            control_points=tuple((_native(p["due_on"]), _native(p["done_on"]))
                                 for p in a["points"] if p.get("due_on") is not None),
            overdue_points=tuple(_native(d) for d in a["overdue"]),
            next_due=_native(a["nextDue"]), slots=slots,
        ))
    return out


def parse_dashboard(record: dict[str, Any], region: str, period: Period) -> Dashboard:
    prev = period.previous()
    board = Dashboard(region, period, prev, quarters_between(prev.start, period.end))
    if "kpiRows" in record:
        board.kpis = parse_kpis(record["kpiRows"], period)
    if "matrixRows" in record:
        board.matrix = parse_matrix(record["matrixRows"])
    if "roadmapRows" in record:
        board.roadmap = parse_roadmap(record["roadmapRows"], board.kpis)
    return board


def fetch_dashboard(driver: Any, region: str, period: Period, *, as_of: dt.date | None = None,
                    parts: tuple[str, ...] = PARTS, database: str | None = None) -> Dashboard:
    """Sync convenience (CLI, tests, bench): one round trip."""
    records, _, _ = driver.execute_query(
        dashboard_cypher(parts), dashboard_params(region, period, as_of), database_=database,
        routing_="r",
    )
    return parse_dashboard(records[0].data(), region, period)


# --- Learner portfolio ------------------------------------------------------------------------
# `$people` is the caller's personal-data scope (`graph.privacy.Scope.param()`): the portfolio
# holds the enrollments and activities in it, and `readable` says whether the learner is.

PORTFOLIO_CYPHER = """
MATCH (l:Learner {uid: $externalId})
CALL (l) {
  OPTIONAL MATCH (l)<-[:OF_LEARNER]-(e:Enrollment)-[:IN_COHORT]->(c:Cohort)-[:OF_PROGRAM]->(p:Program)
  WHERE e.retiredAt IS NULL AND """ + scope_condition("enrollments", "e", "people") + """
  OPTIONAL MATCH (c)-[:RUN_BY]->(o:Organization)
  WITH e, c, p, o ORDER BY c.starts_on, e.uid
  RETURN collect(CASE WHEN e IS NOT NULL THEN {
    status: e.status, enrolledOn: e.enrolled_on, completedOn: e.completed_on,
    certificate: e.certificate_number, program: p.code, programName: p.name,
    programType: p.type, competencies: p.competencies, hours: p.hours, cohort: c.code,
    startsOn: c.starts_on, endsOn: c.ends_on, organization: o.uid, organizationName: o.name
  } END) AS enrollments
}
CALL (l) {
  OPTIONAL MATCH (l)-[:PARTICIPATED_IN]->(ev:CareerGuidanceEvent)
  WHERE ev.retiredAt IS NULL AND """ + scope_condition("career_guidance_events", "ev", "people") + """
  WITH ev ORDER BY ev.held_on, ev.uid
  RETURN collect(ev {.code, .kind, .name, .held_on, .competency, .organization}) AS events
}
RETURN l {.external_id, .category, .region, .municipality, .source} AS learner,
       enrollments, events, """ + scope_condition("learners", "l", "people") + """ AS readable
"""


@dataclass(frozen=True)
class PortfolioEnrollment:
    status: str
    program: str
    program_name: str
    program_type: str
    competencies: tuple[str, ...]
    hours: int
    cohort: str
    starts_on: dt.date
    ends_on: dt.date
    organization: str | None
    organization_name: str | None
    enrolled_on: dt.date | None
    completed_on: dt.date | None
    certificate: str | None


@dataclass(frozen=True)
class PortfolioEvent:
    code: str
    kind: str
    name: str
    held_on: dt.date
    competency: str | None
    organization: str


@dataclass(frozen=True)
class Portfolio:
    external_id: str
    category: str
    region: str
    municipality: str | None
    enrollments: tuple[PortfolioEnrollment, ...]
    events: tuple[PortfolioEvent, ...]

    @property
    def completed(self) -> tuple[PortfolioEnrollment, ...]:
        return tuple(e for e in self.enrollments if e.status == "COMPLETED")


def parse_portfolio(record: dict[str, Any] | None) -> Portfolio | None:
    if record is None:
        return None
    learner = record["learner"]
    return Portfolio(
        learner["external_id"], learner["category"], learner["region"], learner["municipality"],
        tuple(PortfolioEnrollment(
            status=e["status"], program=e["program"], program_name=e["programName"],
            program_type=e["programType"], competencies=tuple(e["competencies"] or ()),
            hours=e["hours"], cohort=e["cohort"], starts_on=_native(e["startsOn"]),
            ends_on=_native(e["endsOn"]), organization=e["organization"],
            organization_name=e["organizationName"], enrolled_on=_native(e["enrolledOn"]),
            completed_on=_native(e["completedOn"]), certificate=e["certificate"],
        ) for e in record["enrollments"]),
        tuple(PortfolioEvent(ev["code"], ev["kind"], ev["name"], _native(ev["held_on"]),
                             ev["competency"], ev["organization"])
              for ev in record["events"]),
    )


def fetch_portfolio(driver: Any, external_id: str, database: str | None = None) -> Portfolio | None:
    records, _, _ = driver.execute_query(PORTFOLIO_CYPHER, externalId=external_id,
                                        people=EVERYTHING.param(), database_=database,
                                        routing_="r")
    return parse_portfolio(records[0].data() if records else None)
