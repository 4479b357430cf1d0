"""Change records of the audit trail."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry


@strawberry.enum(description="What a write did to a node.")
class ChangeOp(Enum):
    CREATE = "create"
    UPDATE = "update"
    RETIRE = "retire"
    RESTORE = "restore"
    SAVE = "save"  # a network plan saved (created or its draft replaced)
    # workflow steps (graph/public_services): applications, expert review, retention
    TAKE = "take"
    ACCEPT = "accept"
    COMPLETE = "complete"
    DECLINE = "decline"
    PURGE = "purge"
    ASSIGN = "assign"
    REVIEW = "review"
    APPROVED = "approved"
    RETURNED = "returned"


@strawberry.type(description="One field of a change: value before and after, as JSON text.")
class FieldChange:
    field: str = strawberry.field(description="Property name as stored.")
    before: str | None = strawberry.field(description="JSON text; null when created.")
    after: str | None = strawberry.field(description="JSON text.")


@strawberry.type(description="Who changed which node, when and how (written in the same "
                             "transaction as the change).")
class Change:
    id: strawberry.ID = strawberry.field(description="Identifier of the record.")
    at: dt.datetime = strawberry.field(description="Time of the write (UTC).")
    actor: str = strawberry.field(description="Account name (`system` for unattended loads).")
    source: str = strawberry.field(description="Front door: graphql, load:<file>, api.")
    label: str = strawberry.field(description="Node label, e.g. Equipment.")
    uid: str = strawberry.field(description="Natural key of the node.")
    op: ChangeOp = strawberry.field(description="create, update or retire.")
    fields: list[FieldChange] = strawberry.field(description="Changed fields, before → after.")
    version: int | None = strawberry.field(
        default=None, description="The node's version after this change (orders a node's "
                                  "changes as committed); null for changes of older sets.")


@strawberry.input(description="Which changes to list; all given conditions must hold.")
class ChangeFilter:
    actor: str | None = strawberry.field(default=None, description="Account name.")
    label: str | None = strawberry.field(default=None, description="Node label.")
    uid: str | None = strawberry.field(default=None, description="Natural key of the node.")
    op: ChangeOp | None = strawberry.field(default=None, description="Kind of write.")
    source: str | None = strawberry.field(default=None, description="Front door.")
    since: dt.datetime | None = strawberry.field(default=None, description="At or after.")
    until: dt.datetime | None = strawberry.field(default=None, description="Before.")
