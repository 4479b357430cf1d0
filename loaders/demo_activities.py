"""Situational-centre activity of the demo region, generated deterministically from its
registries and the day it is loaded (`today`): cohorts, learners, enrollments, career-guidance
events, staff training, demand signals, ICT and reference resources from 1 January of last year
to four months ahead, and the region's roadmap with realistic statuses, targets and done control
points. Everything is dated relative to `today`, so a new user sees cohorts open for enrolment,
a current year with approved programs and completions, and a partner network in force; the same
`today` (and seed) gives the same rows (tests pin it; `HUB_DEMO_TODAY` pins `hub load demo`).

    rows = generate_region(...)                  # loaders.generate
    rows.update(demo_activities(rows))           # registry name → rows, in the exchange format

Every row is plain registry input, loaded like any other (graph.ingest).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any

from graph.roadmap import load_template, roadmap_rows

AHEAD_MONTHS = 4  # cohorts planned this far ahead are open for enrolment


def _month_end(day: dt.date, months: int = 0) -> dt.date:
    total = day.year * 12 + day.month - 1 + months
    y, m = divmod(total, 12)
    nxt = dt.date(y + (m + 1) // 12, (m + 1) % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def span(today: dt.date) -> tuple[dt.date, dt.date]:
    """The demo's activity: from 1 January of last year to the end of the month four ahead."""
    return dt.date(today.year - 1, 1, 1), _month_end(today, AHEAD_MONTHS)

CATEGORY_BY_TYPE = {
    "SPO_MODULES": {"COLLEGE_STUDENT": 0.9, "COLLEGE_STAFF": 0.1},
    "SCHOOL_STUDENTS": {"SCHOOL_STUDENT": 1.0},
    "EMPLOYER_ORDERED": {"EMPLOYED": 0.8, "UNEMPLOYED": 0.2},
    "SECTORAL": {"EMPLOYED": 0.6, "UNEMPLOYED": 0.3, "COLLEGE_STAFF": 0.1},
    "PRE_RETIREMENT": {"PRE_RETIREMENT": 1.0},
    "FUTURE_COMPETENCIES": {"COLLEGE_STUDENT": 0.4, "EMPLOYED": 0.4, "SCHOOL_STUDENT": 0.2},
}
EVENT_NAMES = {
    "EVENT": ("День открытых дверей", "Ярмарка профессий", "Профориентационный урок",
              "Экскурсия на предприятие", "Фестиваль профессий"),
    "PROFESSIONAL_TRIAL": ("Профессиональная проба",),
    "FIRST_PROFESSION": ("Обучение первой профессии",),
}
DIGITAL_RESOURCES = (
    ("PLATFORM", "Цифровая платформа ЦОПП"),
    ("COURSE", "Онлайн-курс «Основы бережливого производства»"),
    ("SIMULATOR", "Тренажер сварщика"),
    ("SIMULATOR", "Виртуальный тренажер оператора станков с ЧПУ"),
    ("COURSE", "Онлайн-курс «Охрана труда»"),
    ("PLATFORM", "Платформа «Билет в будущее»"),
)


def _weighted(rng: random.Random, options: dict[str, float]) -> str:
    return rng.choices(list(options), weights=list(options.values()))[0]


def _day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))


def demo_activities(region: dict[str, list[dict[str, Any]]], *, seed: int = 52,
                    today: dt.date | None = None, roadmap: bool = True
                    ) -> dict[str, list[dict[str, Any]]]:
    """Activity rows for a generated region (its organizations, sites, staff, programs), dated
    relative to `today` (default: the clock). Also returns the region's `programs` and
    `agreements` re-dated the same way (approvals up to today, agreements mostly in force)."""
    today = today or dt.date.today()
    start, end = span(today)
    rng = random.Random(f"activities:{seed}:{today.isoformat()}")
    code = region["regions"][0]["code"]
    orgs = {o["inn"]: o for o in region["organizations"]}
    copp = next(o for o in region["organizations"] if o["kind"] == "COPP")
    colleges = [o for o in region["organizations"] if o["kind"] == "COLLEGE"]
    sites_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in region["sites"]:
        sites_of[s["organization"]].append(s)
    munis = [m["oktmo"] for m in region["municipalities"]]
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    # programs approved over the last four years up to today (a sixth of them this year)
    year_start = dt.date(today.year, 1, 1)
    for p in region["programs"]:
        p = dict(p)
        if p.get("approved_on") is not None:
            p["approved_on"] = _day(rng, year_start, today) if rng.random() < 1 / 6 else \
                _day(rng, dt.date(today.year - 4, 1, 1), year_start - dt.timedelta(days=1))
        out["programs"].append(p)
    # agreements signed over the last three years, most of them still in force
    for a in region["agreements"]:
        a = dict(a)
        signed = _day(rng, dt.date(today.year - 3, 1, 1), today - dt.timedelta(days=30))
        a["signed_on"] = signed
        a["valid_from"] = signed + dt.timedelta(days=rng.randint(0, 30))
        a["valid_to"] = max(a["valid_from"] + dt.timedelta(days=rng.choice((365, 730, 1095))),
                            today + dt.timedelta(days=rng.randint(-120, 720)))
        a["number"] = f"{a['number'].split('-')[0]}-{signed.year}-{a['number'].split('-')[-1]}"
        out["agreements"].append(a)
    live = [p for p in out["programs"] if p["status"] in ("APPROVED", "RUNNING", "ARCHIVED")]
    comps = sorted({c for p in out["programs"] for c in p["competencies"]})

    # learners are created as enrollments need them; some take a second program
    by_category: dict[str, list[str]] = defaultdict(list)

    def learner(category: str, municipality: str) -> str:
        pool = by_category[category]
        if pool and rng.random() < 0.15:
            return rng.choice(pool)
        ext = f"EXT-{code}-{len(out['learners']) + 1:06d}"
        out["learners"].append({"external_id": ext, "category": category, "region": code,
                                "municipality": municipality, "source": "Цифровая платформа ЦОПП"})
        pool.append(ext)
        return ext

    for p in live:
        own_sites = sites_of.get(p["organization"]) or sites_of.get(copp["inn"]) or []
        weeks = max(2, p["hours"] // 36)
        for n in range(1, rng.randint(1, 4) + 1):
            begins = _day(rng, start - dt.timedelta(days=60), end - dt.timedelta(days=30))
            ends = begins + dt.timedelta(weeks=weeks)
            site = rng.choice(own_sites) if own_sites else None
            seats = rng.randint(8, 25)
            out["cohorts"].append({
                "program": p["code"], "code": f"Г{n}", "organization": p["organization"],
                "sites": [f"{site['organization']}:{site['code']}"] if site else [],
                "starts_on": begins, "ends_on": ends, "seats": seats})
            place = site["municipality"] if site else orgs[p["organization"]].get("municipality")
            taken: set[str] = set()
            for i in range(rng.randint(seats * 6 // 10, seats)):
                who = learner(_weighted(rng, CATEGORY_BY_TYPE[p["type"]]), place or munis[0])
                if who in taken:
                    continue
                taken.add(who)
                row: dict[str, Any] = {"program": p["code"], "cohort": f"Г{n}", "learner": who,
                                       "enrolled_on": min(begins, today)}
                if begins > today and rng.random() < 0.5:
                    continue  # an open cohort: half of its seats are still free
                if ends <= today:
                    roll = rng.random()
                    if roll < 0.87:
                        row.update(status="COMPLETED", completed_on=ends,
                                   certificate_number=f"{code}-{p['code'][-5:]}-{n}-{i + 1:03d}")
                    else:
                        row["status"] = "DROPPED"
                out["enrollments"].append(row)

    # career guidance: every month, a few activities per municipality
    organizers = [copp] + colleges
    schoolers = by_category["SCHOOL_STUDENT"]
    month = dt.date(start.year, start.month, 1)
    seq = 0
    while month <= today:  # what happened so far
        for muni in munis:
            for _ in range(rng.randint(0, 2)):
                kind = _weighted(rng, {"EVENT": 0.6, "PROFESSIONAL_TRIAL": 0.3,
                                       "FIRST_PROFESSION": 0.1})
                org = rng.choice(organizers)
                seq += 1
                site = rng.choice(sites_of[org["inn"]]) if sites_of.get(org["inn"]) else None
                size = {"EVENT": (20, 150), "PROFESSIONAL_TRIAL": (6, 25),
                        "FIRST_PROFESSION": (8, 20)}[kind]
                day = _day(rng, month, min(today, month + dt.timedelta(days=27)))
                comp = rng.choice(comps) if comps and kind != "EVENT" else None
                out["career_guidance_events"].append({
                    "organization": org["inn"], "code": f"ПО-{seq:05d}", "kind": kind,
                    "name": f"{rng.choice(EVENT_NAMES[kind])} ({day:%d.%m.%Y})",
                    "held_on": day, "municipality": muni,
                    "site": f"{site['organization']}:{site['code']}" if site else None,
                    "competency": comp, "participants_school": rng.randint(*size),
                    "participants_college": rng.randint(0, size[0] // 2),
                    "learners": rng.sample(schoolers, min(len(schoolers), rng.randint(0, 3))),
                })
        month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)

    # staff training: about a third of teaching staff each year
    teaching = [s for s in region["staff"] if s["role"] in ("TEACHER", "MASTER", "METHODIST")]
    employers = [o["inn"] for o in region["organizations"] if o["kind"] == "EMPLOYER"]
    for year in range(start.year, today.year + 1):
        last = min(today, dt.date(year, 12, 31))
        for s in rng.sample(teaching, len(teaching) // 3):
            quals = [q["competency"] for q in s.get("qualifications") or []]
            comp = rng.choice(quals or comps)
            out["staff_trainings"].append({
                "organization": s["organization"], "personnel_number": s["personnel_number"],
                "competency": comp, "completed_on": _day(rng, dt.date(year, 1, 15), last),
                "document": f"Удостоверение о повышении квалификации № {year}-{len(out['staff_trainings']) + 1:05d}",
                "hours": rng.choice((36, 72, 144)),
                # mostly the ЦОПП; some at employers, some with the provider not recorded
                "provider": _weighted(rng, {copp["inn"]: 0.8, "EMPLOYER": 0.12, "": 0.08})})
            provider = out["staff_trainings"][-1]["provider"]
            if provider == "EMPLOYER":
                out["staff_trainings"][-1]["provider"] = rng.choice(employers) if employers \
                    else copp["inn"]
            elif provider == "":
                out["staff_trainings"][-1]["provider"] = None

    # demand: quarterly vacancies and yearly employer surveys for the taught competencies
    hot = rng.sample(comps, min(len(comps), 25))
    q = dt.date(start.year, 1, 1)
    while q <= today:
        q_end = (q.replace(day=28) + dt.timedelta(days=65)).replace(day=1) - dt.timedelta(days=1)
        for comp in hot:
            for muni in rng.sample(munis, min(len(munis), 3)):
                out["demand_signals"].append({
                    "competency": comp, "municipality": muni, "source": "trudvsem",
                    "starts_on": q, "ends_on": q_end, "vacancies": rng.randint(0, 40),
                    "employer_requests": rng.randint(0, 8)})
        q = q_end + dt.timedelta(days=1)
    for year in range(start.year, today.year + 1):
        for comp in hot[:10]:
            out["demand_signals"].append({
                "competency": comp, "municipality": rng.choice(munis), "source": "opros",
                "starts_on": dt.date(year, 1, 1), "ends_on": dt.date(year, 12, 31),
                "employer_requests": rng.randint(2, 20), "survey_answers": rng.randint(10, 200)})

    # ICT and reference resources
    for i, (kind, name) in enumerate(DIGITAL_RESOURCES, start=1):
        out["digital_resources"].append({
            "code": f"ИКТ-{i:03d}", "name": name, "kind": kind,
            "url": f"https://copp{code}.ru/resources/{i}", "organization": copp["inn"],
            "competencies": rng.sample(comps, min(len(comps), 2)) if kind != "PLATFORM" else [],
            "programs": [p["code"] for p in rng.sample(live, min(len(live), 2))]})
    out["reference_documents"].append({
        "code": "273-ФЗ", "name": "Федеральный закон «Об образовании в Российской Федерации»",
        "kind": "NORMATIVE_ACT", "number": "273-ФЗ", "issued_on": dt.date(2012, 12, 29)})
    for comp in comps[:10]:
        out["reference_documents"].append({
            "code": f"ИЛ-{comp}", "name": f"Инфраструктурный лист компетенции {comp}",
            "kind": "INFRASTRUCTURE_LIST", "competencies": [comp]})

    if roadmap:
        out.update(demo_roadmap(code, rng, today))
    return dict(out)


def demo_roadmap(region: str, rng: random.Random,
                 as_of: dt.date) -> dict[str, list[dict[str, Any]]]:
    """The template roadmap with statuses a real region might have by `as_of`."""
    rows = roadmap_rows(region, load_template())
    for a in rows["roadmap_activities"]:
        recurring = a["recurrence"] in ("QUARTERLY", "ANNUAL")
        if recurring:
            a["status"] = "IN_PROGRESS"
        else:
            a["status"] = _weighted(rng, {"DONE": 0.85, "IN_PROGRESS": 0.1, "NOT_STARTED": 0.05})
        if a["status"] == "DONE":
            a["evidence"] = [f"https://copp{region}.ru/docs/roadmap-{a['number']}.pdf"]
    for cp in rows["control_points"]:
        due = cp["due_on"]
        assert isinstance(due, dt.date)
        if due <= as_of and rng.random() < 0.9:
            cp["done_on"] = due - dt.timedelta(days=rng.randint(0, 10))
    for slot in rows["indicator_slots"]:
        slot["target"] = rng.choice((5, 10, 20, 50, 100, 300))
    return rows
