"""Raw rows → validated models, with errors that say row, field, value and why (in Russian)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from graph import models as m
from graph.registry import Registry


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based position in the source (file row or list item)
    field: str
    value: Any
    message: str

    def __str__(self) -> str:
        return f"строка {self.row}, поле «{self.field}», значение {self.value!r}: {self.message}"


_MESSAGES = {
    "missing": "обязательное поле не заполнено",
    "extra_forbidden": "неизвестное поле",
    "int_parsing": "ожидается целое число",
    "int_from_float": "ожидается целое число",
    "int_type": "ожидается целое число",
    "float_parsing": "ожидается число",
    "float_type": "ожидается число",
    "bool_parsing": "ожидается да/нет",
    "bool_type": "ожидается да/нет",
    "date_from_datetime_parsing": "ожидается дата (ГГГГ-ММ-ДД или ДД.ММ.ГГГГ)",
    "date_parsing": "ожидается дата (ГГГГ-ММ-ДД или ДД.ММ.ГГГГ)",
    "date_type": "ожидается дата (ГГГГ-ММ-ДД или ДД.ММ.ГГГГ)",
    "string_type": "ожидается текст",
    "string_too_short": "значение не может быть пустым",
    "string_too_long": "слишком длинное значение",
    "enum": "недопустимое значение",
    "tuple_type": "ожидается список",
    "list_type": "ожидается список",
    "too_short": "список не может быть пустым",
}


def _message(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind in ("greater_than_equal", "greater_than"):
        return f"значение должно быть не меньше {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"значение должно быть не больше {ctx.get('le', ctx.get('lt'))}"
    if kind == "string_pattern_mismatch":
        return "значение не соответствует формату"
    if kind == "enum":
        return f"недопустимое значение; допустимо: {ctx.get('expected', '')}"
    return _MESSAGES.get(kind, err["msg"])


def errors_of(exc: ValidationError, row: int, raw: Mapping[str, Any]) -> list[RowError]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        field = ".".join(loc) if loc else "*"
        value = err.get("input") if loc else None
        if loc and loc[0] in raw and len(loc) == 1:
            value = raw[loc[0]]
        if isinstance(value, Mapping) and not loc:
            value = None
        out.append(RowError(row, field, value, _message(err)))
    return out


def validate_rows(
    registry: Registry, rows: Iterable[Mapping[str, Any]], *, first_row: int = 1
) -> tuple[list[tuple[int, m.Node]], list[RowError]]:
    """Validate every row; duplicates of a natural key inside the batch are errors too."""
    valid: list[tuple[int, m.Node]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(rows):
        row_no = first_row + i
        try:
            node = registry.model.model_validate(raw)
        except ValidationError as exc:
            errors.extend(errors_of(exc, row_no, raw))
            continue
        if node.uid in seen:
            errors.append(RowError(
                row_no, ", ".join(registry.model.KEY_FIELDS), node.uid,
                f"ключ уже встречался в строке {seen[node.uid]}",
            ))
            continue
        seen[node.uid] = row_no
        valid.append((row_no, node))
    return valid, errors
