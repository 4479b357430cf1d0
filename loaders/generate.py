"""Deterministic synthetic regions in the loaders' exchange format (`hub generate`, demo).

The data are meant for capability matching: a college's sites hold the equipment of the
infrastructure lists of the competencies it teaches (with some gaps and broken items), its
staff are qualified in them, its programs develop them, network agreements name partners
whose production sites host the same competency.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from graph.checksums import inn_with_checksum, ogrn_with_checksum
from loaders.demo import vocabulary as v
from loaders.formats import RegistryFiles

TSV = Path(__file__).parent / "demo" / "competencies-wsr.tsv"
CATALOGUE = ("equipment_types", "competencies", "infrastructure_lists")


@dataclass(frozen=True)
class Scale:
    municipalities: int
    colleges: int
    partners: int
    equipment: int
    staff: int
    competencies: int  # 0: the WSR list as it is
    programs: int
    agreements: int
    regions: int = 1


SCALES: dict[str, Scale] = {
    "demo": Scale(municipalities=10, colleges=20, partners=60, equipment=3000, staff=500,
                  competencies=0, programs=150, agreements=60),
    "region": Scale(municipalities=40, colleges=100, partners=1000, equipment=50000,
                    staff=10000, competencies=600, programs=5000, agreements=1500),
}
SCALES["federal"] = replace(SCALES["region"], regions=85)

BLOCKS = ("IT", "MF", "BD", "SR", "DS", "TR", "ED")


@dataclass
class Catalogue:
    competencies: list[dict[str, Any]]
    equipment_types: list[dict[str, Any]]
    infrastructure_lists: list[dict[str, Any]]
    by_block: dict[str, list[str]] = field(default_factory=dict)
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # competency → items
    per_unit: dict[str, bool] = field(default_factory=dict)  # type → one record per unit
    type_names: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # competency → name
    future: set[str] = field(default_factory=set)


def read_competencies() -> list[tuple[str, str, str]]:
    lines = TSV.read_text(encoding="utf-8").splitlines()[1:]
    return [tuple(line.split("\t")[:3]) for line in lines if line.strip()]  # type: ignore[misc]


def build_catalogue(seed: int, count: int = 0) -> Catalogue:
    rng = random.Random(f"catalogue:{seed}")
    base = read_competencies()
    rows: list[tuple[str, str, str, str]] = [(b, bn, name, "WSR") for b, bn, name in base]
    if count > len(rows):
        k = 0
        while len(rows) < count:
            b, bn, name = base[k % len(base)]
            suffix, standard = v.COMPETENCY_VARIANTS[(k // len(base)) % len(v.COMPETENCY_VARIANTS)]
            rows.append((b, bn, name + suffix, standard))
            k += 1
    cat = Catalogue([], [], [])
    numbers: dict[str, int] = defaultdict(int)
    for block, block_name, name, standard in rows:
        numbers[block] += 1
        code = f"{block}-{numbers[block]:02d}"
        low = name.casefold()
        is_future = any(w in low for w in v.FUTURE_WORDS) or "цифров" in low
        cat.competencies.append({
            "code": code, "name": name, "block_code": block, "block": block_name,
            "standard": standard, "is_future": is_future,
            "is_digital": block == "IT" or "цифров" in low,
        })
        cat.by_block.setdefault(block, []).append(code)
        cat.names[code] = name
        if is_future:
            cat.future.add(code)
    for block, entries in v.EQUIPMENT.items():
        for suffix, name, category, _scope, unit in entries:
            code = f"EQ-{block}-{suffix}"
            cat.equipment_types.append({"code": code, "name": name, "category": category,
                                        "unit": "шт."})
            cat.per_unit[code] = unit
            cat.type_names[code] = name
    general = v.EQUIPMENT["GEN"]
    for comp in cat.competencies:
        code, block = comp["code"], comp["block_code"]
        kit = f"KIT-{code}"
        cat.equipment_types.append({
            "code": kit, "name": f"Специализированный комплект «{comp['name']}»",
            "category": "Специализированные комплекты", "unit": "компл."})
        cat.per_unit[kit] = True
        cat.type_names[kit] = f"Специализированный комплект «{comp['name']}»"
        picks = [general[0], general[1], *rng.sample(general[2:], rng.randint(1, 2))]
        block_items = v.EQUIPMENT[block]
        picks += rng.sample(block_items, min(len(block_items), rng.randint(4, 6)))
        items = [{"equipment_type": f"EQ-{'GEN' if p in general else block}-{p[0]}",
                  "quantity": 1 if p[3] == "G" or p[4] else rng.choice((1, 1, 2)),
                  "scope": "PER_WORKPLACE" if p[3] == "W" else "PER_GROUP"} for p in picks]
        items.append({"equipment_type": kit, "quantity": 1, "scope": "PER_GROUP"})
        cat.items[code] = items
        cat.infrastructure_lists.append({
            "competency": code, "name": f"Инфраструктурный лист «{comp['name']}»",
            "items": items, "min_staff": rng.choice((1, 1, 2)),
            "expert_required": rng.random() < 0.3,
        })
    return cat


# ---------------------------------------------------------------- regions

def region_list(scale: Scale) -> list[tuple[str, str, str, float, float]]:
    """(code, name, ОКАТО prefix, latitude, longitude) of each generated region."""
    if scale.regions == 1:
        return [v.REGION]
    rng = random.Random("regions")
    codes = [f"{i:02d}" for i in range(1, 90) if i not in (80, 81, 84, 85)][: scale.regions]
    out = []
    for i, code in enumerate(codes):
        town, adj = v.TOWNS[i % len(v.TOWNS)]
        fem = adj[:-2] + "ая"
        name = (f"{fem} область", f"{adj} край", f"Республика {town}",
                f"{fem} автономная область")[(i // len(v.TOWNS)) % 4]
        out.append((code, name, code, round(rng.uniform(44, 66), 4), round(rng.uniform(30, 130), 4)))
    return out


def genitive(region: str) -> str:
    words = region.split()
    if words[0] == "Республика":
        return "Республики " + " ".join(words[1:])
    out = []
    for w in words:
        if w.endswith("ая"):
            w = w[:-2] + "ой"
        elif w.endswith(("ий", "ый")):
            w = w[:-2] + "ого"
        elif w == "область":
            w = "области"
        elif w == "край":
            w = "края"
        out.append(w)
    return " ".join(out)


def _person(rng: random.Random) -> str:
    male = rng.random() < 0.45
    surname = rng.choice(v.SURNAMES)
    first = rng.choice(v.FIRST_NAMES_M if male else v.FIRST_NAMES_F)
    stem = rng.choice(v.PATRONYMICS)
    patronymic = stem + ("ич" if male else "на")
    return f"{surname if male else surname + 'а'} {first} {patronymic}"


def _date(rng: random.Random, start: dt.date, days: int) -> dt.date:
    return start + dt.timedelta(days=rng.randrange(days))


def _weighted(rng: random.Random, options: Mapping[str, float]) -> str:
    return rng.choices(list(options), weights=list(options.values()))[0]


STATUS = {"WORKING": 94, "REPAIR": 3, "BROKEN": 1, "RESERVED": 1, "WRITTEN_OFF": 1}
ROLES = {"TEACHER": 50, "MASTER": 25, "METHODIST": 8, "EXPERT": 7, "MANAGER": 5, "OTHER": 5}
EXPERT = {"NONE": 60, "REGIONAL": 25, "CERTIFIED": 12, "CHIEF": 3}
PROGRAM_STATUS = {"DRAFT": 10, "REVIEW": 10, "APPROVED": 25, "RUNNING": 45, "ARCHIVED": 10}
HOURS = {"SPO_MODULES": (72, 144, 256), "SCHOOL_STUDENTS": (16, 24, 36),
         "EMPLOYER_ORDERED": (72, 144, 256), "SECTORAL": (36, 72), "PRE_RETIREMENT": (72, 144),
         "FUTURE_COMPETENCIES": (36, 72, 144)}


def generate_region(seed: int, scale: Scale, cat: Catalogue,
                    region: tuple[str, str, str, float, float]) -> dict[str, list[dict[str, Any]]]:
    code, name, okato, lat0, lon0 = region
    rng = random.Random(f"region:{seed}:{code}")
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    out["regions"].append({"code": code, "name": name})

    # municipalities: city districts first, then municipal districts
    munis = []
    for i in range(scale.municipalities):
        town, adj = v.TOWNS[i % len(v.TOWNS)]
        city = i < max(3, scale.municipalities * 4 // 10)
        suffix = "" if i < len(v.TOWNS) else f" {i // len(v.TOWNS) + 1}"
        oktmo = f"{okato}{7 if city else 6}{i + 1:02d}000"[:8] if i < 99 else \
            f"{okato}{7 if city else 6}{i + 1:03d}00"
        muni_name = (f"г. {town}" if city else f"{adj} муниципальный округ") + suffix
        lat, lon = lat0 + rng.uniform(-1.2, 1.2), lon0 + rng.uniform(-2.0, 2.0)
        munis.append((oktmo, town, lat, lon))
        out["municipalities"].append({"oktmo": oktmo, "name": muni_name, "region": code})

    seq = iter(range(1, 10_000_000))

    def new_inn() -> str:
        return inn_with_checksum(f"{code}{next(seq):07d}")

    def ogrn() -> str:
        return ogrn_with_checksum(f"1{rng.randint(2, 22):02d}{code}{rng.randrange(10**7):07d}")

    def address(town: str) -> str:
        return f"{town}, ул. {rng.choice(v.STREETS)}, д. {rng.randint(1, 120)}"

    orgs: list[dict[str, Any]] = []  # with private keys: _block, _comps, _muni
    copp: dict[str, Any] = {"inn": new_inn(), "name": f"Центр опережающей профессиональной подготовки "
            f"{genitive(name)}", "short_name": f"ЦОПП {genitive(name)}", "kind": "COPP",
            "ogrn": ogrn(), "region": code, "municipality": munis[0][0],
            "address": address(munis[0][1]), "_block": None, "_muni": munis[0]}
    copp["_comps"] = [c for b in BLOCKS for c in rng.sample(cat.by_block[b], 1)]
    orgs.append(copp)
    seen_names: dict[str, int] = defaultdict(int)

    def unique(text: str) -> str:
        seen_names[text] += 1
        return text if seen_names[text] == 1 else f"{text} № {seen_names[text]}"

    colleges = []
    for i in range(scale.colleges):
        block = BLOCKS[i % len(BLOCKS)] if i < len(BLOCKS) else rng.choice(BLOCKS)
        muni = munis[i % len(munis)] if i < len(munis) else rng.choice(munis)
        adj = next(a for t, a in v.TOWNS if t == muni[1])
        profile = rng.choice(v.COLLEGE_PROFILES[block])
        title = unique(f"{adj} {profile}")
        comps = rng.sample(cat.by_block[block], min(len(cat.by_block[block]), rng.randint(3, 5)))
        if rng.random() < 0.4:
            comps.append(rng.choice(cat.by_block[rng.choice(BLOCKS)]))
        college = {"inn": new_inn(), "name": f"ГБПОУ «{title[0].upper() + title[1:]}»",
                   "short_name": title[0].upper() + title[1:], "kind": "COLLEGE", "ogrn": ogrn(),
                   "region": code, "municipality": muni[0], "address": address(muni[1]),
                   "website": f"https://college{i + 1}.{code}.edu.example",
                   "_block": block, "_muni": muni, "_comps": list(dict.fromkeys(comps))}
        colleges.append(college)
    orgs += colleges

    partners = []
    for i in range(scale.partners):
        block = rng.choice(BLOCKS)
        muni = rng.choice(munis)
        r = rng.random()
        if r < 0.05:
            adj = next(a for t, a in v.TOWNS if t == muni[1])
            kind, title = "UNIVERSITY", unique(
                f"ФГБОУ ВО «{adj} государственный {rng.choice(('технический', 'аграрный', 'педагогический'))} университет»")
        elif r < 0.15:
            kind, title = "OTHER", unique(
                f"АНО ДПО «Учебный центр «{rng.choice(v.EMPLOYER_STEMS).strip()}"
                f"{rng.choice(v.EMPLOYER_TAILS[block])}»»")
        else:
            stem = rng.choice(v.EMPLOYER_STEMS).strip() + rng.choice(v.EMPLOYER_TAILS[block])
            kind, title = "EMPLOYER", unique(
                f"{rng.choice(v.EMPLOYER_FORMS)} «{stem.capitalize()}»")
        partner = {"inn": new_inn(), "name": title, "kind": kind, "ogrn": ogrn(), "region": code,
                   "municipality": muni[0], "address": address(muni[1]), "_block": block,
                   "_muni": muni, "_comps": [rng.choice(cat.by_block[block])]}
        partners.append(partner)
    orgs += partners
    for org in orgs:
        out["organizations"].append({k: val for k, val in org.items() if not k.startswith("_")})

    # sites: the ЦОПП and colleges host 1–2 taught competencies per workshop; ~40 % of
    # partners have one production site
    hosted: dict[str, list[tuple[dict[str, Any], str]]] = defaultdict(list)  # comp → (site, org inn)
    sites: list[tuple[dict[str, Any], list[str]]] = []
    for org in orgs:
        comps = list(org["_comps"])
        if org["kind"] in ("EMPLOYER", "UNIVERSITY", "OTHER"):
            if rng.random() >= 0.4:
                continue
            groups = [comps]
        else:
            groups, k = [], 0
            while k < len(comps):
                n = 2 if rng.random() < 0.3 else 1
                groups.append(comps[k:k + n])
                k += n
        for j, group in enumerate(groups, start=1):
            block = group[0].split("-")[0]
            is_partner = org["kind"] not in ("COPP", "COLLEGE")
            kind = "PRODUCTION" if is_partner else {"IT": "LABORATORY", "ED": "CLASSROOM"}.get(
                block, "WORKSHOP")
            muni = org["_muni"]
            site = {"organization": org["inn"], "code": f"M{j}",
                    "name": ("Производственная площадка" if is_partner else "Мастерская")
                    + " «" + "», «".join(cat.names[c] for c in group) + "»",
                    "kind": kind, "address": address(muni[1]), "municipality": muni[0],
                    "latitude": round(muni[2] + rng.uniform(-0.05, 0.05), 5),
                    "longitude": round(muni[3] + rng.uniform(-0.08, 0.08), 5),
                    "workplaces": rng.choice((4, 6)) if is_partner else rng.choice((8, 10, 12, 12, 15))}
            sites.append((site, group))
            out["sites"].append(site)
            for c in group:
                hosted[c].append((site, org["inn"]))

    # equipment: what the infrastructure lists need, with gaps
    counters: dict[str, int] = defaultdict(int)
    equipment: list[dict[str, Any]] = []

    def add_equipment(inn: str, site: str, etype: str, quantity: int) -> None:
        counters[inn] += 1
        status = _weighted(rng, STATUS)
        equipment.append({
            "organization": inn, "inventory_number": f"ОС-{counters[inn]:06d}", "type": etype,
            "site": site, "name": cat.type_names[etype], "quantity": quantity, "status": status,
            "year": rng.randint(2010, 2025)})

    for site, group in sites:
        for comp in group:
            items = cat.items[comp]
            # most workshops are fully equipped for what they teach; the rest miss one or two
            # items (nothing of the type, or half of what is needed)
            short = set() if rng.random() < 0.6 else set(
                rng.sample(range(len(items)), min(len(items), rng.randint(1, 2))))
            for k, item in enumerate(items):
                need = item["quantity"] * (site["workplaces"] if item["scope"] == "PER_WORKPLACE"
                                           else 1)
                if k in short:
                    if rng.random() < 0.5:
                        continue  # a gap: nothing of this type
                    need = max(1, need // 2)  # a shortage
                elif item["scope"] == "PER_WORKPLACE":
                    need += -(-need // 10)  # a spare unit per ten, as workshops keep
                if cat.per_unit[item["equipment_type"]]:
                    for _ in range(need):
                        add_equipment(site["organization"], site["code"], item["equipment_type"], 1)
                else:
                    add_equipment(site["organization"], site["code"], item["equipment_type"], need)
    general = [t["code"] for t in cat.equipment_types if t["code"].startswith("EQ-GEN")]
    edu_sites = [s for s, _ in sites if s["kind"] != "PRODUCTION"]
    while len(equipment) < scale.equipment and edu_sites:
        site = rng.choice(edu_sites)
        add_equipment(site["organization"], site["code"], rng.choice(general), rng.randint(1, 6))
    out["equipment"] = equipment

    # staff: most at colleges, some at the ЦОПП, mentors at partners with sites
    site_partners = [o for o in partners if any(s["organization"] == o["inn"] for s, _ in sites)]
    employers: list[tuple[dict[str, Any], float]] = [(copp, 0.05)]
    employers += [(c, 0.85 / max(1, len(colleges))) for c in colleges]
    employers += [(p, 0.10 / max(1, len(site_partners))) for p in site_partners]
    for org, share in employers:
        for n in range(1, max(1, round(scale.staff * share)) + 1):
            is_partner = org["kind"] not in ("COPP", "COLLEGE")
            role = "EXPERT" if is_partner else _weighted(rng, ROLES)
            quals = []
            if role in ("TEACHER", "MASTER", "EXPERT"):
                for comp in rng.sample(org["_comps"], min(len(org["_comps"]), rng.choice((1, 1, 2)))):
                    status = _weighted(rng, EXPERT) if role != "EXPERT" else rng.choice(
                        ("REGIONAL", "CERTIFIED"))
                    q: dict[str, Any] = {"competency": comp, "expert_status": status}
                    if status != "NONE":
                        q["valid_until"] = _date(rng, dt.date(2025, 1, 1), 4 * 365)
                    quals.append(q)
            out["staff"].append({
                "organization": org["inn"], "personnel_number": f"{n:05d}",
                "full_name": _person(rng), "role": role,
                "position": "Наставник от предприятия" if is_partner else v.POSITIONS[role],
                "qualifications": quals})

    # programs and their modules
    developers = [copp] * max(1, len(colleges) // 5) + colleges
    types = list(v.PROGRAM_TEMPLATES)
    employer_names = [p["name"] for p in partners if p["kind"] == "EMPLOYER"] or ["работодателя"]
    network_programs = []
    for i in range(scale.programs):
        org = rng.choice(developers)
        ptype = types[i % len(types)]
        pool = org["_comps"]
        if ptype == "FUTURE_COMPETENCIES":
            pool = [c for c in pool if c in cat.future] or rng.sample(sorted(cat.future), 1) \
                if cat.future else pool
        comps = rng.sample(pool, min(len(pool), rng.choice((1, 1, 1, 2))))
        status = _weighted(rng, PROGRAM_STATUS)
        hours = rng.choice(HOURS[ptype])
        program = {
            "code": f"ДПО-{code}-{i + 1:05d}",
            "name": v.PROGRAM_TEMPLATES[ptype].format(c=cat.names[comps[0]],
                                                      e=rng.choice(employer_names)),
            "type": ptype, "status": status, "hours": hours,
            "format": rng.choice(("FULL_TIME", "FULL_TIME", "BLENDED", "PART_TIME", "DISTANCE")),
            "network": rng.random() < 0.2, "organization": org["inn"], "competencies": comps,
            "description": f"Программа развивает компетенцию «{cat.names[comps[0]]}».",
            "approved_on": _date(rng, dt.date(2021, 1, 1), 4 * 365)
            if status in ("APPROVED", "RUNNING", "ARCHIVED") else None,
        }
        out["programs"].append(program)
        if program["network"]:
            network_programs.append((program, org))
        count = rng.randint(2, 5)
        # the developer's e-course for the first module, in the program's review state (no
        # draws: the rows after it stay as the seed made them)
        course = {
            "organization": org["inn"], "code": f"ЦОР-{i + 1:05d}", "kind": "ONLINE_COURSE",
            "name": f"Электронный курс: {program['name']}"[:1000], "format": "SCORM 2004",
            "edition": "1", "hours": max(1, hours // count // 2), "competencies": comps[:1],
            "license": "OWN", "status": {"DRAFT": "DRAFT", "REVIEW": "REVIEW"}.get(
                status, "APPROVED"), "approved_on": program["approved_on"]}
        out["learning_materials"].append(course)
        left = hours
        for number in range(1, count + 1):
            h = left if number == count else max(1, hours // count)
            left -= h
            if number == 1:
                theme, reqs = v.MODULE_THEMES[0], []
            else:
                theme = v.MODULE_THEMES[1 + (number - 2) % (len(v.MODULE_THEMES) - 1)]
                items = cat.items[comps[0]]
                reqs = rng.sample(items, min(len(items), rng.randint(2, 4)))
            out["modules"].append({
                "program": program["code"], "number": number, "name": f"Модуль {number}. {theme}",
                "hours": max(1, h), "competency": comps[0], "requirements": reqs,
                "min_staff": 1,
                "materials": [f"{org['inn']}:{course['code']}"] if number == 1 else []})

    # agreements: network ones for network programs, then partnership / practice ones
    agreements = out["agreements"]
    numbers: dict[str, int] = defaultdict(int)

    def agreement(base: dict[str, Any], other: dict[str, Any], kind: str,
                  program: dict[str, Any] | None) -> None:
        numbers[base["inn"]] += 1
        signed = _date(rng, dt.date(2021, 1, 1), 4 * 365)
        start = signed + dt.timedelta(days=rng.randint(0, 30))
        prefix = {"NETWORK": "СФ", "PARTNERSHIP": "СП", "PRACTICE": "ПП"}[kind]
        record: dict[str, Any] = {
            "base_organization": base["inn"], "number": f"{prefix}-{signed.year}-{numbers[base['inn']]:03d}",
            "kind": kind, "signed_on": signed, "valid_from": start,
            "valid_to": start + dt.timedelta(days=rng.choice((365, 730, 1095))),
            "parties": [
                {"organization": base["inn"], "role": "BASE",
                 "responsibilities": "Реализация программы, итоговая аттестация, выдача документов"
                 if kind == "NETWORK" else "Организация обучения"},
                {"organization": other["inn"], "role": "PARTICIPANT",
                 "responsibilities": "Предоставление площадки, оборудования и наставников"
                 if kind != "PARTNERSHIP" else "Участие в совместных проектах"}],
        }
        if kind == "NETWORK" and program:
            record.update(
                subject=f"Сетевая форма реализации программы «{program['name']}»",
                program=program["code"], learners=rng.randint(10, 60),
                resources=f"Площадка и оборудование организации-участника ({other['name']})",
                documents_issued=rng.choice(v.DOCUMENTS))
        elif kind == "PARTNERSHIP":
            record["subject"] = "Сотрудничество в развитии кадрового потенциала региона"
        else:
            record["subject"] = "Практическая подготовка обучающихся"
        agreements.append(record)

    for program, org in network_programs:
        comp = program["competencies"][0]
        hosts = [inn for _, inn in hosted.get(comp, []) if inn != org["inn"]]
        by_inn = {o["inn"]: o for o in orgs}
        other = by_inn[rng.choice(hosts)] if hosts else rng.choice(partners or colleges)
        if other["inn"] == org["inn"]:
            continue
        agreement(org, other, "NETWORK", program)
    for college in colleges:
        if len(agreements) >= scale.agreements:
            break
        agreement(copp, college, "PARTNERSHIP", None)
    employers_only = [p for p in partners if p["kind"] == "EMPLOYER"]
    while len(agreements) < scale.agreements and colleges and employers_only:
        agreement(rng.choice(colleges), rng.choice(employers_only), "PRACTICE", None)
    return out


def generate(out: Path, *, scale: str = "region", seed: int = 1, fmt: str = "jsonl",
             regions: int | None = None) -> dict[str, int]:
    """Write the registries of a scale into `out` (federal: one subdirectory per region)."""
    spec = SCALES[scale]
    if regions:
        spec = replace(spec, regions=regions)
    cat = build_catalogue(seed, spec.competencies)
    out = Path(out)
    counts: dict[str, int] = defaultdict(int)
    with RegistryFiles(out, fmt) as files:
        for name in CATALOGUE:
            files.write(name, getattr(cat, name))
        counts.update(files.counts)
    for region in region_list(spec):
        data = generate_region(seed, spec, cat, region)
        if scale == "demo":  # the demo region also has two years of activity and a roadmap
            from loaders.demo_activities import demo_activities

            data.update(demo_activities(data, seed=seed))
        target = out if spec.regions == 1 else out / f"r{region[0]}"
        with RegistryFiles(target, fmt) as files:
            for name, rows in data.items():
                files.write(name, rows)
        for name, rows in data.items():
            counts[name] += len(rows)
    return dict(counts)
