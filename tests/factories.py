"""Small hand-built regions for tests: valid natural keys, written through graph.ingest."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from neo4j import Driver

from graph.audit_reads import changes_query
from graph.checksums import inn_with_checksum
from graph.ingest import IngestReport, ingest, prepare
from graph.registry import REGISTRIES


def inn(n: int) -> str:
    """A valid legal-entity ИНН, distinct for each n."""
    return inn_with_checksum(f"52{n:07d}")


def write(driver: Driver, registry: str, rows: Sequence[Mapping[str, Any]], *,
          partial: bool = False, database: str | None = None) -> IngestReport:
    prepared = prepare(REGISTRIES[registry], rows)
    with driver.session(database=database) as session:
        return session.execute_write(lambda tx: ingest(tx, prepared, partial=partial))


def audit_trail(runner: Any, **filters: Any) -> list[dict[str, Any]]:
    """Per-entity changes, newest first, read as `changes` reads them (driver or transaction);
    `fields`, `before`, `after` as stored: JSON text ('' for none)."""
    cypher, params = changes_query(limit=100_000, **filters)
    if hasattr(runner, "execute_query"):
        return [r["change"] for r in runner.execute_query(cypher, params).records]
    return [r["change"] for r in runner.run(cypher, params)]


def plan_operators(plan: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(operator, details) of every operator of an EXPLAIN/PROFILE plan, depth first."""
    out = [(plan["operatorType"].split("@")[0], str(plan.get("args", {}).get("Details", "")))]
    for child in plan.get("children", []):
        out += plan_operators(child)
    return out


def region_rows() -> dict[str, list[dict[str, Any]]]:
    """One region, two municipalities, a ЦОПП, a college and an employer with sites."""
    return {
        "regions": [{"code": "52", "name": "Нижегородская область"}],
        "municipalities": [
            {"oktmo": "22701000", "name": "г. Нижний Новгород", "region": "52"},
            {"oktmo": "22721000", "name": "г. Дзержинск", "region": "52"},
        ],
        "organizations": [
            {"inn": inn(1), "name": "ЦОПП Нижегородской области", "kind": "COPP", "region": "52",
             "municipality": "22701000"},
            {"inn": inn(2), "name": "Дзержинский технический колледж", "kind": "ПОО",
             "region": "52", "municipality": "22721000"},
            {"inn": inn(3), "name": "АО «Завод»", "kind": "EMPLOYER", "region": "52"},
        ],
        "sites": [
            {"organization": inn(1), "code": "M1", "name": "Мастерская сварочных технологий",
             "municipality": "22701000", "latitude": 56.32, "longitude": 44.0, "workplaces": 12},
            {"organization": inn(2), "code": "M1", "name": "Мастерская токарных работ",
             "municipality": "22721000", "latitude": 56.24, "longitude": 43.46, "workplaces": 8},
        ],
        "equipment_types": [
            {"code": "WELD-INV", "name": "Сварочный инвертор"},
            {"code": "LATHE-CNC", "name": "Токарный станок с ЧПУ"},
        ],
        "competencies": [
            {"code": "MF-01", "name": "Сварочные технологии", "block_code": "MF",
             "block": "Производство и инженерные технологии"},
            {"code": "MF-02", "name": "Токарные работы на станках с ЧПУ", "block_code": "MF",
             "block": "Производство и инженерные технологии"},
        ],
    }


def seed_region(driver: Driver) -> dict[str, list[dict[str, Any]]]:
    rows = region_rows()
    for name, items in rows.items():
        report = write(driver, name, items)
        assert report.ok, report.errors
    return rows


def write_all(driver: Driver, rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    """Write registries in load order (references first); every batch must be valid."""
    from graph.registry import LOAD_ORDER

    for name in LOAD_ORDER:
        if rows.get(name):
            report = write(driver, name, rows[name])
            assert report.ok, (name, report.errors)


def activity_rows() -> dict[str, list[dict[str, Any]]]:
    """Situational-centre activity on top of region_rows(): every KPI of 2025 and 2024 is known
    (see tests/test_kpi.py for the expected figures)."""
    copp, college, employer = inn(1), inn(2), inn(3)
    nn, dz = "22701000", "22721000"

    def program(code, type_, status, approved, org=copp, comps=("MF-01",)):
        return {"code": code, "name": f"Программа {code}", "type": type_, "status": status,
                "hours": 72, "organization": org, "competencies": list(comps),
                "approved_on": approved}

    def enrol(program_, cohort, learner, status="ENROLLED", done=None, cert=None):
        return {"program": program_, "cohort": cohort, "learner": learner, "status": status,
                "completed_on": done, "certificate_number": cert}

    return {
        "infrastructure_lists": [
            {"competency": "MF-01", "items": [{"equipment_type": "WELD-INV", "quantity": 2}]},
            {"competency": "MF-02", "items": [
                {"equipment_type": "LATHE-CNC", "quantity": 1},
                {"equipment_type": "WELD-INV", "quantity": 1, "scope": "PER_GROUP"}]},
        ],
        "equipment": [
            {"organization": copp, "inventory_number": "W-1", "type": "WELD-INV", "site": "M1",
             "quantity": 20},
            {"organization": copp, "inventory_number": "W-2", "type": "WELD-INV", "site": "M1",
             "quantity": 4, "status": "BROKEN"},
            {"organization": college, "inventory_number": "L-1", "type": "LATHE-CNC", "site": "M1",
             "quantity": 5},
            {"organization": college, "inventory_number": "W-3", "type": "WELD-INV", "site": "M1",
             "quantity": 1},
        ],
        "staff": [
            {"organization": copp, "personnel_number": "1", "full_name": "Иванов И. И.",
             "role": "METHODIST"},
            {"organization": copp, "personnel_number": "2", "full_name": "Сидорова А. А.",
             "role": "TEACHER"},
            {"organization": college, "personnel_number": "1", "full_name": "Петров П. П.",
             "role": "MASTER"},
        ],
        "programs": [
            program("P-SPO", "SPO_MODULES", "APPROVED", "2025-02-10"),
            program("P-EMP1", "EMPLOYER_ORDERED", "RUNNING", "2025-05-20"),
            program("P-EMP2", "EMPLOYER_ORDERED", "APPROVED", "2024-11-05", comps=("MF-02",)),
            program("P-DRAFT", "EMPLOYER_ORDERED", "DRAFT", None),
            program("P-REV", "SCHOOL_STUDENTS", "REVIEW", "2025-03-01"),
            program("P-PRE", "PRE_RETIREMENT", "ARCHIVED", "2025-08-01", org=college,
                    comps=("MF-02",)),
        ],
        "agreements": [
            {"base_organization": copp, "number": "A1", "kind": "PARTNERSHIP",
             "subject": "Партнерство", "signed_on": "2024-01-01", "valid_from": "2024-01-01",
             "parties": [{"organization": copp, "role": "BASE"},
                         {"organization": college, "role": "PARTICIPANT"}]},
            {"base_organization": copp, "number": "A2", "kind": "PARTNERSHIP",
             "subject": "Партнерство", "signed_on": "2025-03-01", "valid_from": "2025-03-01",
             "valid_to": "2025-12-31",
             "parties": [{"organization": copp, "role": "BASE"},
                         {"organization": employer, "role": "PARTICIPANT"}]},
        ],
        "cohorts": [
            {"program": "P-EMP1", "code": "G1", "organization": copp, "sites": [f"{copp}:M1"],
             "starts_on": "2025-03-01", "ends_on": "2025-06-30", "seats": 10},
            {"program": "P-SPO", "code": "G1", "organization": college,
             "sites": [f"{college}:M1"], "starts_on": "2025-09-01", "ends_on": "2025-12-20",
             "seats": 8},
            {"program": "P-EMP2", "code": "G1", "organization": copp,
             "starts_on": "2024-10-01", "ends_on": "2024-12-25", "seats": 10},
            {"program": "P-PRE", "code": "G1", "organization": copp, "sites": [f"{copp}:M1"],
             "starts_on": "2025-10-01", "ends_on": "2026-02-28", "seats": 12},
        ],
        "learners": [
            {"external_id": f"L{i}", "category": cat, "region": "52"}
            for i, cat in enumerate(["SCHOOL_STUDENT", "EMPLOYED", "UNEMPLOYED", "COLLEGE_STUDENT",
                                     "EMPLOYED", "PRE_RETIREMENT"], start=1)
        ],
        "enrollments": [
            enrol("P-EMP1", "G1", "L1", "COMPLETED", "2025-06-30", "УД-001"),
            enrol("P-EMP1", "G1", "L2", "COMPLETED", "2025-06-30", "УД-002"),
            enrol("P-EMP1", "G1", "L3", "DROPPED"),
            enrol("P-SPO", "G1", "L1", "COMPLETED", "2025-12-20", "УД-101"),
            enrol("P-SPO", "G1", "L4"),
            enrol("P-EMP2", "G1", "L5", "COMPLETED", "2024-12-25"),
            enrol("P-EMP2", "G1", "L6", "COMPLETED", "2024-12-25"),
            enrol("P-PRE", "G1", "L6"),
        ],
        "career_guidance_events": [
            {"organization": copp, "code": "E1", "kind": "EVENT", "name": "День открытых дверей",
             "held_on": "2025-04-10", "municipality": nn, "participants_school": 30,
             "participants_college": 5, "learners": ["L1"]},
            {"organization": copp, "code": "E2", "kind": "EVENT", "name": "Ярмарка профессий",
             "held_on": "2025-11-15", "site": f"{college}:M1", "participants_school": 20},
            {"organization": copp, "code": "E3", "kind": "профпроба", "name": "Проба: сварщик",
             "held_on": "2025-05-05", "site": f"{copp}:M1", "competency": "MF-01",
             "participants_school": 12, "learners": ["L1", "L4"]},
            {"organization": copp, "code": "E4", "kind": "FIRST_PROFESSION",
             "name": "Первая профессия: оператор ЧПУ", "held_on": "2025-07-01", "municipality": dz,
             "participants_school": 8},
            {"organization": copp, "code": "E5", "kind": "EVENT", "name": "Урок профориентации",
             "held_on": "2024-06-01", "municipality": nn, "participants_school": 50},
        ],
        "staff_trainings": [
            {"organization": copp, "personnel_number": "1", "competency": "MF-01",
             "completed_on": "2025-03-15", "document": "Удостоверение 1"},
            {"organization": copp, "personnel_number": "1", "competency": "MF-02",
             "completed_on": "2025-10-10", "document": "Удостоверение 2"},
            {"organization": college, "personnel_number": "1", "competency": "MF-02",
             "completed_on": "2025-06-01", "document": "Удостоверение 3", "provider": copp},
            {"organization": copp, "personnel_number": "2", "competency": "MF-01",
             "completed_on": "2024-05-01", "document": "Удостоверение 4"},
        ],
        "demand_signals": [
            {"competency": "MF-01", "municipality": nn, "source": "trudvsem",
             "starts_on": "2025-01-01", "ends_on": "2025-12-31", "vacancies": 15,
             "employer_requests": 3},
            {"competency": "MF-02", "municipality": dz, "source": "trudvsem",
             "starts_on": "2025-01-01", "ends_on": "2025-06-30", "vacancies": 2},
            {"competency": "MF-02", "municipality": nn, "source": "survey",
             "starts_on": "2025-04-01", "ends_on": "2025-04-30", "employer_requests": 4,
             "survey_answers": 9},
            {"competency": "MF-01", "municipality": nn, "source": "trudvsem",
             "starts_on": "2024-01-01", "ends_on": "2024-12-31", "vacancies": 40},
        ],
    }


def seed_activities(driver: Driver) -> dict[str, list[dict[str, Any]]]:
    """region_rows() + activity_rows(), written in load order through graph.ingest."""
    from graph.registry import LOAD_ORDER

    rows = {**region_rows(), **activity_rows()}
    for name in LOAD_ORDER:
        if rows.get(name):
            report = write(driver, name, rows[name])
            assert report.ok, (name, report.errors)
    return rows


@contextlib.contextmanager
def own_neo4j(settings: Any, home: Any, heap: str) -> Iterator[Any]:
    """A throwaway Neo4j (own port and home, migrated) for tests that stop or kill it."""
    from graph.migrations import migrate
    from hub import neo4j_runtime as rt
    from hub.db import sync_driver
    from tests.graphql_client import free_port

    own = settings.model_copy(update={
        "neo4j_home": home, "neo4j_port": free_port(), "neo4j_heap": heap,
        "neo4j_pagecache": "64m", "neo4j_uri": ""})
    rt.start(own, quiet=True)
    try:
        with sync_driver(own) as driver:
            migrate(driver, database=own.neo4j_database)
        yield own
    finally:
        rt.stop(own)
