"""Create / update / retire mutations of the writable registries, single and bulk.

Every write is one managed transaction through `graph.ingest` (validate → check references
→ MERGE), so it is idempotent and safe for the driver to retry. Invalid input comes back as
FieldErrors in the payload and nothing is written (a bulk list is all-or-nothing).
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from graph.access import Principal
from graph.ingest import (
    IngestReport,
    ingest_async,
    patch_async,
    prepare,
    retire_async,
)
from graph.registry import REGISTRIES
from graph.validation import RowError
from graph.writes import fetch_cypher
from schema.core.access import requires
from schema.core.errors import FieldError, api_error, field_error
from schema.core.ids import decode_id
from schema.core.node import NODE_TYPES, context, wrap
from schema.registry import types as _types  # noqa: F401 - registers the node types
from schema.registry.inputs import INPUTS, PATCHES, WRITABLE, to_row

T = TypeVar("T")
MAX_BULK = 5000


@strawberry.enum(description="What a write did to a node.")
class WriteStatus(Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    UNCHANGED = "UNCHANGED"
    RETIRED = "RETIRED"
    RESTORED = "RESTORED"


@strawberry.type(description="Result of a single write: the node, or why it was refused.")
class Payload(Generic[T]):
    node: T | None = strawberry.field(description="The node after the write.")
    status: WriteStatus | None = strawberry.field(description="What happened; null if refused.")
    changed_fields: list[str] = strawberry.field(description="Fields the write changed.")
    errors: list[FieldError] = strawberry.field(description="Why the input was refused.")


@strawberry.type(description="Result of a bulk write (one transaction, all or nothing).")
class BulkPayload(Generic[T]):
    nodes: list[T] = strawberry.field(description="The nodes after the write, in input order.")
    written: bool = strawberry.field(description="False when anything was refused.")
    created: int = strawberry.field(description="Nodes created.")
    updated: int = strawberry.field(description="Nodes changed.")
    unchanged: int = strawberry.field(description="Nodes already as given.")
    errors: list[FieldError] = strawberry.field(description="Errors per item and field.")


async def _fetch(tx: Any, registry: str, uids: list[str]) -> dict[str, dict[str, Any]]:
    cursor = await tx.run(fetch_cypher(REGISTRIES[registry]), uids=uids)
    return {r["uid"]: r["props"] async for r in cursor}


def principal_of(info: Info) -> Principal:
    """The caller of a write; AccessPolicy has already refused anonymous writes."""
    principal = context(info).principal
    if principal is None:
        raise api_error("Требуется токен доступа (Authorization: Bearer …).", "UNAUTHENTICATED")
    return principal


async def _ingest(tx: Any, registry: str, rows: list[dict[str, Any]], *, first_row: int,
                  principal: Principal) -> tuple[IngestReport, list[dict[str, Any]]]:
    prepared = prepare(REGISTRIES[registry], rows, first_row=first_row)
    report = await ingest_async(tx, prepared, principal=principal, source="graphql")
    if not report.written:
        return report, []
    uids = [node.uid for _, node in prepared.valid]
    found = await _fetch(tx, registry, uids)
    return report, [found[u] for u in uids]


def _status(report: IngestReport) -> WriteStatus:
    if report.created:
        return WriteStatus.CREATED
    return WriteStatus.UPDATED if report.updated else WriteStatus.UNCHANGED


def _changed(report: IngestReport) -> list[str]:
    fields = report.changes[0]["fields"] if report.changes else []
    return sorted(to_camel_case(f) for f in fields)


def _single(registry: str, report: IngestReport, props: list[dict[str, Any]]) -> Payload:
    label = REGISTRIES[registry].label
    if not report.written:
        return Payload(node=None, status=None, changed_fields=[],
                       errors=[field_error(e, bulk=False) for e in report.errors])
    return Payload(node=wrap(label, props[0]), status=_status(report),
                   changed_fields=_changed(report), errors=[])


def _uid_of(registry: str, global_id: str) -> str:
    label, uid = decode_id(global_id)
    if label != REGISTRIES[registry].label:
        raise api_error(f"Идентификатор относится к {label}, а не к "
                        f"{REGISTRIES[registry].label}", "BAD_ID")
    return uid


def _not_found(global_id: str) -> FieldError:
    return field_error(RowError(0, "id", global_id, "запись не найдена"), bulk=False)


async def create(info: Info, registry: str, row: dict[str, Any]) -> Payload:
    principal = principal_of(info)
    report, props = await context(info).write(
        lambda tx: _ingest(tx, registry, [row], first_row=1, principal=principal))
    return _single(registry, report, props)


async def bulk_create(info: Info, registry: str, rows: list[dict[str, Any]]) -> BulkPayload:
    if len(rows) > MAX_BULK:
        raise api_error(f"не больше {MAX_BULK} записей за один вызов", "BAD_ARGUMENT")
    principal = principal_of(info)
    report, props = await context(info).write(
        lambda tx: _ingest(tx, registry, rows, first_row=0, principal=principal))
    label = REGISTRIES[registry].label
    return BulkPayload(nodes=[wrap(label, p) for p in props], written=report.written,
                       created=report.created, updated=report.updated,
                       unchanged=report.unchanged,
                       errors=[field_error(e, bulk=True) for e in report.errors])


async def update(info: Info, registry: str, global_id: str, patch: dict[str, Any],
                 expected_version: int | None = None) -> Payload:
    """Patch: only the named fields are written, under the record's lock (graph.ingest)."""
    uid = _uid_of(registry, global_id)
    reg = REGISTRIES[registry]
    principal = principal_of(info)

    async def work(tx: Any) -> Payload:
        report = await patch_async(tx, reg, uid, patch, principal=principal, source="graphql",
                                   expected_version=expected_version)
        if report is None:
            return Payload(node=None, status=None, changed_fields=[],
                           errors=[_not_found(global_id)])
        props = list((await _fetch(tx, registry, [uid])).values()) if report.written else []
        return _single(registry, report, props)

    return await context(info).write(work)


async def retire(info: Info, registry: str, global_ids: list[str], restore: bool = False
                 ) -> tuple[list[dict[str, Any]], list[RowError]]:
    """Retire (or restore) all or nothing; the nodes after the write, or the errors per
    position."""
    uids = [_uid_of(registry, g) for g in global_ids]
    reg = REGISTRIES[registry]
    principal = principal_of(info)

    async def work(tx: Any) -> tuple[list[dict[str, Any]], list[RowError]]:
        report = await retire_async(tx, reg, uids, principal=principal, source="graphql",
                                    restore=restore)
        if not report.written:
            return [], [_with_global_id(e, global_ids) for e in report.errors]
        found = await _fetch(tx, registry, uids)
        return [found[u] for u in uids], []

    return await context(info).write(work)


def _with_global_id(err: RowError, global_ids: list[str]) -> RowError:
    """Errors about the key name the ID the caller sent, not the internal natural key."""
    value = global_ids[err.row] if err.field == "id" else err.value
    return RowError(err.row, err.field, value, err.message)


def _mutations(registry: str) -> dict[str, Any]:
    model, name = WRITABLE[registry]
    write = requires(REGISTRIES[registry].write or "write")
    node_cls = NODE_TYPES[model.LABEL]
    input_cls, patch_cls = INPUTS[registry], PATCHES[registry]
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
    ids = Annotated[list[strawberry.ID], strawberry.argument(description="Global IDs.")]
    gid = Annotated[strawberry.ID, strawberry.argument(description="Global ID.")]

    async def create_one(info: Info, input: Any) -> Any:
        return await create(info, registry, to_row(input))

    async def create_many(info: Info, input: Any) -> Any:
        return await bulk_create(info, registry, [to_row(i) for i in input])

    async def update_one(info: Info, id: Any, patch: Any,
                         expected_version: int | None = None) -> Any:
        return await update(info, registry, id, to_row(patch, patch=True), expected_version)

    async def retire_one(info: Info, id: Any) -> Any:
        return await _retire_one(info, id, restore=False)

    async def retire_many(info: Info, ids: Any) -> Any:
        return await _retire_many(info, ids, restore=False)

    async def restore_one(info: Info, id: Any) -> Any:
        return await _retire_one(info, id, restore=True)

    async def restore_many(info: Info, ids: Any) -> Any:
        return await _retire_many(info, ids, restore=True)

    async def _retire_one(info: Info, id: Any, *, restore: bool) -> Any:
        props, errors = await retire(info, registry, [id], restore)
        if errors:
            return Payload(node=None, status=None, changed_fields=[],
                           errors=[field_error(e, bulk=False) for e in errors])
        return Payload(node=wrap(model.LABEL, props[0]),
                       status=WriteStatus.RESTORED if restore else WriteStatus.RETIRED,
                       changed_fields=["retiredAt"], errors=[])

    async def _retire_many(info: Info, ids: Any, *, restore: bool) -> Any:
        if len(ids) > MAX_BULK:
            raise api_error(f"не больше {MAX_BULK} записей за один вызов", "BAD_ARGUMENT")
        props, errors = await retire(info, registry, ids, restore)
        return BulkPayload(nodes=[wrap(model.LABEL, p) for p in props], written=not errors,
                           created=0, updated=len(props), unchanged=0,
                           errors=[field_error(e, bulk=True) for e in errors])

    one = Annotated[input_cls, strawberry.argument(description="The record.")]  # type: ignore[valid-type]
    many = Annotated[list[input_cls], strawberry.argument(  # type: ignore[valid-type]
        description=f"The records (at most {MAX_BULK}).")]
    changes = Annotated[patch_cls, strawberry.argument(  # type: ignore[valid-type]
        description="Fields to change; null clears an optional field.")]
    create_one.__annotations__ = {"info": Info, "input": one, "return": Payload[node_cls]}  # type: ignore[valid-type]
    create_many.__annotations__ = {"info": Info, "input": many,
                                   "return": BulkPayload[node_cls]}  # type: ignore[valid-type]
    version = Annotated[int | None, strawberry.argument(
        description="Write only if the stored version is this one (else CONFLICT): the "
                    "node's `version` as the editor read it.")]
    update_one.__annotations__ = {"info": Info, "id": gid, "patch": changes,
                                  "expected_version": version, "return": Payload[node_cls]}  # type: ignore[valid-type]
    retire_one.__annotations__ = {"info": Info, "id": gid, "return": Payload[node_cls]}  # type: ignore[valid-type]
    retire_many.__annotations__ = {"info": Info, "ids": ids, "return": BulkPayload[node_cls]}  # type: ignore[valid-type]
    restore_one.__annotations__ = {"info": Info, "id": gid, "return": Payload[node_cls]}  # type: ignore[valid-type]
    restore_many.__annotations__ = {"info": Info, "ids": ids, "return": BulkPayload[node_cls]}  # type: ignore[valid-type]
    return {
        f"create_{snake}": strawberry.mutation(
            resolver=create_one, metadata=write,
            description=f"Register one {name}: created, or updated when its natural key exists "
                        "(idempotent)."),
        f"bulk_create_{snake}": strawberry.mutation(
            resolver=create_many, metadata=write,
            description=f"Register many {name} items in one transaction (all or nothing)."),
        f"update_{snake}": strawberry.mutation(
            resolver=update_one, metadata=write, description=f"Change fields of one {name} (patch)."),
        f"retire_{snake}": strawberry.mutation(
            resolver=retire_one, metadata=write, description=f"Retire one {name}: kept, hidden from default lists."),
        f"bulk_retire_{snake}": strawberry.mutation(
            resolver=retire_many, metadata=write,
            description=f"Retire many {name} items (all or nothing)."),
        f"restore_{snake}": strawberry.mutation(
            resolver=restore_one, metadata=write,
            description=f"Bring a retired {name} back, as it was retired (audited)."),
        f"bulk_restore_{snake}": strawberry.mutation(
            resolver=restore_many, metadata=write,
            description=f"Bring many retired {name} items back (all or nothing)."),
    }


Mutation = strawberry.type(
    type("RegistryMutation", (), {
        "__module__": __name__,
        **{k: v for registry in WRITABLE for k, v in _mutations(registry).items()},
    }),
    description="Writes of the registries.",
)
