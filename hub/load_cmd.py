"""`hub load`, `hub generate`, `hub export`: registries in and out of the graph in bulk."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from graph.registry import REGISTRIES
from hub.settings import get_settings

SPECIAL = ("all", "demo")

# Server notices (unknown labels on an empty database…) are noise for a bulk command.
logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)


def _principal(account: str | None) -> Any:
    from graph.access import SYSTEM

    if not account:
        return SYSTEM
    from hub import ledger

    return ledger.principal_by_name(get_settings().ledger_url, account)


@contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    """A rich progress bar on a terminal, plain lines otherwise."""
    if not enabled:
        yield None
        return
    if sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       transient=False)
        tasks: dict[str, Any] = {}

        def update(registry: str, done: int, total: int) -> None:
            if registry not in tasks:
                tasks[registry] = bar.add_task(registry, total=total or 1)
            bar.update(tasks[registry], completed=done, total=total or 1)

        with bar:
            yield update
        return

    def plain(registry: str, done: int, total: int) -> None:
        print(f"{registry}: {done}/{total}", file=sys.stderr, flush=True)

    yield plain


def _print_report(report: Any, limit: int = 50) -> None:
    mode = " (проверка, без записи)" if report.dry_run else ""
    print(f"{report.registry} ← {report.source}{mode}")
    print(f"  прочитано {report.read}, записей {report.records}, верных {report.valid}, "
          f"создано {report.created}, обновлено {report.updated}, без изменений "
          f"{report.unchanged}, отклонено {report.rejected}")
    if report.header_row and report.header_row > 1:
        print(f"  строка заголовка: {report.header_row}")
    if report.ignored_columns:
        print(f"  не сопоставлены столбцы: {', '.join(report.ignored_columns)}")
    for row, why in report.skipped:
        print(f"  строка {row}: {why}")
    if report.restored:
        print(f"  восстановлено из выведенных: {report.restored}")
    for error in report.errors[:limit]:
        print(f"  {error}")
    total = max(report.errors_total, len(report.errors))
    if total > limit:
        print(f"  … и ещё {total - limit} ошибок (полный список: --json)")
    if report.errors and not report.written and not report.dry_run:
        print("  ничего не записано: исправьте ошибки или используйте --partial")
    if not report.atomic and not report.dry_run:
        print(f"  записано частями: {report.transactions} транзакций по ≤ {report.batch_rows} "
              f"записей (--batch-rows) — загрузка не атомарна; если она прервалась, повторите "
              f"её: записи сливаются по естественным ключам (MERGE), граф будет тем же, что "
              f"после одной полной загрузки")


def parse_sets(items: list[str]) -> dict[str, str]:
    """`--set FIELD=VALUE` (repeatable) → {FIELD: VALUE}."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"--set «{item}»: ожидается ПОЛЕ=ЗНАЧЕНИЕ, например --set region=52")
        out[name.strip()] = value.strip()
    return out


def cmd_load(args: argparse.Namespace) -> int:
    from graph.public_services.common import Refused
    from hub.cli import ExitCode
    from hub.db import sync_driver
    from loaders.demo import write_demo
    from loaders.demo_public import keep_material_links, write_demo_public
    from loaders.load import TransactionMemoryError, load_directory, load_source
    from loaders.mapping import MappingError
    from loaders.sources import SourceError

    settings = get_settings()
    if args.registry not in SPECIAL and not args.source:
        print("ошибка: укажите источник (файл или URL базы данных)", file=sys.stderr)
        return ExitCode.USAGE
    if args.batch_rows is not None and args.batch_rows < 1:
        print("ошибка: --batch-rows должно быть не меньше 1", file=sys.stderr)
        return ExitCode.USAGE
    try:
        constants = parse_sets(args.set or [])
    except ValueError as exc:
        print(f"ошибка: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    if args.header_row is not None and args.header_row < 1:
        print("ошибка: --header-row должно быть не меньше 1", file=sys.stderr)
        return ExitCode.USAGE
    try:
        mapping = json.loads(Path(args.mapping).read_text(encoding="utf-8")) \
            if args.mapping else None
        principal = _principal(args.account)
    except Exception as exc:  # noqa: BLE001 - unreadable mapping file or unknown account
        print(f"ошибка: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    # Default: one transaction per file, up to HUB_LOAD_MAX_ROWS records; --batch-rows N: one
    # per N records (not atomic).
    options: dict[str, Any] = {"partial": args.partial, "dry_run": args.dry_run,
                               "principal": principal, "database": settings.neo4j_database,
                               "batch_rows": args.batch_rows,
                               "max_rows": settings.load_max_rows, "restore": args.restore}
    demo_public: dict[str, int] | None = None
    try:
        with sync_driver(settings) as driver, _progress(not args.json) as progress:
            _ensure_schema(driver, settings.neo4j_database)
            options["progress"] = progress
            if args.registry == "demo":
                with tempfile.TemporaryDirectory() as tmp:
                    write_demo(Path(tmp))
                    keep_material_links(driver, settings.neo4j_database, Path(tmp))
                    reports = load_directory(driver, tmp, **options)
                # then the public services a new user sees: applications, a review, a survey
                if not args.dry_run and all(r.ok for r in reports):
                    demo_public = write_demo_public(driver, settings.neo4j_database)
            elif args.registry == "all":
                reports = load_directory(driver, args.source, **options)
            else:
                reports = [load_source(driver, args.registry, args.source, sheet=args.sheet,
                                       table=args.table, query=args.query, mapping=mapping,
                                       header_row=args.header_row, constants=constants,
                                       **options)]
    except (SourceError, MappingError) as exc:  # TooLargeError too: refused, nothing written
        print(f"ошибка: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except TransactionMemoryError as exc:
        print(f"hub load: {exc}", file=sys.stderr)
        return ExitCode.NEO4J_FAILED
    except Refused as exc:  # the demo's public services: nothing of them written
        print(f"hub load demo: публичные сервисы не созданы: {exc}", file=sys.stderr)
        return ExitCode.REJECTED
    if args.json:
        print(json.dumps([r.as_dict() for r in reports] if len(reports) != 1
                         else reports[0].as_dict(), ensure_ascii=False, indent=1, default=str))
    else:
        for report in reports:
            _print_report(report)
        if demo_public is not None:
            print(f"публичные сервисы (демо): создано заявок {demo_public['applications']}, "
                  f"программ на экспертизе {demo_public['reviews']}, ответов на опрос "
                  f"{demo_public['survey_responses']}")
    return ExitCode.OK if all(r.ok for r in reports) else ExitCode.REJECTED


def _ensure_schema(driver: Any, database: str) -> None:
    from graph.migrations import SCHEMA_VERSION, applied_version_cypher, migrate

    records, _, _ = driver.execute_query(applied_version_cypher(), database_=database)
    if not records or (records[0]["version"] or 0) < SCHEMA_VERSION:
        migrate(driver, database=database)


def cmd_generate(args: argparse.Namespace) -> int:
    from loaders.generate import generate

    counts = generate(Path(args.out), scale=args.scale, seed=args.seed, fmt=args.format)
    for name, n in counts.items():
        print(f"{name}: {n}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from hub.db import sync_driver
    from loaders.export import export

    settings = get_settings()
    with sync_driver(settings) as driver:
        manifest = export(driver, Path(args.out), formats=tuple(args.format.split(",")),
                          database=settings.neo4j_database)
    for name, n in manifest["counts"].items():
        print(f"{name}: {n}")
    print(f"content hash: {manifest['content_hash']}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("load", help="load a registry from CSV, XLSX, JSON(L) or SQL",
                       description="Load a registry. `hub load all DIR` loads every registry "
                       "file of a directory in dependency order; `hub load demo` the demo region.")
    p.add_argument("registry", choices=[*REGISTRIES, *SPECIAL])
    p.add_argument("source", nargs="?", help="file, directory (all) or SQLAlchemy URL")
    p.add_argument("--dry-run", action="store_true", help="validate and check, write nothing")
    p.add_argument("--partial", action="store_true", help="write the valid rows, report the rest")
    p.add_argument("--mapping", help="JSON file: {\"source column\": \"field\"}")
    p.add_argument("--sheet", help="XLSX sheet (name or number); default the first")
    p.add_argument("--table", help="SQL table ([schema.]name)")
    p.add_argument("--query", help="SQL query")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--as", dest="account", help="account the load is made on behalf of")
    p.add_argument("--batch-rows", type=int, metavar="N",
                   help="write N records per transaction (not atomic: rerun after a failure); "
                   "default: the whole file in one transaction, up to HUB_LOAD_MAX_ROWS records")
    p.add_argument("--header-row", type=int, metavar="N",
                   help="file row of the header (default: found among the first 30 rows)")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="a value for every row where the cell is empty (repeatable), "
                   "e.g. --set region=52")
    p.add_argument("--restore", action="store_true",
                   help="bring back retired records whose key a row names, then write them")
    p.set_defaults(func=cmd_load)

    p = sub.add_parser("generate", help="write a synthetic region or federation as load files")
    p.add_argument("--scale", choices=["demo", "region", "federal"], default="region")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("export", help="write every registry as JSON Lines and CSV")
    p.add_argument("--out", required=True)
    p.add_argument("--format", default="jsonl,csv",
                   help="jsonl, csv, xlsx or a comma list (default jsonl,csv)")
    p.set_defaults(func=cmd_export)
