"""Imports of uploaded files as jobs: the same loader path as `hub load` (streaming read,
checks by chunks, rights of the caller, audit), run in a worker thread; progress (rows read,
validated, written) and the report are kept in this process for `importJob(id)`."""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.access import Principal

KEEP_SECONDS = 3600  # finished jobs are forgotten after an hour
MAX_JOBS = 200  # per process; the oldest finished ones go first

_jobs: dict[str, Job] = {}
_lock = threading.Lock()
_driver: Any = None


@dataclass
class Job:
    id: str
    registry: str
    filename: str
    account: str
    status: str = "RUNNING"  # RUNNING, DONE, FAILED
    rows_read: int = 0
    rows_validated: int = 0
    rows_written: int = 0
    report: Any = None  # loaders.load.LoadReport
    message: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    done: threading.Event = field(default_factory=threading.Event)


def safe_name(filename: str) -> str:
    name = Path(filename or "file").name
    name = re.sub(r"[^\w.\-]+", "_", name)[:100].lstrip(".") or "file"
    return name


def _sync_driver() -> Any:
    global _driver
    with _lock:
        if _driver is None:
            from hub.db import sync_driver
            from hub.settings import get_settings

            _driver = sync_driver(get_settings())
        return _driver


def _forget_old() -> None:
    now = time.monotonic()
    with _lock:
        done = sorted((j for j in _jobs.values() if j.finished), key=lambda j: j.finished or 0)
        for job in done:
            if now - (job.finished or now) > KEEP_SECONDS or len(_jobs) > MAX_JOBS:
                _jobs.pop(job.id, None)


def get(job_id: str) -> Job | None:
    return _jobs.get(job_id)


def start(registry: str, path: Path, workdir: Path, filename: str, principal: Principal,
          options: dict[str, Any]) -> Job:
    _forget_old()
    job = Job(uuid.uuid4().hex, registry, filename, principal.name)
    with _lock:
        _jobs[job.id] = job

    def counts(read: int, validated: int, written: int) -> None:
        job.rows_read, job.rows_validated, job.rows_written = read, validated, written

    def run() -> None:
        from hub.settings import get_settings
        from loaders.load import TransactionMemoryError, load_source
        from loaders.mapping import MappingError
        from loaders.sources import SourceError

        settings = get_settings()
        try:
            job.report = load_source(
                _sync_driver(), registry, str(path), principal=principal, counts=counts,
                database=settings.neo4j_database, max_rows=settings.load_max_rows, **options)
            job.rows_written = job.report.created + job.report.updated + job.report.unchanged \
                if job.report.written else 0
            job.status = "DONE"
        except (SourceError, MappingError, TransactionMemoryError) as exc:
            job.status, job.message = "FAILED", str(exc)
        except Exception:
            import logging

            logging.getLogger("hub.imports").exception("import job %s failed", job.id)
            job.status = "FAILED"
            job.message = ("загрузка прервана: база данных недоступна или внутренняя ошибка; "
                           "ничего из незавершённой транзакции не записано, повторите загрузку")
        finally:
            job.finished = time.monotonic()
            shutil.rmtree(workdir, ignore_errors=True)
            job.done.set()

    threading.Thread(target=run, name=f"import-{job.id[:8]}", daemon=True).start()
    return job


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="hub-import-"))
