"""Reading sources into tables: CSV, XLSX, JSON / JSON Lines, SQL (SQLAlchemy URL).

Row numbers are the ones a person sees: in CSV and XLSX the header is row 1, in JSON Lines
the line number, in a JSON array and a SQL result the item's position (from 1).
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator
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
    rows: Iterable[Row]  # may be read more than once
    encoding: str | None = None
    delimiter: str | None = None
    problems: list[tuple[int, str]] = field(default_factory=list)  # unreadable rows
    # CSV / XLSX: the raw rows, header not yet found (loaders.frame finds it)
    grid: Grid | None = None


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
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise SourceError(
                "файл помечен как UTF-8 (метка BOM в начале), но дальше текст в другой "
                f"кодировке (байт {exc.start + 3}); сохраните файл заново в одной кодировке "
                "(«CSV UTF-8» в Excel)") from None
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


@dataclass(frozen=True)
class RowIssue:
    """A source row that could not be read (wrong encoding, too long): reported, not loaded."""

    message: str


GridRow = tuple[int, "list[Any] | RowIssue"]


class Grid:
    """A spreadsheet-like source read row by row, as many times as asked (each iteration
    reopens the file): (file row number, cell values) or (row number, RowIssue)."""

    def __init__(self, open_rows: Callable[[], Iterator[GridRow]]) -> None:
        self._open = open_rows

    def __iter__(self) -> Iterator[GridRow]:
        return self._open()


class Limits:
    """Source limits (hub settings HUB_LOAD_*; defaults here for library use)."""

    max_cell_chars: int = 100_000  # a longer cell (or CSV line) is a row error
    xlsx_max_part_bytes: int = 256 * 1024 * 1024  # uncompressed size of any part of a book
    xlsx_max_ratio: int = 200  # uncompressed / compressed size of any part
    header_scan_rows: int = 30  # rows searched for the header


def limits() -> Limits:
    out = Limits()
    try:
        from hub.settings import get_settings

        s = get_settings()
        out.max_cell_chars = s.load_max_cell_chars
        out.xlsx_max_part_bytes = s.load_xlsx_max_part_bytes
        out.xlsx_max_ratio = s.load_xlsx_max_ratio
    except Exception:  # noqa: BLE001, S110 - library use without hub settings: defaults
        pass
    return out


def _utf8(line: bytes) -> str | None:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _csv_lines(path: Path, max_bytes: int, state: dict[str, Any]) -> Iterator[str | RowIssue]:
    """Decoded physical lines; an over-long line or one in another encoding is a RowIssue.

    The encoding is decided by the BOM, else by the first line with non-ASCII bytes (UTF-8 if
    it decodes so, else cp1251); a later line that does not fit it is an error of its row —
    never loaded garbled."""
    encoding = state["encoding"]
    with path.open("rb") as fh:
        first = True
        while True:
            line = fh.readline(max_bytes + 1)
            if not line:
                return
            if first:
                first = False
                if line.startswith(b"\xef\xbb\xbf"):
                    line = line[3:]
                    encoding = state["encoding"] = "utf-8-sig"
            if len(line) > max_bytes and not line.endswith(b"\n"):
                while True:  # skip the rest of the line without holding it
                    more = fh.readline(1 << 20)
                    if not more or more.endswith(b"\n"):
                        break
                yield RowIssue(f"строка длиннее допустимого ({max_bytes:,} байт)"
                               .replace(",", "\u00a0") + ": проверьте, что файл — таблица "
                               "CSV, а не выгрузка другого вида")
                continue
            if line.isascii():
                yield line.decode("ascii")
                continue
            text = _utf8(line)
            if encoding is None:
                encoding = state["encoding"] = "utf-8" if text is not None else "cp1251"
            if encoding.startswith("utf-8"):
                if text is None:
                    bom = " (файл помечен меткой UTF-8 в начале)" if encoding == "utf-8-sig" \
                        else ""
                    yield RowIssue(f"строка не в кодировке UTF-8{bom}, похоже, в Windows-1251: "
                                   "в файле смешаны кодировки; сохраните его заново в одной "
                                   "(«CSV UTF-8» в Excel)")
                    continue
                yield text
            elif text is not None:
                yield RowIssue("строка в кодировке UTF-8, а файл — в Windows-1251: в файле "
                               "смешаны кодировки; сохраните его заново в одной "
                               "(«CSV UTF-8» в Excel)")
            else:
                yield line.decode("cp1251")


def _peek_csv(path: Path, max_bytes: int) -> tuple[str, str | None]:
    """Delimiter (from the first non-empty line) and the encoding seen in the first 64 KB."""
    with path.open("rb") as fh:
        head = fh.read(65536)
    if not head.strip():
        raise SourceError(f"файл пуст: {path.name}")
    encoding: str | None = None
    if head.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
        head = head[3:]
    lines = head.split(b"\n")
    # the header may sit under title rows: the delimiter of the line that has most of one
    best, text = -1, ""
    for ln in [ln for ln in lines if ln.strip()][:30]:
        decoded = _utf8(ln)
        if decoded is None:
            decoded = ln.decode("cp1251", errors="replace")
        d = sniff_delimiter(decoded)
        if decoded.count(d) > best:
            best, text = decoded.count(d), decoded
    if encoding is None:
        for ln in lines[:-1] if len(head) == 65536 else lines:
            if not ln.isascii():
                encoding = "utf-8" if _utf8(ln) is not None else "cp1251"
                break
    return sniff_delimiter(text), encoding


def read_csv(path: Path) -> Table:
    lim = limits()
    max_bytes = lim.max_cell_chars * 4
    delimiter, encoding = _peek_csv(path, max_bytes)

    def rows() -> Iterator[GridRow]:
        state: dict[str, Any] = {"encoding": encoding}
        issues: list[RowIssue] = []
        line_no = 0

        def lines() -> Iterator[str]:
            nonlocal line_no
            for item in _csv_lines(path, max_bytes, state):
                line_no += 1
                if isinstance(item, RowIssue):
                    issues.append(item)
                    yield "\n"  # an empty row keeps the numbering
                else:
                    yield item

        csv.field_size_limit(max(lim.max_cell_chars, 1024))
        reader = csv.reader(lines(), delimiter=delimiter)
        number = 0
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error:
                yield number + 1, RowIssue(
                    f"ячейка длиннее {lim.max_cell_chars:,} символов или незакрытая кавычка; "
                    .replace(",", "\u00a0") + "строки после неё не прочитаны")
                return
            number += 1
            if issues:
                yield number, issues.pop()
                issues.clear()
                continue
            yield number, values

    return Table(str(path), [], [], encoding=encoding or "utf-8", delimiter=delimiter,
                 grid=Grid(rows))


def check_xlsx(path: Path) -> None:
    """Refuse a workbook whose parts expand too much, before any XML is parsed."""
    lim = limits()
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError):
        raise SourceError(f"не удалось открыть книгу {path.name}: файл повреждён или это не "
                          "книга Excel (.xlsx)") from None
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > lim.xlsx_max_part_bytes or (
                info.file_size > 1_000_000 and ratio > lim.xlsx_max_ratio):
            mb = info.file_size / 1024 / 1024
            raise SourceError(
                f"книга {path.name} отклонена: часть «{info.filename}» при распаковке занимает "
                f"{mb:,.0f} МБ (сжатие в {ratio:,.0f} раз); ".replace(",", "\u00a0") +
                f"допустимо не больше {lim.xlsx_max_part_bytes // 1024 // 1024} МБ и сжатие "
                f"не больше чем в {lim.xlsx_max_ratio} раз (HUB_LOAD_XLSX_MAX_PART_BYTES, "
                f"HUB_LOAD_XLSX_MAX_RATIO). Разбейте книгу на несколько файлов или сохраните "
                f"лист как CSV")


def read_xlsx(path: Path, sheet: str | None = None) -> Table:
    from openpyxl import load_workbook

    check_xlsx(path)

    def open_book() -> Any:
        try:
            return load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook is one clear error
            raise SourceError(f"не удалось открыть книгу {path.name}: "
                              f"{type(exc).__name__}") from None

    def pick(book: Any) -> Any:
        if sheet is None:
            return book.worksheets[0]
        if sheet in book.sheetnames:
            return book[sheet]
        if sheet.isdigit() and 1 <= int(sheet) <= len(book.worksheets):
            return book.worksheets[int(sheet) - 1]
        raise SourceError(f"в книге нет листа «{sheet}»; есть: {', '.join(book.sheetnames)}")

    book = open_book()
    try:
        title = pick(book).title
    finally:
        book.close()

    def rows() -> Iterator[GridRow]:
        book = open_book()
        try:
            ws = pick(book)
            # read-only sheets yield every row from 1, missing ones empty
            for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                yield number, list(values)
        finally:
            book.close()

    return Table(f"{path}[{title}]", [], [], grid=Grid(rows))


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


class JsonLines:
    """The object lines of a JSON Lines file, read again at each iteration (not held)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __iter__(self) -> Iterator[Row]:
        for number, item, _ in iter_jsonl(self.path):
            if isinstance(item, dict):
                yield number, item


def read_jsonl(path: Path) -> Table:
    """Streamed: one pass here finds the columns and the unreadable lines, the loader reads
    the rows again as it goes."""
    columns: dict[str, None] = {}
    problems: list[tuple[int, str]] = []
    for number, item, error in iter_jsonl(path):
        if error:
            problems.append((number, error))
        elif not isinstance(item, dict):
            problems.append((number, "строка не является объектом JSON"))
        else:
            columns.update(dict.fromkeys(item))
    return Table(str(path), list(columns), JsonLines(path), problems=problems)


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
