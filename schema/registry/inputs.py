"""Input types generated from the graph's pydantic models (one source of truth for fields).

GraphQL checks shapes and enums; everything else (checksums, ranges, references, duplicates)
is checked by `graph.ingest` and comes back as typed FieldErrors in the payload.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin

import strawberry
from pydantic import BaseModel
from strawberry.types.unset import UNSET

from graph import models as m
from graph.registry import LOAD_ORDER, REGISTRIES
from schema.core import enums as _enums  # noqa: F401 - registers the GraphQL enums

# Short English descriptions of model fields (GraphQL names are their camelCase).
DOCS: dict[str, str] = {
    "inn": "ИНН (10 or 12 digits, checksum).", "name": "Name.", "short_name": "Short name.",
    "kind": "Kind.", "ogrn": "ОГРН (checksum).", "region": "Subject code of the region.",
    "municipality": "ОКТМО of the municipality.", "address": "Address.", "website": "Website.",
    "organization": "ИНН of the organization.", "code": "Code.",
    "latitude": "Latitude (WGS 84).", "longitude": "Longitude (WGS 84).",
    "workplaces": "Number of workplaces.", "inventory_number": "Inventory number.",
    "type": "Type.", "site": "Site code within the organization.", "quantity": "Quantity.",
    "status": "Status.", "year": "Year of manufacture or purchase.",
    "personnel_number": "Personnel number.", "full_name": "Full name.", "role": "Role.",
    "position": "Position.", "qualifications": "Qualifications (replace the whole list).",
    "competency": "Competency code.", "expert_status": "Expert status.",
    "valid_until": "Valid until.", "hours": "Hours.", "format": "Form of study.",
    "network": "Run in network form (273-ФЗ art. 15).",
    "competencies": "Competency codes.", "description": "Description.",
    "approved_on": "Approval date.", "program": "Program code.",
    "number": "Number within the program.", "requirements": "Equipment requirements.",
    "min_staff": "Minimum staff.", "equipment_type": "Equipment type code.",
    "scope": "Per workplace or per group.",
}

_NESTED: dict[type, type] = {}


def _graphql_type(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _graphql_type(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return _graphql_type(next(a for a in get_args(annotation) if a is not type(None)))
    if origin in (tuple, list):
        return list[_graphql_type(get_args(annotation)[0])]  # type: ignore[misc]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation not in _NESTED:
            _NESTED[annotation] = input_type(annotation, f"{annotation.__name__}Input")
        return _NESTED[annotation]
    if isinstance(annotation, type) and issubclass(annotation, Enum | str | int | float | bool):
        return annotation
    if annotation is dt.date:
        return dt.date
    raise TypeError(f"no GraphQL input type for {annotation!r}")


def input_type(model: type[BaseModel], name: str, *, patch: bool = False) -> type:
    """A GraphQL input of `model`'s fields; a patch has every field optional and no keys."""
    keys = set(getattr(model, "KEY_FIELDS", ())) if patch else set()
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations, "__module__": __name__}
    required = []
    for fname, info in model.model_fields.items():
        if fname in keys:
            continue
        typ = _graphql_type(info.annotation)
        if info.is_required() and not patch:
            required.append(fname)
            annotations[fname] = typ
            namespace[fname] = strawberry.field(description=DOCS.get(fname, fname))
        else:
            annotations[fname] = typ | None
            namespace[fname] = strawberry.field(default=UNSET, description=DOCS.get(fname, fname))
    # dataclass fields without defaults must come first
    order = required + [f for f in annotations if f not in required]
    namespace["__annotations__"] = {f: annotations[f] for f in order}
    what = "Changes to" if patch else "Fields of"
    return strawberry.input(type(name, (), namespace),
                            description=f"{what} a {model.__name__} (unset fields untouched).")


def to_row(obj: Any, *, patch: bool = False) -> dict[str, Any]:
    """An input object → a raw row for `graph.ingest.prepare` (unset fields left out;
    null clears a field in a patch and is left out of a create)."""
    row: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if value is UNSET or (value is None and not patch):
            continue
        row[f.name] = _plain(value)
    return row


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value):
        return to_row(value)
    return value


# The roadmap is made from the federal template (`hub roadmap init`) and written through its
# own mutations (status, targets, control points); every other registry is written here.
ROADMAP = frozenset({"roadmap_activities", "control_points", "indicator_slots"})

# registry → (model, GraphQL type name: the graph label)
WRITABLE: dict[str, tuple[type[m.Node], str]] = {
    name: (REGISTRIES[name].model, REGISTRIES[name].label)
    for name in LOAD_ORDER if name not in ROADMAP
}

INPUTS: dict[str, type] = {r: input_type(model, f"{name}Input") for r, (model, name) in WRITABLE.items()}
PATCHES: dict[str, type] = {
    r: input_type(model, f"{name}Patch", patch=True) for r, (model, name) in WRITABLE.items()
}
