"""`importRegistryFile(registry, file, dryRun, partial, set)`: a registry file (CSV, XLSX,
JSON, JSONL) uploaded with the GraphQL multipart request spec, loaded by the same path as
`hub load` with the caller's rights and audit. Answers with the report when the import ends
within a few seconds, else with a running job to follow with `importJob(id)`."""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Any

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from graph.registry import REGISTRIES
from schema.core.access import requires
from schema.core.errors import api_error
from schema.imports import jobs
from schema.registry.mutations import principal_of

WAIT_SECONDS = 5.0  # the mutation answers with the report if the import ends by then
SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".json", ".jsonl", ".ndjson")


@strawberry.enum(description="State of an import job.")
class ImportJobStatus(Enum):
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


@strawberry.type(description="A rejected row: file row, column as written, value, why.")
class ImportRowError:
    row: int
    column: str
    field: str
    value: str | None
    message: str


@strawberry.type(description="A row left out on purpose (a totals row «Итого»).")
class ImportSkippedRow:
    row: int
    reason: str


@strawberry.type(description="What an import read, checked and wrote (as `hub load --json`).")
class ImportReport:
    registry: str
    read: int
    records: int
    valid: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    restored: int
    written: bool
    dry_run: bool
    partial: bool
    header_row: int | None
    errors_total: int
    errors: list[ImportRowError]
    skipped: list[ImportSkippedRow]
    ignored_columns: list[str]


@strawberry.type(description="An import of an uploaded file: progress, then its report.")
class ImportJob:
    id: strawberry.ID
    registry: str
    filename: str
    status: ImportJobStatus
    rows_read: int
    rows_validated: int
    rows_written: int
    message: str | None = strawberry.field(description="Why the file was refused as a whole.")
    report: ImportReport | None


@strawberry.input(description="A value for every row where its cell is empty (`--set`).")
class ImportConstant:
    field: str
    value: str


def _value(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, list):
        return "; ".join(str(x) for x in v)
    return str(v)


def job_type(job: jobs.Job) -> ImportJob:
    report = None
    r = job.report
    if r is not None and job.status == "DONE":
        report = ImportReport(
            registry=r.registry, read=r.read, records=r.records, valid=r.valid,
            created=r.created, updated=r.updated, unchanged=r.unchanged, rejected=r.rejected,
            restored=r.restored, written=r.written, dry_run=r.dry_run, partial=r.partial,
            header_row=r.header_row, errors_total=max(r.errors_total, len(r.errors)),
            errors=[ImportRowError(row=e.row, column=e.column, field=e.field,
                                   value=_value(e.value), message=e.message)
                    for e in r.errors[:1000]],
            skipped=[ImportSkippedRow(row=row, reason=why) for row, why in r.skipped],
            ignored_columns=list(r.ignored_columns))
    return ImportJob(id=strawberry.ID(job.id), registry=job.registry, filename=job.filename,
                     status=ImportJobStatus(job.status), rows_read=job.rows_read,
                     rows_validated=job.rows_validated, rows_written=job.rows_written,
                     message=job.message, report=report)


async def _save(upload: Any, target: Any, limit: int) -> int:
    size = 0
    with target.open("wb") as fh:
        while True:
            chunk = await upload.read(1 << 20)
            if not chunk:
                return size
            size += len(chunk)
            if size > limit:
                raise api_error(f"файл больше допустимого ({limit // 1_000_000} МБ): "
                                "разбейте его на части", "BAD_ARGUMENT")
            fh.write(chunk)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        metadata=requires("write"),
        description="Load an uploaded registry file (CSV, XLSX, JSON, JSONL) as `hub load` "
        "does, with the caller's rights and audit. Returns the finished job with its report, "
        "or a running job to follow with importJob(id).")
    async def import_registry_file(self, info: Info, registry: str, file: Upload,
                                   dry_run: bool = False, partial: bool = False,
                                   set: list[ImportConstant] | None = None,
                                   header_row: int | None = None,
                                   restore: bool = False) -> ImportJob:
        from hub.settings import get_settings

        principal = principal_of(info)
        if registry not in REGISTRIES:
            raise api_error(f"неизвестный реестр «{registry}»; допустимо: "
                            f"{', '.join(REGISTRIES)}", "BAD_ARGUMENT")
        filename = jobs.safe_name(getattr(file, "filename", None) or "file")
        if not filename.lower().endswith(SUFFIXES):
            raise api_error("файл должен быть таблицей CSV, книгой Excel (.xlsx) или JSON",
                            "BAD_ARGUMENT")
        workdir = jobs.workdir()
        path = workdir / filename
        try:
            await _save(file, path, get_settings().upload_max_bytes)
        except Exception:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
            raise
        options = {"dry_run": dry_run, "partial": partial, "header_row": header_row,
                   "restore": restore,
                   "constants": {c.field: c.value for c in (set or [])}}
        job = jobs.start(registry, path, workdir, filename, principal, options)
        await asyncio.to_thread(job.done.wait, WAIT_SECONDS)
        return job_type(job)


@strawberry.type
class Query:
    @strawberry.field(metadata=requires("write"),
                      description="An import job of the caller: progress and, at the end, "
                      "its report (admins see every job).")
    def import_job(self, info: Info, id: strawberry.ID) -> ImportJob | None:
        principal = principal_of(info)
        job = jobs.get(str(id))
        if job is None or (job.account != principal.name and principal.role != "admin"):
            return None
        return job_type(job)
