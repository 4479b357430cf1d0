"""Messages a clerk can read: the allowed values in the clerk's words (Russian enum labels
joined with «или»), registries by their Russian titles, formats with an example — never a
Python repr or an English code list. Rewrites the generic messages of graph/validation.py and
graph/writes.py for file loads."""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from enum import Enum
from typing import Any

from pydantic import BaseModel

from graph.enums import LabelledEnum
from graph.registry import REGISTRIES, Registry

_BY_LABEL = {r.label: r for r in REGISTRIES.values()}
_MISSING_REF = re.compile(r"^не найдено в реестре: (\w+) с ключом (.*)$")

FORMAT_HINTS = {
    "region": "код региона — две или три цифры (например, 52)",
    "oktmo": "код ОКТМО — 8 или 11 цифр",
    "municipality": "код ОКТМО (8 или 11 цифр) или название муниципального образования",
    "type": "код типа оборудования по каталогу (например, EQ-MF-03) или его наименование из "
            "реестра «Типы оборудования»",
    "equipment_type": "код типа оборудования по каталогу (например, EQ-MF-03) или его "
                      "наименование из реестра «Типы оборудования»",
    "inventory_number": "инвентарный номер без пробелов и двоеточий, до 64 символов",
    "site": "код площадки без пробелов и двоеточий (например, M1)",
    "competency": "код компетенции без пробелов (например, MF-01)",
}
CODE_HINT = "код без пробелов и двоеточий, до 64 символов"


def join_or(items: list[str]) -> str:
    quoted = [f"«{i}»" for i in items]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " или " + quoted[-1]


def _unwrap(ann: Any) -> list[Any]:
    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(ann)[0])
    if origin in (typing.Union, types.UnionType, tuple, list):
        return [a for arg in typing.get_args(ann) for a in _unwrap(arg)]
    return [ann]


def field_type(registry: Registry, path: str) -> Any:
    """The innermost type of a model field path (`qualifications.0.expert_status`)."""
    model: Any = registry.model
    found: Any = None
    for part in path.split("."):
        if part.isdigit() or model is None:
            continue
        info = getattr(model, "model_fields", {}).get(part)
        if info is None:
            return None
        kinds = _unwrap(info.annotation)
        found = next((k for k in kinds if k is not type(None)), None)
        model = found if isinstance(found, type) and issubclass(found, BaseModel) else None
    return found


def enum_labels(enum: type[Enum]) -> list[str]:
    if issubclass(enum, LabelledEnum):
        return [m.label for m in enum]
    return [m.value for m in enum]


def display(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%d.%m.%Y") if not (value.hour or value.minute) \
            else value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def humanize(registry: Registry, field: str, value: Any, message: str) -> str:
    """A message of the validation or write path, in the clerk's words."""
    last = field.split(".")[-1].strip()
    if message.startswith("недопустимое значение"):
        kind = field_type(registry, field)
        if isinstance(kind, type) and issubclass(kind, Enum):
            return f"недопустимое значение; допустимо: {join_or(enum_labels(kind))}"
    if message == "значение не соответствует формату":
        return f"значение не соответствует формату: ожидается " \
               f"{FORMAT_HINTS.get(last, CODE_HINT)}"
    if message == "ожидается целое число" and isinstance(value, str) and \
            re.fullmatch(r"\d{4}-\d{2}-\d{2}T.*", value):
        return f"ожидается целое число, а в ячейке дата {display(dt.datetime.fromisoformat(value))}"
    if message == "слишком длинное значение":
        return "слишком длинное значение: не больше 1000 символов (описание — 20 000)"
    match = _MISSING_REF.match(message)
    if match:
        target = _BY_LABEL.get(match.group(1))
        title = target.title if target else match.group(1)
        key = match.group(2)
        if target is not None and len(target.model.KEY_FIELDS) == 2 and ":" in key:
            owner, code = key.split(":", 1)
            return f"не найдено в реестре «{title}»: «{code}» организации с ИНН {owner}"
        return f"не найдено в реестре «{title}»: «{key}»"
    return message
