"""`hub template <registry> --out FILE.xlsx`: an empty workbook to fill for one registry."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from graph.registry import REGISTRIES
from hub.settings import get_settings

logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)

CATALOGUE_CYPHER = """
CALL () { MATCH (t:EquipmentType) WHERE t.retiredAt IS NULL
       RETURN collect([t.code, t.name]) AS types }
CALL () { MATCH (c:Competency) WHERE c.retiredAt IS NULL
       RETURN collect([c.code, c.name]) AS competencies }
RETURN types, competencies
"""


def catalogue(driver: Any, database: str | None) -> dict[str, list[tuple[str, str]]]:
    records, _, _ = driver.execute_query(CATALOGUE_CYPHER, database_=database)
    row = records[0]
    return {k: sorted((str(c), str(n)) for c, n in row[k]) for k in ("types", "competencies")}


def cmd_template(args: argparse.Namespace) -> int:
    from hub.cli import ExitCode
    from loaders.xlsx import template

    registry = REGISTRIES[args.registry]
    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        print("ошибка: шаблон сохраняется в книгу Excel: укажите файл .xlsx", file=sys_stderr())
        return ExitCode.USAGE
    lists: dict[str, list[tuple[str, str]]] = {"types": [], "competencies": []}
    if not args.offline:
        from hub.db import sync_driver

        settings = get_settings()
        with sync_driver(settings) as driver:
            lists = catalogue(driver, settings.neo4j_database)
    template(out, registry, lists)
    print(f"шаблон «{registry.title}»: {out}")
    return ExitCode.OK


def sys_stderr() -> Any:
    import sys

    return sys.stderr


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("template", help="write an empty XLSX template of a registry",
                       description="An empty workbook with Russian headers, drop-down lists "
                       "of allowed values (enums, catalogue codes and names), an example row "
                       "and notes.")
    p.add_argument("registry", choices=list(REGISTRIES))
    p.add_argument("--out", required=True, help="the .xlsx file to write")
    p.add_argument("--offline", action="store_true",
                   help="without Neo4j: no catalogue lists")
    p.set_defaults(func=cmd_template)
