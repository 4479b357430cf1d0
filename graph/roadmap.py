"""The ЦОПП roadmap template (плана-графика): parser, indicator slots, control points, tracker.

The template is a tab-separated export of a Word table: 6 columns (№, title, responsible,
due date, expected result, confirming documents), group header rows, blank lines from page
breaks, and rows continued on a following line whose first cells are empty.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph.enums import Recurrence
from graph.errors import DomainError, NotFound
from graph.ingest import IngestReport, ingest, patch_async, prepare
from graph.ingest import patch as patch_sync
from graph.models import join_key
from graph.registry import REGISTRIES, record_from_properties

TEMPLATE_PATH = Path(__file__).resolve().parent / "data" / "copp-roadmap-template.txt"

_MONTHS = {
    "января": 1, "февраля": 2, "марта": 3, "апреля": 4, "мая": 5, "июня": 6, "июля": 7,
    "августа": 8, "сентября": 9, "октября": 10, "ноября": 11, "декабря": 12,
}
_DATE = re.compile(r"(\d{1,2})\s+([а-яё]+)\s+(\d{4})", re.IGNORECASE)
_GROUP = re.compile(r"^Группа мероприятий\s+(\d+)\.\s*(.+)$")
_NUMBER = re.compile(r"^(\d+)\.?$")
_SLOT = re.compile(r"_{3,}")
_COUNT_NOTE = re.compile(r"\s*\(кол-во\)")
_SENTENCE = re.compile(r"(?<=\.)\s+(?=[А-ЯЁA-Z])")
_IMPLICIT = re.compile(r"(Численность[^_]*?)\s+(чел\.)")  # «… чел.» with the blank missing


@dataclass(frozen=True)
class Slot:
    """An indicator blank (`___`) in an expected result: the region writes its target there."""

    index: int  # 1-based within the activity
    description: str  # the sentence around the blank, the blank shown as «___»
    implicit: bool = False  # the template forgot the blank («Численность … чел.»)


@dataclass(frozen=True)
class Activity:
    number: int
    group: int
    title: str
    responsible: tuple[str, ...]
    due_text: str
    first_due: dt.date
    recurrence: Recurrence
    expected_result: str
    documents: str
    slots: tuple[Slot, ...]


@dataclass(frozen=True)
class Group:
    number: int
    title: str


@dataclass(frozen=True)
class Roadmap:
    groups: tuple[Group, ...]
    activities: tuple[Activity, ...]

    def activity(self, number: int) -> Activity:
        return next(a for a in self.activities if a.number == number)


class RoadmapFormatError(ValueError):
    pass


def _clean(text: str) -> str:
    return " ".join(text.split())


def parse_date(text: str) -> dt.date:
    match = _DATE.search(text)
    if not match or match.group(2).lower() not in _MONTHS:
        raise RoadmapFormatError(f"не найдена дата в «{text}»")
    day, month, year = match.groups()
    return dt.date(int(year), _MONTHS[month.lower()], int(day))


def parse_recurrence(text: str) -> Recurrence:
    low = text.lower()
    if "ежеквартально" in low:
        return Recurrence.QUARTERLY
    if "ежегодно" in low:
        return Recurrence.ANNUAL
    if "при необходимости" in low:
        return Recurrence.AS_NEEDED
    return Recurrence.NONE


def find_slots(expected: str) -> tuple[Slot, ...]:
    """Blanks in the expected result, each described by the sentence text around it."""
    slots: list[Slot] = []
    for sentence in _SENTENCE.split(expected):
        sentence = _clean(_COUNT_NOTE.sub("", sentence))
        parts = _SLOT.split(sentence)
        if len(parts) == 1:
            match = _IMPLICIT.search(sentence)
            if match:
                text = f"{match.group(1)} ___ {match.group(2)}"
                slots.append(Slot(len(slots) + 1, text, implicit=True))
            continue
        for i in range(len(parts) - 1):
            before, after = parts[i].strip(), parts[i + 1].strip()
            text = _clean(f"{before} ___ {after}")
            slots.append(Slot(len(slots) + 1, text))
    return tuple(slots)


def _rows(text: str) -> list[list[str]]:
    """Table rows with continuation lines joined into the row above."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        if not line.strip():
            continue  # page breaks
        cells = line.split("\t")
        if cells[0].strip() == "" and rows:
            above = rows[-1]
            above.extend([""] * (len(cells) - len(above)))
            for i, cell in enumerate(cells):
                if cell.strip():
                    above[i] = _clean(f"{above[i]} {cell}")
            continue
        rows.append(cells)
    return rows


def parse_roadmap(text: str) -> Roadmap:
    groups: list[Group] = []
    activities: list[Activity] = []
    for cells in _rows(text):
        first = cells[0].strip()
        group = _GROUP.match(first)
        if group:
            groups.append(Group(int(group.group(1)), _clean(group.group(2))))
            continue
        number = _NUMBER.match(first)
        if not number or len(cells) < 6 or not groups:
            continue  # title, column header and column-number rows
        _, title, responsible, due, expected, documents = (_clean(c) for c in cells[:6])
        activities.append(Activity(
            number=int(number.group(1)), group=groups[-1].number, title=title,
            responsible=tuple(p.strip() for p in responsible.split(",") if p.strip()),
            due_text=due, first_due=parse_date(due), recurrence=parse_recurrence(due),
            expected_result=expected, documents=documents, slots=find_slots(expected),
        ))
    numbers = [a.number for a in activities]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RoadmapFormatError("мероприятия шаблона должны идти по порядку с 1")
    return Roadmap(tuple(groups), tuple(activities))


def load_template(path: Path = TEMPLATE_PATH) -> Roadmap:
    return parse_roadmap(path.read_text(encoding="utf-8"))


def _add_months(day: dt.date, months: int, month_end: bool) -> dt.date:
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, last if month_end else min(day.day, last))


def control_dates(first: dt.date, recurrence: Recurrence, horizon: dt.date) -> list[dt.date]:
    """Control points of an activity: the first date, then every quarter / year to the horizon."""
    step = {Recurrence.QUARTERLY: 3, Recurrence.ANNUAL: 12}.get(recurrence)
    dates = [first]
    if step is None:
        return dates
    month_end = first.day == calendar.monthrange(first.year, first.month)[1]
    k = 1
    while (nxt := _add_months(first, step * k, month_end)) <= horizon:
        dates.append(nxt)
        k += 1
    return dates


# --- A region's roadmap in the graph ------------------------------------------------------------

_TYPES_IN_TEMPLATE_ORDER = ("SPO_MODULES", "SCHOOL_STUDENTS", "EMPLOYER_ORDERED", "SECTORAL",
                            "PRE_RETIREMENT", "FUTURE_COMPETENCIES")

# (activity, slot index) → KPI key of graph.kpi. Slots not listed (26.1 number of upgrade
# programs, 29 programs ordered, 30 expert groups) have no registry behind them yet.
SLOT_KPIS: dict[tuple[int, int], str] = {
    (23, 1): "coppStaff",
    (25, 1): "staffTrainedCopp",
    (26, 2): "staffTrainedCollege",
    **{(31 + i, 1): f"programsConstructed.{t}" for i, t in enumerate(_TYPES_IN_TEMPLATE_ORDER)},
    # «… по предлагаемым ЦОПП программам»: only cohorts the ЦОПП offers (graph/kpi.py)
    **{(37 + i, 1): f"programsImplementedCopp.{t}" for i, t in enumerate(_TYPES_IN_TEMPLATE_ORDER)},
    **{(37 + i, 2): f"peopleTrainedCopp.{t}" for i, t in enumerate(_TYPES_IN_TEMPLATE_ORDER)},
    (59, 1): "careerGuidanceEvents",
    (60, 1): "professionalTrialParticipants",
    (61, 1): "firstProfessionTrainees",
}

# Earlier defaults of SLOT_KPIS that changed, (activity, slot index) → the old KPI key: slots
# still bound to them are rebound to today's default by `hub migrate` (schema version 4,
# graph/migrations.py), since `hub roadmap init` keeps a region's stored `kpi`.
PREVIOUS_SLOT_KPIS: dict[tuple[int, int], str] = {
    **{(37 + i, 1): f"programsImplemented.{t}" for i, t in enumerate(_TYPES_IN_TEMPLATE_ORDER)},
    **{(37 + i, 2): f"peopleTrained.{t}" for i, t in enumerate(_TYPES_IN_TEMPLATE_ORDER)},
}


def slot_rebindings() -> list[dict[str, object]]:
    """(activity, index, old default, new default) of every slot whose default changed."""
    return [{"activity": a, "index": i, "old": old, "new": SLOT_KPIS[(a, i)]}
            for (a, i), old in sorted(PREVIOUS_SLOT_KPIS.items())]

DEFAULT_HORIZON = dt.date(2027, 12, 31)
# Fields a region edits; `hub roadmap init` run again keeps them.
USER_FIELDS = {
    "roadmap_activities": ("status", "evidence", "notes"),
    "control_points": ("done_on",),
    "indicator_slots": ("target", "kpi"),
}


def roadmap_rows(region: str, roadmap: Roadmap,
                 horizon: dt.date = DEFAULT_HORIZON) -> dict[str, list[dict[str, object]]]:
    """Registry rows of the region's roadmap from the template (user fields at defaults)."""
    groups = {g.number: g.title for g in roadmap.groups}
    out: dict[str, list[dict[str, object]]] = {k: [] for k in USER_FIELDS}
    for a in roadmap.activities:
        out["roadmap_activities"].append({
            "region": region, "number": a.number, "group": a.group,
            "group_title": groups[a.group], "title": a.title, "responsible": list(a.responsible),
            "due_text": a.due_text, "first_due": a.first_due, "recurrence": a.recurrence.value,
            "expected_result": a.expected_result, "documents": a.documents,
        })
        for due in control_dates(a.first_due, a.recurrence, horizon):
            out["control_points"].append({"region": region, "activity": a.number, "due_on": due})
        for s in a.slots:
            out["indicator_slots"].append({
                "region": region, "activity": a.number, "index": s.index,
                "description": s.description, "implicit": s.implicit,
                "kpi": SLOT_KPIS.get((a.number, s.index)),
            })
    return out


EXISTING_CYPHER = """
MATCH (n:RoadmapActivity|ControlPoint|IndicatorSlot {region: $region})
RETURN labels(n)[0] AS label, n.uid AS uid, properties(n) AS props
"""



class RoadmapError(DomainError):
    """Refused roadmap write; `errors` are the row errors of graph.ingest (Russian)."""

    def __init__(self, message: str, errors: list | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


def _uid(registry: str, row: dict[str, object]) -> str:
    model = REGISTRIES[registry].model
    return join_key(*(str(row[f]) for f in model.KEY_FIELDS))


def merge_existing(rows: dict[str, list[dict[str, object]]],
                   existing: dict[str, dict[str, object]]) -> dict[str, list[dict[str, object]]]:
    """Template rows with the region's own fields (status, targets…) kept from the graph."""
    out = {}
    for name, items in rows.items():
        merged = []
        for row in items:
            props = existing.get(_uid(name, row))
            if props is not None:
                current = record_from_properties(REGISTRIES[name], props)
                row = {**row, **{f: current[f] for f in USER_FIELDS[name] if f in current}}
            merged.append(row)
        out[name] = merged
    return out


def init_roadmap(driver: Any, region: str, *, horizon: dt.date = DEFAULT_HORIZON,
                 roadmap: Roadmap | None = None, database: str | None = None) -> dict[str, int]:
    """Create or refresh the region's roadmap in one transaction; returns rows per registry."""
    rows = roadmap_rows(region, roadmap or load_template(), horizon)

    def work(tx: Any) -> dict[str, int]:
        found = {r["uid"]: r["props"] for r in tx.run(EXISTING_CYPHER, region=region)}
        counts: dict[str, int] = {}
        for name, items in merge_existing(rows, found).items():
            report = ingest(tx, prepare(REGISTRIES[name], items), source="cli")
            if not report.ok and report.errors[0].field == "region":
                raise RoadmapError(f"регион {region} не найден в реестре регионов", report.errors)
            if not report.ok:
                raise RoadmapError(
                    f"дорожная карта региона {region} не создана: "
                    + "; ".join(str(e) for e in report.errors[:5]), report.errors)
            counts[name] = len(items)
        return counts

    with driver.session(database=database) as session:
        return session.execute_write(work)


# Patches of the region's own fields (GraphQL mutations), through graph.ingest as well.
def key_fields(registry: str, region: str, activity: int, extra: dict[str, object]) -> dict:
    base: dict[str, object] = {"region": region}
    base["number" if registry == "roadmap_activities" else "activity"] = activity
    return {**base, **extra}


def _checked(registry: str, patch: dict[str, object]) -> dict[str, object]:
    unknown = set(patch) - set(USER_FIELDS[registry])
    if unknown:
        raise RoadmapError(f"поля нельзя изменить: {', '.join(sorted(unknown))}")
    return patch


def _missing(registry: str, key: dict[str, object]) -> NotFound:
    region, number = key["region"], key.get("number", key.get("activity"))
    what = {"roadmap_activities": f"мероприятие {number} дорожной карты региона {region} не "
                                  "найдено",
            "control_points": f"контрольная точка мероприятия {number} региона {region} со "
                              f"сроком {_ru_date(key.get('due_on'))} не найдена",
            "indicator_slots": f"показатель {key.get('index')} мероприятия {number} региона "
                               f"{region} не найден"}[registry]
    return NotFound(what[:1].upper() + what[1:], region=str(region))


def _ru_date(value: object) -> str:
    return value.strftime("%d.%m.%Y") if isinstance(value, dt.date) else str(value)


async def update_roadmap_async(tx: Any, registry: str, key: dict[str, object],
                               patch: dict[str, object], **who: Any) -> IngestReport:
    """Patch one roadmap node in the caller's managed async transaction (graph.ingest's
    patch: locked, rights checked, only the named fields written, audited); the report.
    `who`: `principal` and `source`."""
    report = await patch_async(tx, REGISTRIES[registry], _uid(registry, key),
                               _checked(registry, patch), **who)
    if report is None:
        raise _missing(registry, key)
    return report


def update_roadmap(tx: Any, registry: str, key: dict[str, object],
                   patch: dict[str, object], **who: Any) -> IngestReport:
    report = patch_sync(tx, REGISTRIES[registry], _uid(registry, key),
                        _checked(registry, patch), **who)
    if report is None:
        raise _missing(registry, key)
    return report
