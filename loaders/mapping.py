"""Source columns → model fields: header synonyms, mapping files, flat forms of nested lists.

A nested list (staff qualifications, infrastructure-list items, module requirements, agreement
parties) is filled in one row per item: rows with the same natural key form one record, the
record's own columns are taken from its first row, each row adds one item from its item
columns (`qualification_competency`, «Компетенция»…). A JSON cell in the field's own column
(`qualifications` = `[{"competency": "IT-01"}]`) works as well.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, get_args, get_origin

from pydantic import BaseModel

from graph.declare import Items
from graph.registry import REGISTRIES, Registry

# The flat form of each registry's nested list (its declaration's `items`).
NESTED: dict[str, Items] = {name: r.items for name, r in REGISTRIES.items() if r.items}


def list_fields(registry: Registry) -> dict[str, bool]:
    """Plain list fields written in one cell, `;`-separated: {field: items are codes}.

    Codes (no spaces) may also be separated by «,» or spaces.
    """
    from graph.models import Code

    out = {}
    for name, info in registry.model.model_fields.items():
        ann = info.annotation
        if get_origin(ann) is tuple:
            item = get_args(ann)[0]
            if not (isinstance(item, type) and issubclass(item, BaseModel)):
                out[name] = item is Code
    return out

# Header synonyms per registry and field (Russian and English; the field name itself always
# matches): its declaration's `headers`. Headers compare case- and punctuation-insensitively.
SYNONYMS: dict[str, Mapping[str, tuple[str, ...]]] = {
    name: r.headers for name, r in REGISTRIES.items()}

_PUNCT = re.compile(r"[\s_\-.,:;*\"'«»()/\\]+")


def norm_header(text: object) -> str:
    return _PUNCT.sub(" ", str(text).replace("ё", "е").replace("Ё", "Е").casefold()).strip()


class MappingError(ValueError):
    """A mapping file or a header the loader cannot work with."""


def target_fields(registry: Registry) -> list[str]:
    """Columns a registry's file may have: model fields plus the flat item columns."""
    fields = list(registry.model.model_fields)
    nested = NESTED.get(registry.name)
    if nested:
        fields += [nested.column(f) for f in nested.item_fields]
    return fields


def preferred_header(registry: Registry, target: str) -> str:
    """The Russian header a template or a human-friendly file uses for a column."""
    names = SYNONYMS.get(registry.name, {}).get(target)
    return names[0] if names else target


def _is_bool(registry: Registry, name: str) -> bool:
    info = registry.model.model_fields.get(name)
    if info is None:
        return False
    ann = info.annotation
    return ann is bool or (get_origin(ann) is not None and bool in get_args(ann))


@dataclass
class ColumnMap:
    registry: Registry
    columns: dict[str, str]  # source column → target (field or flat item column)
    ignored: list[str] = field(default_factory=list)

    def source_of(self, target: str) -> str:
        for column, t in self.columns.items():
            if t == target:
                return column
        return ""


def map_columns(registry: Registry, columns: Sequence[str],
                mapping: Mapping[str, str | None] | None = None) -> ColumnMap:
    """Match source columns to targets: the mapping file first, then built-in synonyms."""
    targets = target_fields(registry)
    lookup: dict[str, str] = {}
    for field_name in targets:
        for name in (field_name, *SYNONYMS.get(registry.name, {}).get(field_name, ())):
            lookup.setdefault(norm_header(name), field_name)
    explicit: dict[str, str | None] = {}
    for source, target in (mapping or {}).items():
        if target is not None and target not in targets:
            raise MappingError(
                f"в файле сопоставления столбец «{source}» указывает на неизвестное поле "
                f"«{target}»; допустимо: {', '.join(targets)}")
        explicit[norm_header(source)] = target
    result = ColumnMap(registry, {})
    taken: set[str] = set()
    for column in columns:
        key = norm_header(column)
        target = explicit[key] if key in explicit else lookup.get(key)
        if target is None or target in taken:
            result.ignored.append(column)
            continue
        taken.add(target)
        result.columns[column] = target
    return result


def missing_required(cmap: ColumnMap) -> list[str]:
    """Required model fields no column maps to."""
    model = cmap.registry.model
    present = set(cmap.columns.values())
    nested = NESTED.get(cmap.registry.name)
    if nested and any(t.startswith(nested.prefix) for t in present):
        present.add(nested.field)
    return [name for name, info in model.model_fields.items()
            if info.is_required() and name not in present]


_TRUE = {"да", "true", "1", "yes", "y", "+", "истина", "д", "x", "х"}
_FALSE = {"нет", "false", "0", "no", "n", "-", "ложь", "н"}


def clean(value: Any) -> Any:
    """A cell as the models take it: blanks → None, numbers → text (models parse them back)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    if type(value).__name__ == "Decimal":
        return str(value.normalize()) if value == value.to_integral() else str(value)
    return value


def _bool(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip().casefold()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return value


def _cell_list(value: Any, codes: bool) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                return value
        return [c.strip() for c in re.split(r"[;,\s]+" if codes else r"[;\n]+", text)
                if c.strip()]
    return value


@dataclass
class Record:
    """One model input assembled from one or more source rows."""

    rows: list[int]  # source row numbers; rows[0] holds the record's own fields
    data: dict[str, Any]
    item_rows: list[int] = field(default_factory=list)  # source row of each nested item


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    field: str
    value: Any
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "field": self.field,
                "value": self.value, "message": self.message}

    def __str__(self) -> str:
        column = f"столбец «{self.column}»" if self.column else f"поле «{self.field}»"
        if self.column and self.column != self.field:
            column += f" ({self.field})"
        value = "" if self.value is None or self.value == "" else f", значение «{self.value}»"
        return f"строка {self.row}, {column}{value}: {self.message}"


def _group_key(registry: Registry, data: Mapping[str, Any]) -> tuple[str, ...] | None:
    key = tuple(re.sub(r"\s+", "", str(data.get(f) or "")) for f in registry.model.KEY_FIELDS)
    return key if all(key) else None


def build_records(cmap: ColumnMap, rows: Sequence[tuple[int, Mapping[str, Any]]]
                  ) -> tuple[list[Record], list[RowProblem]]:
    """Source rows → model inputs, grouping the flat form of nested lists by natural key."""
    registry = cmap.registry
    nested = NESTED.get(registry.name)
    lists = list_fields(registry)
    bools = {t for t in cmap.columns.values() if _is_bool(registry, t)}
    records: list[Record] = []
    problems: list[RowProblem] = []
    groups: dict[tuple[str, ...], Record] = {}
    for row_no, raw in rows:
        data: dict[str, Any] = {}
        item: dict[str, Any] = {}
        for column, target in cmap.columns.items():
            value = clean(raw.get(column))
            if value is None:
                continue
            if target in bools:
                value = _bool(value)
            elif target in lists:
                value = _cell_list(value, lists[target])
            if nested and target.startswith(nested.prefix) and target not in registry.model.model_fields:
                item[target[len(nested.prefix):]] = value
            elif nested and target == nested.field and isinstance(value, str):
                try:
                    data[target] = json.loads(value)
                except json.JSONDecodeError:
                    problems.append(RowProblem(row_no, column, target, value,
                                               "ожидается список в формате JSON"))
            else:
                data[target] = value
        if not nested:
            records.append(Record([row_no], data))
            continue
        key = _group_key(registry, data)
        record = groups.get(key) if key else None
        if record is None:
            record = Record([row_no], data)
            records.append(record)
            if key:
                groups[key] = record
        else:
            record.rows.append(row_no)
            for name, value in data.items():
                first = record.data.get(name)
                if first is None:
                    record.data[name] = value
                elif first != value:
                    problems.append(RowProblem(
                        row_no, cmap.source_of(name), name, value,
                        f"значение отличается от строки {record.rows[0]} той же записи"))
        if item:
            if isinstance(record.data.get(nested.field), list) and not record.item_rows:
                problems.append(RowProblem(row_no, cmap.source_of(nested.prefix + next(iter(item))),
                                           nested.field, None,
                                           "список задан и ячейкой JSON, и построчно"))
                continue
            record.data.setdefault(nested.field, []).append(item)
            record.item_rows.append(row_no)
    return records, problems


def locate(cmap: ColumnMap, record: Record, field_path: str, value: Any) -> tuple[int, str]:
    """Source row and column of a model error (`qualifications.1.competency` → item's row)."""
    registry = cmap.registry
    parts = field_path.split(".")
    nested = NESTED.get(registry.name)
    head = parts[0]
    if nested and head == nested.field and record.item_rows:
        index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        sub = parts[2] if len(parts) > 2 else None
        if index is None and value is not None:  # a reference: find the item that names it
            for i, item in enumerate(record.data.get(head) or []):
                if isinstance(item, Mapping) and str(value) in {str(v) for v in item.values()}:
                    index = i
                    sub = next(k for k, v in item.items() if str(v) == str(value))
                    break
        row = record.item_rows[index] if index is not None and index < len(record.item_rows) \
            else record.rows[0]
        column = cmap.source_of(nested.prefix + (sub or nested.item_fields[0]))
        return row, column
    if head in cmap.columns.values():
        return record.rows[0], cmap.source_of(head)
    for name in reversed([n.strip() for n in field_path.split(",")]):
        if name in cmap.columns.values():  # a field, or the last of a composite key
            return record.rows[0], cmap.source_of(name)
    return record.rows[0], ""
