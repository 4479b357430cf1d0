"""Prometheus metrics (`/metrics`) and the access log (one line per request; JSON lines
with HUB_LOG_FORMAT=json).

Metrics of one process, or of all `hub serve --workers N` processes together: `hub serve`
then points PROMETHEUS_MULTIPROC_DIR at a fresh directory and `/metrics` (in any worker)
sums every worker's files (prometheus_client's multiprocess mode).

    hub_graphql_requests_total{operation, outcome}      requests by operation name, outcome
    hub_graphql_request_seconds{operation}              latency histogram
    hub_neo4j_statements_total                          Cypher statements run
    hub_neo4j_transaction_seconds{kind}                 time in Neo4j transactions (read/write)
    hub_neo4j_pool_in_use / hub_neo4j_pool_size         driver connections (sampled per request)
    hub_requests_waiting                                requests waiting for an admission slot
    hub_loader_rows_total{registry, outcome}            rows read / rejected / written by loaders
    hub_subscriptions_open{kind}                        GraphQL subscriptions open
    hub_change_feed_polls_total / _changes_total        ChangeSet poll of this process

Loaders count their rows with `loader_rows(registry, read=…, rejected=…, written=…)`; the CLI
loader (loaders/, another module's file) may call it: a `hub load` process is short-lived, so
its counts reach /metrics only when it runs with PROMETHEUS_MULTIPROC_DIR shared with the server.

Operation names come from clients: they are sanitised and at most MAX_OPERATIONS distinct names
are kept per process (the rest count as `other`), so a client cannot blow up the label set.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MAX_OPERATIONS = 200
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_seen_operations: set[str] = set()
_lock = threading.Lock()

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter("hub_graphql_requests", "GraphQL requests by operation name and outcome",
                   ["operation", "outcome"])
LATENCY = Histogram("hub_graphql_request_seconds", "GraphQL request latency",
                    ["operation"], buckets=LATENCY_BUCKETS)
STATEMENTS = Counter("hub_neo4j_statements", "Cypher statements run")
TX_SECONDS = Histogram("hub_neo4j_transaction_seconds", "Time in Neo4j transactions",
                       ["kind"], buckets=LATENCY_BUCKETS)
POOL_IN_USE = Gauge("hub_neo4j_pool_in_use", "Neo4j driver connections in use",
                    multiprocess_mode="livesum")
POOL_SIZE = Gauge("hub_neo4j_pool_size", "Neo4j driver connections open",
                  multiprocess_mode="livesum")
WAITING = Gauge("hub_requests_waiting", "Requests waiting for an admission slot",
                multiprocess_mode="livesum")
LOADER_ROWS = Counter("hub_loader_rows", "Rows handled by loaders", ["registry", "outcome"])
SUBSCRIPTIONS = Gauge("hub_subscriptions_open", "GraphQL subscriptions open", ["kind"],
                      multiprocess_mode="livesum")
FEED_POLLS = Counter("hub_change_feed_polls", "ChangeSet polls of this process")
FEED_CHANGES = Counter("hub_change_feed_changes", "ChangeSets seen by the change feed")


def operation_label(name: str | None) -> str:
    if not name:
        return "anonymous"
    if not _NAME.match(name):
        return "invalid"
    with _lock:
        if name in _seen_operations:
            return name
        if len(_seen_operations) >= MAX_OPERATIONS:
            return "other"
        _seen_operations.add(name)
    return name


def operation_name(name: str | None) -> str | None:
    """The operation name as logged: the client's when it is a GraphQL name, else a mark."""
    if not name:
        return None
    return name if _NAME.match(name) else "invalid"


def loader_rows(registry: str, *, read: int = 0, rejected: int = 0, written: int = 0) -> None:
    """Count a loader's rows (call once per file or batch)."""
    for outcome, n in (("read", read), ("rejected", rejected), ("written", written)):
        if n:
            LOADER_ROWS.labels(registry, outcome).inc(n)


def sample_pool(driver: Any) -> None:
    """Connections in use / open in the driver's pool (private driver state: best effort)."""
    try:
        pool = driver._pool
        connections = [c for conns in list(pool.connections.values()) for c in list(conns)]
    except Exception:  # noqa: BLE001 - another driver version: no pool figures
        return
    POOL_SIZE.set(len(connections))
    POOL_IN_USE.set(sum(1 for c in connections if getattr(c, "in_use", False)))


def exposition() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def mark_worker_dead(pid: int) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)


# ---------------------------------------------------------------- schema hook


def _observe_transaction(kind: str, seconds: float) -> None:
    TX_SECONDS.labels(kind).observe(seconds)


def install() -> None:
    """Count Neo4j transactions of every HubContext (idempotent)."""
    from schema.core.context import TRANSACTION_LISTENERS

    if _observe_transaction not in TRANSACTION_LISTENERS:
        TRANSACTION_LISTENERS.append(_observe_transaction)


def operation_recorder() -> type:
    """A schema extension leaving the operation name and outcome (ok, or the first error's
    code) in the request's HubContext, for the access log and the metrics."""
    from strawberry.extensions import SchemaExtension

    class OperationRecorder(SchemaExtension):
        def on_operation(self):  # type: ignore[no-untyped-def]
            yield
            ec = self.execution_context
            ctx = ec.context
            if not hasattr(ctx, "outcome"):
                return
            try:
                ctx.operation = ec.operation_name
            except Exception:  # noqa: BLE001 - an unparsable document has no operation
                ctx.operation = None
            result_errors = list(ec.result.errors or []) if ec.result is not None else []
            errors = result_errors or list(ec.pre_execution_errors or [])
            if not errors:
                ctx.outcome = "ok"
                return
            first = errors[0]
            code = ((getattr(first, "extensions", None) or {}).get("code")
                    or (getattr(getattr(first, "original_error", None), "extensions", None)
                        or {}).get("code"))
            ctx.outcome = str(code) if code else (
                "error" if result_errors else "invalid_query")

    return OperationRecorder


# ---------------------------------------------------------------- access log

access_log = logging.getLogger("hub.access")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                    + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "logger": record.name, "pid": record.process,
        }
        fields = getattr(record, "fields", None)
        if fields:
            entry.update(fields)
        else:
            entry["message"] = record.getMessage()
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(log_format: str, level: str = "info") -> dict[str, Any]:
    """The logging of `hub serve` as a dictConfig for uvicorn (applied in every worker):
    everything on stderr, as text or as JSON lines; uvicorn's own access log is off (the
    hub's `hub.access` line per request has more: request id, account, operation…)."""
    formatter = ({"()": "hub.metrics.JsonFormatter"} if log_format == "json" else
                 {"format": "%(asctime)s %(levelname)s %(name)s [%(process)d]: %(message)s"})
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"hub": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "hub",
                                "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {"uvicorn": {"level": level.upper(), "handlers": [], "propagate": True},
                    "uvicorn.error": {"level": level.upper(), "handlers": [],
                                      "propagate": True},
                    "uvicorn.access": {"level": "WARNING", "handlers": [],
                                       "propagate": False}},
    }


def log_request(fields: dict[str, Any]) -> None:
    text = " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
    access_log.info(text, extra={"fields": fields})
