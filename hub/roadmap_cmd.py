"""`hub roadmap init|overdue --region R`: a region's ЦОПП roadmap from the federal template."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from hub.settings import get_settings


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"ожидается дата ГГГГ-ММ-ДД: {text!r}") from None


def cmd_init(args: argparse.Namespace) -> int:
    from graph.roadmap import RoadmapError, init_roadmap
    from hub.cli import ExitCode
    from hub.db import sync_driver

    settings = get_settings()
    with sync_driver(settings) as driver:
        try:
            counts = init_roadmap(driver, args.region, horizon=args.horizon,
                                  database=settings.neo4j_database)
        except RoadmapError as exc:
            print(f"ошибка: {exc}", file=sys.stderr)
            return ExitCode.REJECTED
    print(f"Дорожная карта региона {args.region}: {counts['roadmap_activities']} мероприятий, "
          f"{counts['control_points']} контрольных точек (до {args.horizon}), "
          f"{counts['indicator_slots']} показателей.")
    return ExitCode.OK


def cmd_overdue(args: argparse.Namespace) -> int:
    from graph.kpi import fetch_dashboard, parse_period
    from hub.cli import ExitCode
    from hub.db import sync_driver

    settings = get_settings()
    with sync_driver(settings) as driver:
        board = fetch_dashboard(driver, args.region, parse_period(str(args.as_of.year)),
                                as_of=args.as_of, parts=("roadmap",),
                                database=settings.neo4j_database)
    late = [a for a in board.roadmap if a.overdue]
    for a in late:
        points = ", ".join(d.isoformat() for d in a.overdue_points)
        print(f"{a.number:>3}. {a.title[:90]}  — просрочено: {points}")
    print(f"Просрочено на {args.as_of}: {len(late)} из {len(board.roadmap)} мероприятий.")
    return ExitCode.OK


def register(sub: argparse._SubParsersAction) -> None:
    from graph.roadmap import DEFAULT_HORIZON

    p = sub.add_parser("roadmap", help="дорожная карта ЦОПП региона")
    actions = p.add_subparsers(dest="action", required=True)
    init = actions.add_parser("init", help="создать или обновить дорожную карту региона")
    init.add_argument("--region", required=True, help="код субъекта РФ")
    init.add_argument("--horizon", type=_date, default=DEFAULT_HORIZON,
                      help="контрольные точки до этой даты (ГГГГ-ММ-ДД)")
    init.set_defaults(func=cmd_init)
    late = actions.add_parser("overdue", help="просроченные мероприятия на дату")
    late.add_argument("--region", required=True)
    late.add_argument("--as-of", type=_date, default=dt.date.today())
    late.set_defaults(func=cmd_overdue)
