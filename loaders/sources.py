"""Reading sources into tables: CSV, XLSX, JSON / JSON Lines, SQL (SQLAlchemy URL).

Row numbers are the ones a person sees: in CSV and XLSX the header is row 1, in JSON Lines
the line number, in a JSON array and a SQL result the item's position (from 1).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Row = tuple[int, dict[str, Any]]

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
JSON_SUFFIXES = (".json",)
JSONL_SUFFIXES = (".jsonl", ".ndjson")
SUFFIXES = (*JSONL_SUFFIXES, *JSON_SUFFIXES, *CSV_SUFFIXES, *XLSX_SUFFIXES)


class SourceError(ValueError):
    """A source that cannot be read at all (not found, wrong format, no header)."""


@dataclass
class Table:
    source: str
    columns: list[str]
    rows: list[Row]
    encoding: str | None = None
    delimiter: str | None = None
    problems: list[tuple[int, str]] = field(default_factory=list)  # unreadable rows


def is_sql_url(source: str) -> bool:
    return "://" in source and not source.startswith("file://")


def read_source(source: str, *, sheet: str | None = None, table: str | None = None,
                query: str | None = None) -> Table:
    if is_sql_url(source):
        return read_sql(source, table=table, query=query)
    path = Path(source)
    if not path.is_file():
        raise SourceError(f"файл не найден: {source}")
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return read_xlsx(path, sheet)
    if suffix in JSONL_SUFFIXES:
        return read_jsonl(path)
    if suffix in JSON_SUFFIXES:
        return read_json(path)
    if suffix in CSV_SUFFIXES:
        return read_csv(path)
    raise SourceError(f"неизвестный формат файла {path.name}: ожидается CSV, XLSX, JSON или JSONL")


def decode(data: bytes) -> tuple[str, str]:
    """utf-8 with BOM, utf-8, or cp1251 (Excel and 1C on Russian Windows)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1251"), "cp1251"


def sniff_delimiter(header_line: str) -> str:
    counts = {d: 0 for d in (";", "\t", ",")}
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _columns(raw: list[Any]) -> list[str]:
    columns = []
    for i, value in enumerate(raw):
        name = "" if value is None else str(value).strip()
        columns.append(name or f"#{i + 1}")
    return columns


def read_csv(path: Path) -> Table:
    text, encoding = decode(path.read_bytes())
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not first:
        raise SourceError(f"файл пуст: {path.name}")
    delimiter = sniff_delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns: list[str] | None = None
    rows: list[Row] = []
    for number, values in enumerate(reader, start=1):
        if not any(v.strip() for v in values):
            continue
        if columns is None:
            columns = _columns(values)
            continue
        rows.append((number, dict(zip(columns, values))))
    return Table(str(path), columns or [], rows, encoding=encoding, delimiter=delimiter)


def read_xlsx(path: Path, sheet: str | None = None) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is one clear error
        raise SourceError(f"не удалось открыть книгу {path.name}: {exc}") from None
    try:
        if sheet is None:
            ws = book.worksheets[0]
        elif sheet in book.sheetnames:
            ws = book[sheet]
        elif sheet.isdigit() and 1 <= int(sheet) <= len(book.worksheets):
            ws = book.worksheets[int(sheet) - 1]
        else:
            raise SourceError(f"в книге нет листа «{sheet}»; есть: {', '.join(book.sheetnames)}")
        columns: list[str] | None = None
        rows: list[Row] = []
        # read-only sheets yield every row from 1, missing ones empty
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if not any(v is not None and str(v).strip() for v in values):
                continue
            if columns is None:
                columns = _columns(list(values))
                continue
            rows.append((number, dict(zip(columns, values))))
        return Table(f"{path}[{ws.title}]", columns or [], rows)
    finally:
        book.close()


def _union_columns(rows: list[Row]) -> list[str]:
    seen: dict[str, None] = {}
    for _, row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def read_json(path: Path) -> Table:
    text, _ = decode(path.read_bytes())
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # a .json file holding JSON Lines
        if text.lstrip().startswith("{"):
            return read_jsonl(path)
        raise SourceError(f"некорректный JSON в {path.name}: {exc}") from None
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise SourceError(f"{path.name}: ожидается массив объектов или объект с одним массивом")
        data = lists[0]
    if not isinstance(data, list):
        raise SourceError(f"{path.name}: ожидается массив объектов")
    rows: list[Row] = []
    problems: list[tuple[int, str]] = []
    for i, item in enumerate(data, start=1):
        if isinstance(item, dict):
            rows.append((i, item))
        else:
            problems.append((i, "элемент массива не является объектом"))
    return Table(str(path), _union_columns(rows), rows, problems=problems)


def iter_jsonl(path: Path) -> Iterator[tuple[int, Any, str | None]]:
    with path.open(encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line), None
            except json.JSONDecodeError as exc:
                yield number, None, f"некорректная строка JSON: {exc.msg}"


def read_jsonl(path: Path) -> Table:
    rows: list[Row] = []
    problems: list[tuple[int, str]] = []
    for number, item, error in iter_jsonl(path):
        if error:
            problems.append((number, error))
        elif not isinstance(item, dict):
            problems.append((number, "строка не является объектом JSON"))
        else:
            rows.append((number, item))
    return Table(str(path), _union_columns(rows), rows, problems=problems)


def read_sql(url: str, *, table: str | None = None, query: str | None = None) -> Table:
    import sqlalchemy as sa

    if bool(table) == bool(query):
        raise SourceError("для SQL-источника укажите ровно одно из --table или --query")
    try:
        engine = sa.create_engine(url)
    except Exception as exc:  # noqa: BLE001
        raise SourceError(f"не удалось подключиться к {url}: {exc}") from None
    try:
        with engine.connect() as conn:
            if table:
                schema, _, name = table.rpartition(".")
                meta = sa.MetaData()
                try:
                    t = sa.Table(name, meta, autoload_with=conn, schema=schema or None)
                except sa.exc.NoSuchTableError:
                    raise SourceError(f"в базе нет таблицы {table}") from None
                stmt: Any = sa.select(t)
            else:
                stmt = sa.text(query or "")
            result = conn.execute(stmt)
            columns = list(result.keys())
            rows = [(i, dict(zip(columns, r))) for i, r in enumerate(result, start=1)]
    except SourceError:
        raise
    except Exception as exc:  # noqa: BLE001 - driver errors become one clear message
        raise SourceError(f"ошибка чтения из базы: {exc}") from None
    finally:
        engine.dispose()
    return Table(f"{engine.url.render_as_string(hide_password=True)}:{table or 'query'}",
                 columns, rows)
