"""Pages the hub serves to browsers, all from this repository (closed networks: nothing a
user's browser loads may come from the internet).

- `/` — the reference situational-centre page (`hub/static/centre/`, plain JS + SVG, no build
  step); it reads only through the public GraphQL API with named operations.
- `/graphql` in a browser — our own GraphiQL page (`hub/static/graphiql/`) over the vendored,
  pinned GraphiQL, React and explorer plugin (`hub/static/vendor/refresh.sh`); off when
  `HUB_PRODUCTION=true`.
- `/static/…` — those files.

Every page carries a Content-Security-Policy allowing only this origin, so a reference to
another host would not load even if one slipped in (tests/test_static_pages.py also scans).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

STATIC_DIR = Path(__file__).resolve().parent / "static"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'self'; object-src 'none'")

PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@lru_cache
def page_html(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def html_page(name: str) -> HTMLResponse:
    return HTMLResponse(page_html(name), headers=PAGE_HEADERS)


def graphiql_html() -> str:
    """Our GraphiQL page (replaces Strawberry's template, which loads from a CDN)."""
    return page_html("graphiql/index.html")


async def centre(request: Request) -> Response:
    return html_page("centre/index.html")


class _Static(StaticFiles):
    """Static files with the page headers (CSP, nosniff); vendored files change only with
    the repository, so browsers revalidate (ETag) rather than refetch."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.lower().encode(), v.encode()) for k, v in PAGE_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await super().__call__(scope, receive, with_headers)


def routes() -> list:
    return [
        Route("/", centre, methods=["GET", "HEAD"]),
        Mount("/static", app=_Static(directory=STATIC_DIR), name="static"),
    ]
