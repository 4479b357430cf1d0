"""Excel-shaped files: the `hub export --format xlsx` sheet of a registry (Russian headers
that load back unchanged, enum labels, real dates, text never taken for a formula) and the
empty template of `hub template` (lists of allowed values, an example row, notes)."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from graph.enums import LabelledEnum
from graph.registry import Registry
from loaders.formats import FORMULA_STARTS, GUARD, exchange_columns, guarded
from loaders.mapping import NESTED, list_fields, preferred_header
from loaders.messages import field_type

SHEET = "Данные"


def column_path(registry: Registry, column: str) -> str:
    nested = NESTED.get(registry.name)
    if nested and column.startswith(nested.prefix) and column not in registry.model.model_fields:
        return f"{nested.field}.{column[len(nested.prefix):]}"
    return column


def headers(registry: Registry) -> list[str]:
    return [preferred_header(registry, c) for c in exchange_columns(registry)]


def _text_cell(ws: Any, value: str) -> WriteOnlyCell:
    # a text starting with quotes before a formula start keeps them: the loader removes one
    cell = WriteOnlyCell(ws, value=GUARD + value if guarded(value) else value)
    cell.data_type = "s"  # never a formula, whatever it starts with
    if value.startswith(FORMULA_STARTS):
        cell.style = "Normal"
        cell.quotePrefix = True
    return cell


def excel_value(value: Any) -> Any:
    if hasattr(value, "to_native"):  # neo4j.time.Date
        value = value.to_native()
    if isinstance(value, LabelledEnum):
        return value.label
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool):
        return "да" if value else "нет"
    return value


class XlsxSheetWriter:
    """One registry as one sheet (write-only: rows go to disk as they come)."""

    def __init__(self, path: Path, registry: Registry) -> None:
        self.path, self.registry = Path(path), registry
        self.book = Workbook(write_only=True)
        self.ws = self.book.create_sheet(SHEET)
        self.columns = exchange_columns(registry)
        self.kinds = [field_type(registry, column_path(registry, c)) for c in self.columns]
        self.ws.append([_text_cell(self.ws, h) for h in headers(registry)])
        self.lists = list_fields(registry)

    def write(self, record: dict[str, Any]) -> None:
        for row in _typed_rows(self.registry, record):
            cells: list[Any] = []
            for column, kind, value in zip(self.columns, self.kinds, row):
                if value is None or value == "":
                    cells.append(None)
                elif isinstance(value, str):
                    if isinstance(kind, type) and issubclass(kind, LabelledEnum):
                        try:
                            value = kind(value).label
                        except ValueError:
                            pass
                    cells.append(_text_cell(self.ws, value))
                else:
                    cells.append(excel_value(value))
            self.ws.append(cells)

    def close(self) -> None:
        self.book.save(self.path)


def _typed_rows(registry: Registry, record: dict[str, Any]) -> list[list[Any]]:
    """flat_rows with the values kept typed (numbers, dates, booleans)."""
    nested = NESTED.get(registry.name)
    lists = list_fields(registry)
    fields = [c for c in exchange_columns(registry) if c in registry.model.model_fields]
    base = []
    for column in fields:
        value = record.get(column)
        if column in lists:
            value = "; ".join(str(excel_value(v)) for v in value) if value else None
        elif isinstance(value, Enum):
            value = excel_value(value)
        base.append(value)
    if not nested:
        return [base]
    items = record.get(nested.field) or []
    if not items:
        return [base + [None] * len(nested.item_fields)]
    keys = set(registry.model.KEY_FIELDS)
    out = []
    for i, item in enumerate(items):
        head = base if i == 0 else [v if f in keys else None for f, v in zip(fields, base)]
        out.append(head + [excel_value(item.get(f)) if not isinstance(item.get(f), str)
                           else item.get(f) for f in nested.item_fields])
    return out


EXAMPLES: dict[str, Any] = {
    "organization": "5260000012", "inn": "5260000012", "region": "52",
    "municipality": "г. Дзержинск", "oktmo": "22721000", "code": "M1",
    "inventory_number": "ИН-000123", "type": "Сварочный инвертор", "site": "M1",
    "quantity": 4, "year": 2021, "workplaces": 12, "personnel_number": "15",
    "full_name": "Петров Пётр Петрович", "competency": "MF-01", "program": "DPO-001",
    "hours": 72, "number": "1", "name": "Наименование", "equipment_type": "EQ-MF-03",
}


def _example(registry: Registry, column: str, kind: Any) -> Any:
    path = column_path(registry, column)
    last = path.split(".")[-1]
    if isinstance(kind, type) and issubclass(kind, LabelledEnum):
        return next(iter(kind)).label
    if kind is bool:
        return "да"
    if kind is dt.date:
        return dt.date(2025, 9, 1)
    return EXAMPLES.get(last, "")


def template(path: Path, registry: Registry, catalogue: dict[str, list[tuple[str, str]]]
             ) -> None:
    """An empty sheet to fill: Russian headers, drop-down lists of allowed values (enum
    labels, catalogue codes and names on the sheet «Справочники»), an example row and notes
    on the sheet «Пояснения»."""
    book = Workbook()
    ws = book.active
    ws.title = SHEET
    columns = exchange_columns(registry)
    names = headers(registry)
    ws.append(names)
    bold = Font(bold=True)
    for i, name in enumerate(names, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        ws.column_dimensions[get_column_letter(i)].width = max(14, min(40, len(name) + 4))
    ws.freeze_panes = "A2"
    lists = book.create_sheet("Справочники")
    notes = book.create_sheet("Пояснения")
    list_col = 0

    def add_list(title: str, values: list[str]) -> str:
        nonlocal list_col
        list_col += 1
        letter = get_column_letter(list_col)
        lists.cell(row=1, column=list_col, value=title).font = bold
        for r, v in enumerate(values, start=2):
            c = lists.cell(row=r, column=list_col, value=v)
            c.data_type = "s"
        return f"'Справочники'!${letter}$2:${letter}${max(2, len(values) + 1)}"

    notes.append(["Столбец", "Поле", "Обязательное", "Что писать"])
    for c in notes[1]:
        c.font = bold
    model = registry.model
    example = []
    for i, (column, header) in enumerate(zip(columns, names), start=1):
        fpath = column_path(registry, column)
        kind = field_type(registry, fpath)
        info = model.model_fields.get(column)
        required = "да" if info is not None and info.is_required() else "нет"
        what = ""
        source = None
        if isinstance(kind, type) and issubclass(kind, LabelledEnum):
            labels = [m.label for m in kind]
            source = add_list(header, labels)
            what = "одно из: " + "; ".join(labels)
        elif fpath.split(".")[-1] in ("type", "equipment_type") and catalogue.get("types"):
            items = catalogue["types"]
            source = add_list(f"{header}: код и наименование",
                              [c for c, _ in items] + [n for _, n in items])
            what = "код типа по каталогу или его наименование (список на листе «Справочники»)"
        elif fpath.split(".")[-1] == "competency" and catalogue.get("competencies"):
            items = catalogue["competencies"]
            source = add_list(f"{header}: код", [c for c, _ in items])
            what = "код компетенции (список на листе «Справочники»)"
        elif kind is bool:
            source = add_list(header, ["да", "нет"])
            what = "да или нет"
        elif kind is dt.date:
            what = "дата ДД.ММ.ГГГГ (год от 1900 до 2100)"
        elif kind is int:
            what = "целое число"
        elif kind is float:
            what = "число"
        else:
            what = "текст"
        if source:
            letter = get_column_letter(i)
            dv = DataValidation(type="list", formula1=f"={source}", allow_blank=True,
                                showErrorMessage=True, errorTitle="Недопустимое значение",
                                error="Выберите значение из списка")
            dv.add(f"{letter}2:{letter}10000")
            ws.add_data_validation(dv)
        notes.append([header, column, required, what])
        example.append(_example(registry, column, kind))
    notes.append([])
    notes.append(["Пример строки (заполняйте лист «Данные» со второй строки):"])
    notes.append(names)
    notes.append(example)
    notes.append([])
    for line in (
            (f"Реестр: {registry.title}. Загрузка: hub load {registry.name} ФАЙЛ.xlsx "
            "или загрузка файла через API (importRegistryFile)."),
            ("Строки «Итого» и «Всего» пропускаются. Над заголовком можно оставить название "
            "таблицы."),
            ("Муниципальное образование, организацию и тип оборудования можно указать "
            "названием, как в реестре."),
            ("Общее для всех строк значение (например, регион) можно не писать в каждой "
            "строке: hub load … --set region=52.")):
        notes.append([line])
    notes.column_dimensions["A"].width = 40
    notes.column_dimensions["D"].width = 70
    lists.sheet_state = "hidden" if list_col else "visible"
    book.save(path)
