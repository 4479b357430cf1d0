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
