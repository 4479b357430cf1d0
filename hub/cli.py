"""`hub` command line: one entry point for every command of the hub."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from hub.settings import get_settings

Command = Callable[[argparse.Namespace], int]


def cmd_neo4j(args: argparse.Namespace) -> int:
    from hub import neo4j_runtime as rt

    settings = get_settings()
    if args.action == "start":
        result = rt.start(settings)
    elif args.action == "stop":
        result = rt.stop(settings)
    else:
        result = rt.status(settings)
        print(result.message)
        return 0 if result.running else 3
    print(result.message)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from graph.migrations import migrate
    from hub.db import sync_driver

    settings = get_settings()
    with sync_driver(settings) as driver:
        applied = migrate(driver, database=settings.neo4j_database)
    print(f"Schema up to date: {applied} constraints and indexes in place.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hub", description="Regional Resource Hub")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("neo4j", help="local Neo4j server: start, stop, status")
    p.add_argument("action", choices=["start", "stop", "status"])
    p.set_defaults(func=cmd_neo4j)

    p = sub.add_parser("migrate", help="create constraints and indexes (idempotent)")
    p.set_defaults(func=cmd_migrate)

    for module in EXTENSIONS:
        importlib.import_module(module).register(sub)
    return parser


# Modules that add their own subcommands with `register(subparsers)`.
EXTENSIONS: list[str] = [
    "hub.accounts_cmd",
    "hub.load_cmd",
    "hub.serve",
    "hub.roadmap_cmd",
]


def main(argv: Sequence[str] | None = None) -> int:
    from hub.neo4j_runtime import LocalNeo4jError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except LocalNeo4jError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
