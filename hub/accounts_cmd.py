"""`hub accounts create|list|disable` and `hub tokens issue|list|revoke`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from graph.access import ROLES
from hub import ledger
from hub.settings import Settings, get_settings

_REGION = ("MATCH (r:Region {uid: $code}) WHERE r.retiredAt IS NULL "
           "RETURN count(r) > 0 AS found")
_ORGANIZATIONS = ("UNWIND $inns AS inn OPTIONAL MATCH (o:Organization {uid: inn}) "
                  "WHERE o.retiredAt IS NULL RETURN inn, o IS NOT NULL AS found")


class ScopeError(Exception):
    """The region or an organization of a new account is not in the graph."""


def check_scope_in_graph(settings: Settings, region: str | None,
                         organizations: list[str]) -> None:
    """Refuse a region or an ИНН that has no live node in the graph (a retired node counts
    as missing): an account bound to it could never see or change anything."""
    if not region and not organizations:
        return
    from neo4j.exceptions import DriverError, Neo4jError

    from hub.db import sync_driver

    try:
        with sync_driver(settings) as driver:
            problems = []
            if region:
                records, _, _ = driver.execute_query(_REGION, code=region,
                                                     database_=settings.neo4j_database)
                if not records[0]["found"]:
                    problems.append(f"региона с кодом «{region}» нет в графе")
            if organizations:
                records, _, _ = driver.execute_query(_ORGANIZATIONS, inns=organizations,
                                                     database_=settings.neo4j_database)
                missing = [r["inn"] for r in records if not r["found"]]
                if missing:
                    problems.append(f"организаций с ИНН {', '.join(missing)} нет в графе")
    except (DriverError, Neo4jError) as exc:
        raise ScopeError(
            f"не удалось проверить регион и организации по графу: Neo4j недоступна "
            f"({settings.bolt_uri}: {exc})") from exc
    if problems:
        raise ScopeError("; ".join(problems) + " (или они выведены из реестра); "
                         "загрузите их в граф и повторите")


def _when(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _accounts(args: argparse.Namespace) -> int:
    settings = get_settings()
    url = settings.ledger_url
    try:
        if args.action == "create":
            check_scope_in_graph(settings, args.region, args.org)
            p = ledger.create_account(url, args.name, args.role, region=args.region,
                                      organizations=args.org)
            print(f"Создана учётная запись «{p.name}» ({p.role}).")
        elif args.action == "disable":
            ledger.disable_account(url, args.name)
            print(f"Учётная запись «{args.name}» отключена, её токены отозваны.")
        else:
            for p, disabled, tokens in ledger.list_accounts(url):
                scope = p.region or ",".join(sorted(p.organizations)) or "-"
                state = "отключена" if disabled else "активна"
                print(f"{p.name}\t{p.role}\t{scope}\t{state}\tтокенов: {tokens}")
    except (ledger.LedgerError, ScopeError) as exc:
        print(f"ошибка: {exc}", file=sys.stderr)
        return 2
    return 0


def _tokens(args: argparse.Namespace) -> int:
    url = get_settings().ledger_url
    try:
        if args.action == "issue":
            issued = ledger.issue_token(url, args.name, args.label)
            print(f"Токен {issued.id} (показывается один раз):\n{issued.secret}")
        elif args.action == "list":
            print("id\tучётная запись\tметка\tначало\tсоздан\tиспользован\tотозван")
            for t in ledger.list_tokens(url, args.name):
                print(f"{t.id}\t{t.account}\t{t.label or '-'}\t{t.hint}…\t"
                      f"{_when(t.created_at)}\t{_when(t.last_used_at)}\t{_when(t.revoked_at)}")
        else:
            ledger.revoke_token(url, args.id)
            print(f"Токен {args.id} отозван.")
    except ledger.LedgerError as exc:
        print(f"ошибка: {exc}", file=sys.stderr)
        return 2
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("accounts", help="accounts of the hub's ledger")
    a = p.add_subparsers(dest="action", required=True)
    c = a.add_parser("create")
    c.add_argument("name")
    c.add_argument("--role", required=True, choices=ROLES)
    c.add_argument("--region", help="region code (operator); must exist in the graph")
    c.add_argument("--org", action="append", default=[],
                   help="ИНН of an organization (registrar), repeatable; must exist in the graph")
    a.add_parser("list")
    d = a.add_parser("disable")
    d.add_argument("name")
    p.set_defaults(func=_accounts)

    p = sub.add_parser("tokens", help="API tokens (Authorization: Bearer …)")
    t = p.add_subparsers(dest="action", required=True)
    i = t.add_parser("issue")
    i.add_argument("name", help="account name")
    i.add_argument("--label")
    ls = t.add_parser("list", help="id, account, label, hint, created, last used, revoked")
    ls.add_argument("name", nargs="?", help="only this account's tokens")
    r = t.add_parser("revoke")
    r.add_argument("id", type=int)
    p.set_defaults(func=_tokens)
