"""Input types generated from the graph's pydantic models (one source of truth for fields).

GraphQL checks shapes and enums; everything else (checksums, ranges, references, duplicates)
is checked by `graph.ingest` and comes back as typed FieldErrors in the payload.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin

import strawberry
from pydantic import BaseModel
from strawberry.types.unset import UNSET

from graph import models as m
from graph.declare import Registry
from graph.registry import REGISTRIES
from schema.core import enums as _enums

_NESTED: dict[type, type] = {}


def _graphql_type(annotation: Any, docs: Mapping[str, str]) -> Any:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _graphql_type(get_args(annotation)[0], docs)
    if origin in (Union, types.UnionType):
        return _graphql_type(next(a for a in get_args(annotation) if a is not type(None)), docs)
    if origin in (tuple, list):
        return list[_graphql_type(get_args(annotation)[0], docs)]  # type: ignore[misc]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation not in _NESTED:
            _NESTED[annotation] = input_type(annotation, f"{annotation.__name__}Input", docs)
        return _NESTED[annotation]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _enums.ensure_enum(annotation)
    if isinstance(annotation, type) and issubclass(annotation, str | int | float | bool):
        return annotation
    if annotation is dt.date:
        return dt.date
    raise TypeError(f"no GraphQL input type for {annotation!r}")


def input_type(model: type[BaseModel], name: str, docs: Mapping[str, str], *,
               patch: bool = False) -> type:
    """A GraphQL input of `model`'s fields (described by `docs`); a patch has every field
    optional and no keys."""
    keys = set(getattr(model, "KEY_FIELDS", ())) if patch else set()
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations, "__module__": __name__}
    required = []
    for fname, info in model.model_fields.items():
        if fname in keys:
            continue
        typ = _graphql_type(info.annotation, docs)
        if info.is_required() and not patch:
            required.append(fname)
            annotations[fname] = typ
            namespace[fname] = strawberry.field(description=docs.get(fname, fname))
        else:
            annotations[fname] = typ | None
            namespace[fname] = strawberry.field(default=UNSET, description=docs.get(fname, fname))
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


def field_docs(registry: Registry) -> dict[str, str]:
    """Descriptions of a registry's fields and of its nested items' fields, as declared."""
    api = registry.api
    docs = {k: o.doc for k, o in (api.item[1].fields.items() if api.item else ())}
    return {**docs, **{k: o.doc for k, o in api.node.fields.items()}}


# registry → (model, GraphQL type name: the graph label): those with generic mutations (the
# roadmap is written through its own).
WRITABLE: dict[str, tuple[type[m.Node], str]] = {
    name: (r.model, r.label) for name, r in REGISTRIES.items() if r.write is not None  # type: ignore[misc]
}

INPUTS: dict[str, type] = {
    r: input_type(model, f"{name}Input", field_docs(REGISTRIES[r]))
    for r, (model, name) in WRITABLE.items()}
PATCHES: dict[str, type] = {
    r: input_type(model, f"{name}Patch", field_docs(REGISTRIES[r]), patch=True)
    for r, (model, name) in WRITABLE.items()}
