"""`hub accounts create|list|disable` and `hub tokens issue|revoke`."""

from __future__ import annotations

import argparse
import sys

from graph.access import ROLES
from hub import ledger
from hub.settings import get_settings


def _accounts(args: argparse.Namespace) -> int:
    url = get_settings().ledger_url
    try:
        if args.action == "create":
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
    except ledger.LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _tokens(args: argparse.Namespace) -> int:
    url = get_settings().ledger_url
    try:
        if args.action == "issue":
            issued = ledger.issue_token(url, args.name, args.label)
            print(f"Токен {issued.id} (показывается один раз):\n{issued.secret}")
        else:
            ledger.revoke_token(url, args.id)
            print(f"Токен {args.id} отозван.")
    except ledger.LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("accounts", help="accounts of the hub's ledger")
    a = p.add_subparsers(dest="action", required=True)
    c = a.add_parser("create")
    c.add_argument("name")
    c.add_argument("--role", required=True, choices=ROLES)
    c.add_argument("--region", help="region code (operator)")
    c.add_argument("--org", action="append", default=[], help="ИНН of an organization (registrar)")
    a.add_parser("list")
    d = a.add_parser("disable")
    d.add_argument("name")
    p.set_defaults(func=_accounts)

    p = sub.add_parser("tokens", help="API tokens (Authorization: Bearer …)")
    t = p.add_subparsers(dest="action", required=True)
    i = t.add_parser("issue")
    i.add_argument("name", help="account name")
    i.add_argument("--label")
    r = t.add_parser("revoke")
    r.add_argument("id", type=int)
    p.set_defaults(func=_tokens)
