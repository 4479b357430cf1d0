"""`hub` command line: one entry point for every command of the hub."""

from __future__ import annotations

import argparse
import enum
import importlib
import logging
import sys
from collections.abc import Callable, Sequence

from hub.settings import get_settings

Command = Callable[[argparse.Namespace], int]


class ExitCode(enum.IntEnum):
    """Exit codes of every `hub` command (the table in README.md)."""

    OK = 0
    REJECTED = 1  # rows rejected (`hub load`), or the data refused by a domain rule
    USAGE = 2  # bad arguments; source, mapping or account unusable; local runtime cannot start
    NOT_RUNNING = 3  # `hub neo4j status`: the local Neo4j is not running
    NEO4J_UNAVAILABLE = 4  # Neo4j not reachable, or lost during the command
    NEO4J_AUTH = 5  # Neo4j refused the credentials
    NEO4J_FAILED = 6  # Neo4j could not run a transaction (e.g. out of transaction memory)


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
        return ExitCode.OK if result.running else ExitCode.NOT_RUNNING
    print(result.message)
    return ExitCode.OK


def cmd_migrate(args: argparse.Namespace) -> int:
    from graph.migrations import migrate
    from hub.db import sync_driver

    settings = get_settings()
    with sync_driver(settings) as driver:
        applied = migrate(driver, database=settings.neo4j_database)
    print(f"Schema up to date: {applied} constraints and indexes in place.")
    return ExitCode.OK


def cmd_purge(args: argparse.Namespace) -> int:
    """The retention purge of `purgeApplications` (`purge_plan`, audited the same way), batch
    after batch; --dry-run runs the batches in one transaction and rolls it back."""
    from graph.public_services import applications as ap
    from graph.public_services.common import now_utc
    from graph.writes import run_plan
    from hub.db import sync_driver

    settings = get_settings()
    keep, stale = settings.application_retention_days, settings.application_stale_days
    if keep < 1 or stale < 1:
        print("hub purge: HUB_APPLICATION_RETENTION_DAYS и HUB_APPLICATION_STALE_DAYS — целое "
              f"число дней не меньше 1, сейчас {keep} и {stale}.", file=sys.stderr)
        return ExitCode.USAGE
    now, purged = now_utc(), []
    with sync_driver(settings) as driver, driver.session(
            database=settings.neo4j_database) as session:
        dry = session.begin_transaction() if args.dry_run else None
        try:
            while True:
                batch = (run_plan(dry, ap.purge_plan(now, keep, stale)) if dry else
                         session.execute_write(
                             lambda tx: run_plan(tx, ap.purge_plan(now, keep, stale))))
                purged += batch
                if len(batch) < ap.PURGE_BATCH:
                    break
        finally:
            if dry is not None:
                dry.rollback()
    print(ap.purge_report(purged, keep, stale, args.dry_run))
    return ExitCode.OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hub", description="Regional Resource Hub")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("neo4j", help="local Neo4j server: start, stop, status")
    p.add_argument("action", choices=["start", "stop", "status"])
    p.set_defaults(func=cmd_neo4j)

    p = sub.add_parser("migrate", help="create constraints and indexes (idempotent)")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("purge", help="удалить персональные данные заявок по сроку хранения")
    p.add_argument("what", choices=["applications"])
    p.add_argument("--dry-run", action="store_true", help="показать, что будет удалено")
    p.set_defaults(func=cmd_purge)

    for module in EXTENSIONS:
        importlib.import_module(module).register(sub)
    return parser


# Modules that add their own subcommands with `register(subparsers)`.
EXTENSIONS: list[str] = [
    "hub.accounts_cmd",
    "hub.load_cmd",
    "hub.serve",
    "hub.roadmap_cmd",
    "hub.template_cmd",
]


def neo4j_failure(exc: BaseException, command: str) -> tuple[ExitCode, str] | None:
    """One Russian line and the exit code for a Neo4j failure, None for anything else (a bug
    keeps its traceback)."""
    from neo4j.exceptions import (
        AuthError,
        ConnectionPoolError,
        DatabaseUnavailable,
        IncompleteCommit,
        Neo4jError,
        ServiceUnavailable,
        SessionExpired,
        TransientError,
    )

    settings = get_settings()
    where = settings.bolt_uri
    gone = (ServiceUnavailable, SessionExpired, ConnectionPoolError, DatabaseUnavailable)
    if isinstance(exc, AuthError):
        return ExitCode.NEO4J_AUTH, (
            f"hub {command}: Neo4j по адресу {where} отклонил вход пользователя "
            f"«{settings.neo4j_user}»: проверьте HUB_NEO4J_USER и HUB_NEO4J_PASSWORD.")
    if isinstance(exc, gone) or isinstance(exc.__cause__, gone):
        todo = ("проверьте, что сервер запущен и HUB_NEO4J_URI верен" if settings.neo4j_uri
                else "запустите `hub neo4j start` (или укажите HUB_NEO4J_PORT / HUB_NEO4J_URI "
                "работающего сервера)")
        last = ("соединение оборвалось во время подтверждения транзакции — записана ли она, "
                "неизвестно; повтор безопасен (MERGE по естественным ключам)"
                if isinstance(exc, IncompleteCommit)
                else "транзакция, которую Neo4j не подтвердил, не записана")
        return ExitCode.NEO4J_UNAVAILABLE, (
            f"hub {command}: Neo4j недоступен по адресу {where} — {todo} и повторите команду; "
            f"{last}.")
    if isinstance(exc, Neo4jError) and "MemoryPoolOutOfMemoryError" in (exc.code or ""):
        return ExitCode.NEO4J_FAILED, (
            f"hub {command}: Neo4j ({where}) прервал транзакцию — не хватило памяти "
            f"({exc.code}); ничего из неё не записано. Загрузите файл частями "
            f"(--batch-rows 5000), уменьшите HUB_LOAD_MAX_ROWS или увеличьте HUB_NEO4J_HEAP.")
    if isinstance(exc, TransientError):
        return ExitCode.NEO4J_FAILED, (
            f"hub {command}: Neo4j ({where}) не выполнил транзакцию ({exc.code}): ничего из "
            f"неё не записано, повторите команду позже.")
    return None


def main(argv: Sequence[str] | None = None) -> int:
    from neo4j.exceptions import DriverError, Neo4jError

    from hub.neo4j_runtime import LocalNeo4jError

    # The driver logs its retries ("Transaction failed and will be retried…") as warnings;
    # with no logging configured Python would print them on stderr next to our one line.
    logging.getLogger("neo4j").addHandler(logging.NullHandler())
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except LocalNeo4jError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except (DriverError, Neo4jError) as exc:
        command = " ".join(a for a in (args.command, getattr(args, "action", None)) if a)
        failure = neo4j_failure(exc, command)
        if failure is None:
            raise
        code, message = failure
        print(message, file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
