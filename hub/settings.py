"""Hub settings from the environment (HUB_*) and `.env`."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", env_file=".env", extra="ignore")

    # An external server (bolt://, neo4j://, neo4j+s://...). Empty: the local runtime.
    neo4j_uri: str = ""
    neo4j_user: str = "neo4j"
    neo4j_password: str = ""
    neo4j_database: str = "neo4j"

    # Local runtime (hub neo4j start|stop|status)
    neo4j_version: str = "5.26.30"
    neo4j_home: Path = PROJECT_ROOT / "var" / "neo4j"
    neo4j_cache: Path = Path.home() / ".cache" / "regional-hub" / "neo4j"
    neo4j_port: int = 7687
    neo4j_heap: str = "1g"
    neo4j_pagecache: str = "512m"
    # More neo4j.conf lines for the local runtime, separated by ';' (`./dev test` sets some)
    neo4j_config: str = ""
    neo4j_auth: bool = False
    neo4j_start_timeout: float = 120.0

    database_url: str = Field(default="", description="Hub ledger; SQLite under var/ when empty")
    production: bool = False

    # GraphQL limits (see schema/hardening.py)
    graphql_max_depth: int = 12
    graphql_max_tokens: int = 2000
    graphql_max_aliases: int = 30
    graphql_max_cost: int = 200000
    graphql_max_page: int = 100
    graphql_max_operations: int = 10
    graphql_cache_size: int = 512
    max_body_bytes: int = 5_000_000
    request_timeout: float = 30.0
    anonymous_catalog: bool = True
    # A computed situational-centre dashboard is shared for this many seconds (0: never).
    dashboard_ttl: float = 5.0
    # `hub load`: most records of one file written as one transaction (else --batch-rows N).
    load_max_rows: int = 50_000
    # Files as clerks make them (loaders/README.md): longest cell, XLSX parts refused before
    # parsing above this uncompressed size or compression ratio, largest upload (bytes)
    load_max_cell_chars: int = 100_000
    load_xlsx_max_part_bytes: int = 256 * 1024 * 1024
    load_xlsx_max_ratio: int = 200
    upload_max_bytes: int = 20_000_000
    # Overload: GraphQL requests executing at once per process, how long one more waits for
    # a slot before DATABASE_BUSY (503 + Retry-After), and the Neo4j connection pool
    max_in_flight: int = 32
    busy_wait: float = 0.5
    retry_after: int = 1
    neo4j_pool_size: int = 50
    neo4j_acquisition_timeout: float = 1.0
    # How long a transaction is retried on a transient Neo4j error (seconds)
    neo4j_retry_time: float = 5.0
    # Slow clients (hub serve): request headers must arrive within header_timeout seconds,
    # a request body within body_timeout seconds, else the connection is closed
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    # Access log: "text" or "json" (one JSON line per request)
    log_format: str = "text"
    # Live updates: ChangeSet poll interval (s), per-connection and per-token subscriptions,
    # how long a burst of writes settles before a dashboard is re-sent (s)
    change_poll_interval: float = 0.5
    subscriptions_per_connection: int = 10
    subscriptions_per_token: int = 20
    live_debounce: float = 0.3
    # Public services (graph/public_services, schema/public/ratelimit.py): anonymous
    # submissions per client address (burst, then per minute) and per contact (burst, then
    # per hour), per process; the header a trusted proxy puts the client address in (empty:
    # the socket peer); personal data of declined applications is removed after
    # application_retention_days, open ones untouched for application_stale_days are
    # declined as stale and purged (`graph.public_services.applications.purge_plan`)
    public_address_burst: int = 10
    public_address_per_minute: float = 6.0
    public_contact_burst: int = 3
    public_contact_per_hour: float = 3.0
    public_client_header: str = ""
    application_retention_days: int = 180
    application_stale_days: int = 90

    @property
    def bolt_uri(self) -> str:
        return self.neo4j_uri or f"bolt://127.0.0.1:{self.neo4j_port}"

    @property
    def neo4j_auth_tuple(self) -> tuple[str, str] | None:
        if self.neo4j_uri or self.neo4j_auth:
            return (self.neo4j_user, self.neo4j_password)
        return None

    @property
    def ledger_url(self) -> str:
        return self.database_url or f"sqlite:///{PROJECT_ROOT / 'var' / 'ledger.sqlite'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
