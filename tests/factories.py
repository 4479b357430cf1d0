"""Small hand-built regions for tests: valid natural keys, written through graph.ingest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from neo4j import Driver

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
