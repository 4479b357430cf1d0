"""The write-access matrix, generated from `graph.access.OWNERS`: every registry × every role ×
records of the own organization (A), another organization of the same region (B) and an
organization of another region (C) × every write path (create, create on an existing key that
claims the record for A, patch, move between owners, bulk, retire), run through graph.ingest
against the real Neo4j. The expected cell comes from `EXPECTED` — the README's table, written
independently of the code that enforces it. A registry added without a sample here fails.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest

from graph import access
from graph.access import OWNERS, Principal
from graph.checksums import inn_with_checksum
from graph.ingest import ingest, patch, prepare, retire_plan_checked
from graph.registry import LOAD_ORDER, REGISTRIES
from graph.writes import run_plan
from tests.factories import inn, write_all

A, B, C = inn(2), inn(1), inn_with_checksum("770000010")
TENANTS = {"A": A, "B": B, "C": C}
REGION = {"A": "52", "B": "52", "C": "77"}
MUNICIPALITY = {"A": "22721000", "B": "22701000", "C": "45000000"}

PRINCIPALS = {
    "admin": Principal("t-admin", "admin"),
    "operator52": Principal("t-op52", "operator", region="52"),
    "operator77": Principal("t-op77", "operator", region="77"),
    "registrar": Principal("t-reg", "registrar", organizations=frozenset({A})),
    "planner": Principal("t-plan", "planner", region="52"),
    "viewer": Principal("t-view", "viewer"),
}

# Which tenants' records each role may write, by what the registry's records belong to
# (README «Права на запись»). Learners: a registrar writes a learner of its region that no
# other organization enrols ("new"), or one its own cohorts enrol ("stored").
ALL, REGION52, REGION77, NONE = set("ABC"), {"A", "B"}, {"C"}, set()
_ORGS = {"admin": ALL, "operator52": REGION52, "operator77": REGION77, "registrar": {"A"},
         "planner": NONE, "viewer": NONE}
EXPECTED: dict[str, dict[str, set[str]]] = {
    "org": _ORGS, "program": _ORGS, "cohort": _ORGS,
    "region": {**_ORGS, "registrar": NONE},
    "municipality": {**_ORGS, "registrar": NONE},
    "catalogue": {**_ORGS, "operator52": ALL, "operator77": ALL, "registrar": NONE},
    "learner": _ORGS,
}
LEARNER_NEW = {**_ORGS, "registrar": REGION52}

_n = itertools.count(1)


def _day(n: int) -> str:
    return (dt.date(2020, 1, 1) + dt.timedelta(days=n)).isoformat()


def sample(registry: str, t: str, tag: str) -> dict[str, Any]:
    """A valid row of `registry` belonging to tenant `t`, its key made from `tag`."""
    org, region, oktmo, n = TENANTS[t], REGION[t], MUNICIPALITY[t], next(_n)
    rows: dict[str, Callable[[], dict[str, Any]]] = {
        "regions": lambda: {"code": region, "name": f"Регион {tag}"},
        "municipalities": lambda: {"oktmo": f"9{n:07d}", "name": f"МО {tag}", "region": region},
        "organizations": lambda: {"inn": inn_with_checksum(f"{region}8{n:06d}"),
                                  "name": f"Организация {tag}", "kind": "EMPLOYER",
                                  "region": region},
        "sites": lambda: {"organization": org, "code": tag, "name": f"Площадка {tag}",
                          "municipality": oktmo, "workplaces": 2},
        "equipment_types": lambda: {"code": f"EQ-{t}-{tag}", "name": f"Тип {tag}"},
        "equipment": lambda: {"organization": org, "inventory_number": tag, "type": "WELD-INV",
                              "site": "S0", "quantity": 1},
        "staff": lambda: {"organization": org, "personnel_number": tag,
                          "full_name": "Иванов И. И.", "role": "TEACHER"},
        "competencies": lambda: {"code": f"C-{t}-{tag}", "name": f"Компетенция {tag}",
                                 "block_code": "MF", "block": "Производство"},
        "infrastructure_lists": lambda: {"competency": f"IL-{n % 300}",
                                         "items": [{"equipment_type": "WELD-INV",
                                                    "quantity": 1 + n % 5}]},
        "programs": lambda: {"code": f"P-{t}-{tag}", "name": f"Программа {tag}",
                             "type": "EMPLOYER_ORDERED", "hours": 16, "organization": org},
        "learning_materials": lambda: {"organization": org, "code": f"LM-{tag}",
                                       "name": f"Курс {tag}", "kind": "ONLINE_COURSE"},
        "modules": lambda: {"program": f"P-{t}-E0", "number": n % 999 + 1,
                            "name": f"Модуль {tag}", "hours": 8},
        "agreements": lambda: {"base_organization": org, "number": tag, "kind": "PARTNERSHIP",
                               "subject": "Партнерство", "signed_on": "2025-01-01",
                               "valid_from": "2025-01-01",
                               "parties": [{"organization": org, "role": "BASE"},
                                           {"organization": inn(3), "role": "PARTICIPANT"}]},
        "cohorts": lambda: {"program": f"P-{t}-E0", "code": tag, "organization": org,
                            "starts_on": "2025-03-01", "ends_on": "2025-06-30", "seats": 10},
        "learners": lambda: {"external_id": f"L-{t}-{tag}", "category": "EMPLOYED",
                             "region": region},
        "enrollments": lambda: {"program": f"P-{t}-E0", "cohort": "E0",
                                "learner": f"POOL-{n}"},
        "career_guidance_events": lambda: {"organization": org, "code": tag, "kind": "EVENT",
                                           "name": f"Событие {tag}", "held_on": "2025-04-10",
                                           "municipality": oktmo, "participants_school": 1},
        "staff_trainings": lambda: {"organization": org, "personnel_number": "E0",
                                    "competency": "MF-01", "completed_on": _day(n),
                                    "document": f"Удостоверение {tag}"},
        "demand_signals": lambda: {"competency": "MF-01", "municipality": oktmo,
                                   "source": f"s{tag}", "starts_on": "2025-01-01",
                                   "ends_on": "2025-12-31", "vacancies": 1},
        "digital_resources": lambda: {"code": f"DR-{t}-{tag}", "name": f"Курс {tag}",
                                      "kind": "COURSE"},
        "reference_documents": lambda: {"code": f"RD-{t}-{tag}", "name": f"Документ {tag}",
                                        "kind": "STANDARD"},
        "roadmap_activities": lambda: {"region": region, "number": 100 + n % 800, "group": 1,
                                       "group_title": "Группа", "title": f"Мероприятие {tag}",
                                       "due_text": "ежегодно", "first_due": "2025-01-01"},
        "control_points": lambda: {"region": region, "activity": 1, "due_on": _day(n)},
        "indicator_slots": lambda: {"region": region, "activity": 1, "index": n % 99 + 1,
                                    "description": f"Показатель {tag}"},
    }
    return rows[registry]()


# A field each registry's patch may change, and its new value.
PATCH: dict[str, tuple[str, Any]] = {
    "regions": ("name", "Переименован"), "municipalities": ("name", "Переименовано"),
    "organizations": ("short_name", "Новое"), "sites": ("name", "Новая"),
    "equipment_types": ("name", "Новый"), "equipment": ("quantity", 3),
    "staff": ("role", "MASTER"), "competencies": ("name", "Новая"),
    "infrastructure_lists": ("min_staff", 2), "programs": ("hours", 24),
    "learning_materials": ("hours", 4), "modules": ("hours", 9), "agreements": ("subject", "Новый предмет"),
    "cohorts": ("seats", 12), "learners": ("category", "UNEMPLOYED"),
    "enrollments": ("status", "DROPPED"), "career_guidance_events": ("participants_school", 2),
    "staff_trainings": ("hours", 16), "demand_signals": ("vacancies", 2),
    "digital_resources": ("name", "Новый"), "reference_documents": ("name", "Новый"),
    "roadmap_activities": ("notes", "Заметка"), "control_points": ("done_on", "2025-02-01"),
    "indicator_slots": ("target", 5),
}


def _stored(registry: str, t: str, tag: str) -> dict[str, Any]:
    """A seeded record of tenant t (E0: to change, R0: to retire)."""
    slot = "E0R0".index(tag) // 2 + 2 * (t == "B")  # distinct within a region
    fixed: dict[str, Callable[[], dict[str, Any]]] = {
        "regions": lambda: sample(registry, t, tag),
        "organizations": lambda: {
            "inn": TENANTS[t] if tag == "E0" else inn_with_checksum(f"{REGION[t]}7{' ABC'.index(t)}00000"),
            "name": f"Организация {t}{tag}", "kind": "COLLEGE", "region": REGION[t],
            "municipality": MUNICIPALITY[t]},
        "enrollments": lambda: {"program": f"P-{t}-E0", "cohort": "E0",
                                "learner": f"L-{t}-{tag}"},
        "modules": lambda: {**sample(registry, t, tag), "number": 1 + slot % 2},
        "control_points": lambda: {**sample(registry, t, tag), "due_on": f"2019-0{1 + slot}-01"},
        "indicator_slots": lambda: {**sample(registry, t, tag), "index": 94 + slot},
        "roadmap_activities": lambda: {**sample(registry, t, tag), "number": 1 + slot},
        "municipalities": lambda: {**sample(registry, t, tag),
                                   "oktmo": f"8{1 + slot}{' ABC'.index(t)}00000"},
        "infrastructure_lists": lambda: {**sample(registry, t, tag), "competency": f"C-{t}{tag}"},
        "staff_trainings": lambda: {**sample(registry, t, tag),
                                    "completed_on": f"2019-0{1 + slot}-15"},
    }
    return fixed[registry]() if registry in fixed else sample(registry, t, tag)


def seed(driver: Any) -> None:
    from tests.factories import region_rows

    rows: dict[str, list[dict[str, Any]]] = {k: list(v) for k, v in region_rows().items()}
    rows["regions"].append({"code": "77", "name": "Москва"})
    rows["municipalities"].append({"oktmo": "45000000", "name": "г. Москва", "region": "77"})
    rows["organizations"] = [{"inn": inn(3), "name": "АО «Завод»", "kind": "EMPLOYER",
                              "region": "52"}]
    rows["competencies"] += [{"code": f"C-{t}{tag}", "name": "К", "block_code": "MF",
                              "block": "П"} for t in "ABC" for tag in ("E0", "R0")]
    rows["competencies"] += [{"code": f"IL-{i}", "name": "К", "block_code": "MF",
                              "block": "П"} for i in range(300)]
    rows["learners"] = [{"external_id": f"POOL-{i}", "category": "EMPLOYED", "region": "52"}
                        for i in range(1, 8000)]
    for name in LOAD_ORDER:
        if name == "regions":
            continue
        for t in "ABC":
            rows.setdefault(name, []).extend(_stored(name, t, tag) for tag in ("E0", "R0"))
            if name == "sites":
                rows[name].append(sample("sites", t, "S0"))
    write_all(driver, rows)


def _principal_may(role: str, registry: str, t: str, *, new: bool) -> bool:
    """`new`: a record t would own that is not yet stored (for organizations: another
    organization of t's region, which no registrar holds)."""
    kind = OWNERS[registry].kind
    if registry == "organizations" and role == "registrar" and new:
        return False
    table = LEARNER_NEW if kind == "learner" and new else EXPECTED[kind]
    return t in table[role]


def _refused(report: Any) -> bool:
    if report is None:
        raise AssertionError("record not found")
    words = ("не даёт права", "вне региона", "не закреплена", "только данные своих",
             "другой организации", "не изменяет справочники", "зачислен только",
             "вне регионов", "не меняет регион")
    access_errors = [e for e in report.errors if any(w in e.message for w in words)]
    other = [e for e in report.errors if e not in access_errors]
    assert not other, other
    return bool(access_errors)


def _uid(registry: str, row: dict[str, Any]) -> str:
    return prepare(REGISTRIES[registry], [row]).valid[0][1].uid


def _movable(registry: str) -> tuple[str, ...]:
    """Owner fields that are not part of the natural key (a patch can move the record)."""
    owner = OWNERS[registry]
    model = REGISTRIES[registry].model
    return tuple(f for f in owner.fields if f not in model.KEY_FIELDS)


def _owner_values(registry: str, t: str) -> dict[str, Any]:
    field = _movable(registry)[0]
    return {field: {"organization": TENANTS[t], "region": REGION[t]}[
        "region" if field == "region" else "organization"]}


def test_every_registry_has_an_owner_rule_and_a_sample():
    assert set(OWNERS) == set(REGISTRIES)
    assert set(PATCH) == set(REGISTRIES)
    for registry in REGISTRIES:
        for t in "ABC":
            assert prepare(REGISTRIES[registry], [sample(registry, t, "X")]).valid, registry


@pytest.fixture(scope="module")
def world(driver, settings):
    from tests.conftest import wipe

    wipe(driver, settings.neo4j_database)
    seed(driver)
    return driver


@pytest.mark.parametrize("registry", list(REGISTRIES))
def test_write_matrix(world, registry):
    driver = world
    reg = REGISTRIES[registry]
    wrong: list[str] = []
    cells = refused_cells = 0

    def run(work: Callable[[Any], Any]) -> Any:
        with driver.session() as s:
            return s.execute_write(work)

    def check(cell: str, expected: bool, report: Any) -> None:
        nonlocal cells, refused_cells
        cells += 1
        refused = _refused(report)
        refused_cells += refused
        if refused == expected:
            wrong.append(f"{cell}: expected {'allowed' if expected else 'refused'}")
        if refused and report.written:
            wrong.append(f"{cell}: refused but written")

    for role, principal in PRINCIPALS.items():
        for t in "ABC":
            cell = f"{role} {registry} of {t}"
            may_t = _principal_may(role, registry, t, new=False)
            # create a new record
            row = sample(registry, t, f"n{next(_n)}")
            check(f"{cell} create", _principal_may(role, registry, t, new=True),
                  run(lambda tx, r=row: ingest(tx, prepare(reg, [r]), principal=principal)))
            # create on the existing key of t's record, claiming it for A where possible
            stored = _stored(registry, t, "E0")
            claim = {**stored, **(_owner_values(registry, "A") if _movable(registry) else {})}
            may_claim = may_t and (not _movable(registry) or
                                   _principal_may(role, registry, "A", new=True))
            if registry == "organizations" and claim["region"] != stored["region"] and \
                    role == "registrar":
                may_claim = False
            check(f"{cell} create-on-existing-key", may_claim,
                  run(lambda tx, r=claim: ingest(tx, prepare(reg, [r]), principal=principal)))
            restore = {f: stored.get(f) for f in _movable(registry)}
            run(lambda tx: patch(tx, reg, _uid(registry, stored), restore))
            # patch a field that does not decide the owner
            uid = _uid(registry, stored)
            field, value = PATCH[registry]
            check(f"{cell} patch", may_t,
                  run(lambda tx, u=uid: patch(tx, reg, u, {field: value}, principal=principal)))
            # move to each other tenant
            if _movable(registry):
                for u in "ABC":
                    if u == t:
                        continue
                    expected = may_t and _principal_may(role, registry, u, new=True)
                    if registry == "organizations" and role == "registrar":
                        expected = False
                    check(f"{cell} move to {u}", expected, run(
                        lambda tx, uid=uid, u=u: patch(tx, reg, uid, _owner_values(registry, u),
                                                       principal=principal)))
                    run(lambda tx: patch(tx, reg, uid, restore))
            # bulk: an own record and one of t (all or nothing)
            rows = [sample(registry, "A", f"b{next(_n)}"), sample(registry, t, f"b{next(_n)}")]
            if registry == "regions":
                rows = rows[1:]
            expected = _principal_may(role, registry, t, new=True) and (
                registry == "regions" or _principal_may(role, registry, "A", new=True))
            check(f"{cell} bulk", expected, run(
                lambda tx, rs=rows: ingest(tx, prepare(reg, rs), principal=principal)))
            # retire
            if registry == "regions":
                continue
            ret = _uid(registry, _stored(registry, t, "R0"))
            may_r0 = _principal_may(role, registry, t, new=registry == "organizations")
            check(f"{cell} retire", may_r0, run(lambda tx, u=ret: run_plan(
                tx, retire_plan_checked(reg, [u], principal=principal, source="test",
                                        now=None))))
    assert not wrong, "\n".join(wrong)
    assert cells >= 6 * 3 * 4
    print(f"MATRIX {registry}: {cells} writes, {refused_cells} refused as expected")


def test_readme_states_the_matrix():
    """README's table is the one generated from the declaration."""
    from pathlib import Path

    from graph import privacy

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert access.matrix_markdown() in readme
    assert privacy.matrix_markdown() in readme
