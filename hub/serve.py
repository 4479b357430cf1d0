"""`hub serve` (uvicorn) and `hub schema export|check` (the schema.graphql contract)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hub.settings import PROJECT_ROOT

SCHEMA_FILE = PROJECT_ROOT / "schema.graphql"


def schema_sdl() -> str:
    from schema.api import schema

    return schema.as_str().rstrip() + "\n"


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from hub.app import create_app

    uvicorn.run(create_app(), host=args.host, port=args.port, log_level=args.log_level)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    path = Path(args.file)
    sdl = schema_sdl()
    if args.action == "export":
        path.write_text(sdl, encoding="utf-8")
        print(f"Wrote {path}")
        return 0
    if not path.exists() or path.read_text(encoding="utf-8") != sdl:
        print(f"{path} is out of date: run `hub schema export`", file=sys.stderr)
        return 1
    print(f"{path} matches the code")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the GraphQL API (uvicorn)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--log-level", default="info")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("schema", help="export or check schema.graphql")
    p.add_argument("action", choices=["export", "check"])
    p.add_argument("--file", default=str(SCHEMA_FILE))
    p.set_defaults(func=cmd_schema)
