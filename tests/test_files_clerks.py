"""Files as clerks make them (issue #17): forgiving in (header found under title rows,
totals skipped, names for codes, --set), messages in the clerk's words, hostile files refused
with nothing written, exports that Excel cannot run, templates, uploads through the API."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from hub.cli import main as hub
from loaders.export import content_hash
from loaders.load import load_source
from loaders.sources import SourceError
from tests.conftest import wipe
from tests.factories import audit_trail, inn, seed_region


def _count(driver, label: str) -> int:
    records, _, _ = driver.execute_query(f"MATCH (n:{label}) RETURN count(n) AS c")
    return records[0]["c"]


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def _csv(path: Path, rows: list[list[object]], encoding: str = "utf-8-sig") -> Path:
    buf = io.StringIO()
    csv.writer(buf, delimiter=";").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


HEADER = ["№ п/п", "Организация", "Инвентарный номер", "Тип оборудования", "Площадка",
          "Количество", "Состояние", "Год выпуска"]


def test_title_rows_names_totals_and_date_years_in_an_xlsx(db, tmp_path):
    seed_region(db)
    path = _xlsx(tmp_path / "list.xlsx", [
        ["Перечень оборудования ЦОПП на 01.09.2025"],
        [],
        HEADER,
        [1, "ЦОПП Нижегородской области", "ИН-1", "Сварочный инвертор", "M1", 2, "Исправно",
         dt.datetime(2021, 3, 15)],
        [2, inn(1), "ИН-2", "токарный станок с ЧПУ", "M1", 1, "В ремонте", 2019],
        ["Итого", None, None, None, None, 3],
    ])
    report = load_source(db, "equipment", str(path))
    assert report.ok, [str(e) for e in report.errors]
    assert (report.header_row, report.read, report.created) == (3, 2, 2)
    assert report.skipped and report.skipped[0][0] == 6 and "Итого" in report.skipped[0][1]
    records, _, _ = db.execute_query(
        "MATCH (e:Equipment) RETURN e.inventory_number AS n, e.type AS t, e.year AS y, "
        "e.organization AS o ORDER BY n")
    assert [(r["n"], r["t"], r["y"], r["o"]) for r in records] == [
        ("ИН-1", "WELD-INV", 2021, inn(1)), ("ИН-2", "LATHE-CNC", 2019, inn(1))]


def test_header_row_can_be_forced_and_a_missing_column_says_how(db, tmp_path):
    seed_region(db)
    rows = [["Сведения"], ["Инвентарный номер", "Количество"], HEADER,
            [1, inn(1), "ИН-1", "WELD-INV", "M1", 2, "Исправно", 2021]]
    path = _xlsx(tmp_path / "h.xlsx", rows)
    assert load_source(db, "equipment", str(path), header_row=3).created == 1
    report = load_source(db, "equipment", str(path), header_row=2, dry_run=True)
    assert not report.ok and "--header-row" in report.errors[0].message
    assert "«Организация»" not in report.errors[0].message or "ИНН" in report.errors[0].message


def test_set_constant_and_municipality_by_its_usual_names(db, tmp_path):
    seed_region(db)
    header = ["ИНН", "Наименование", "Тип", "Муниципальное образование"]
    path = _csv(tmp_path / "orgs.csv", [
        header,
        [inn(4), "Колледж 4", "ПОО", "городской округ город Дзержинск"],
        [inn(5), "Колледж 5", "ПОО", "Нижний Новгород г."],
        [inn(6), "Колледж 6", "ПОО", "Богородский МО"],
    ])
    report = load_source(db, "organizations", str(path), constants={"region": "52"},
                         partial=True)
    assert report.created == 2
    [error] = report.errors
    assert (error.row, error.column, error.value) == (4, "Муниципальное образование",
                                                      "Богородский МО")
    assert "в регионе 52" in error.message and "«Муниципальные образования»" in error.message
    records, _, _ = db.execute_query(
        "MATCH (o:Organization) WHERE o.inn IN $inns RETURN o.municipality AS m, o.region AS r "
        "ORDER BY o.inn", inns=[inn(4), inn(5)])
    assert [(r["m"], r["r"]) for r in records] == [("22721000", "52"), ("22701000", "52")]
    with pytest.raises(SourceError, match="нет поля «регион_ф»"):
        load_source(db, "organizations", str(path), constants={"регион_ф": "52"})


def test_messages_name_file_row_column_value_in_the_clerks_words(db, tmp_path, capsys):
    seed_region(db)
    rows = [["Оборудование колледжа"], HEADER]
    rows += [[i, inn(1), f"ИН-{i}", "WELD-INV", "M1", 1, "Исправно", 2020] for i in range(1, 4)]
    rows += [[4, inn(1), "ИН-2", "WELD-INV", "M1", 1, "сгорело", 2020],  # row 6
             [5, inn(1), "ИН-5", "Сварочный аппарат", "M1", 1, "Исправно", 2020],  # row 7
             [6, inn(1), "ИН-6", "WELD-INV", "M9", 1, "Исправно", 2020],  # row 8
             [7, inn(1), "ИН-2", "WELD-INV", "M1", 1, "Исправно", 2020]]  # row 9
    path = _csv(tmp_path / "e.csv", rows)
    report = load_source(db, "equipment", str(path))
    got = {e.row: e for e in report.errors}
    assert set(got) == {6, 7, 8, 9} and not report.written
    assert got[6].column == "Состояние" and got[6].message == (
        "недопустимое значение; допустимо: «Исправно», «В ремонте», «Неисправно», "
        "«В резерве» или «Списано»")
    assert "«Типы оборудования»" in got[7].message and "EQ-MF-03" in got[7].message
    assert got[8].message == "не найдено в реестре «Площадки»: «M9» организации с ИНН " + inn(1)
    assert got[9].message == "ключ уже встречался в строке 4"  # file row of ИН-2
    assert _count(db, "Equipment") == 0
    assert hub(["load", "equipment", str(path)]) == 1
    out = capsys.readouterr().out
    assert "значение «сгорело»" in out and "'" not in out.split("отклонено")[1]


def test_hostile_csv_files_are_row_errors_and_nothing_is_written(db, tmp_path, capsys):
    seed_region(db)
    head = ";".join(HEADER[1:]) + "\n"
    good = f"{inn(1)};ИН-1;WELD-INV;M1;1;Исправно;2020\n"
    # a BOM, then cp1251 text: the cp1251 row is refused, never loaded garbled
    bom = b"\xef\xbb\xbf" + head.encode() + good.encode() + \
        f"{inn(1)};ИН-2;WELD-INV;M1;1;В ремонте;2020\n".encode("cp1251")
    (tmp_path / "bom.csv").write_bytes(bom)
    report = load_source(db, "equipment", str(tmp_path / "bom.csv"))
    assert [e.row for e in report.errors] == [3] and "смешаны кодировки" in \
        report.errors[0].message and not report.written
    # cp1251 file with one UTF-8 row
    mixed = head.encode("cp1251") + good.encode("cp1251") + \
        f"{inn(1)};ИН-3;WELD-INV;M1;1;В ремонте;2020\n".encode()
    (tmp_path / "mixed.csv").write_bytes(mixed)
    report = load_source(db, "equipment", str(tmp_path / "mixed.csv"))
    assert [e.row for e in report.errors] == [3] and "UTF-8" in report.errors[0].message
    # NUL inside a code
    (tmp_path / "nul.csv").write_bytes((head + f"{inn(1)};ИН\x00-4;WELD-INV;M1;1;;\n").encode())
    report = load_source(db, "equipment", str(tmp_path / "nul.csv"))
    assert report.errors[0].column == "Инвентарный номер" and "0x00" in report.errors[0].message
    # a 3 MB single line: one row error, the next row still read
    (tmp_path / "long.csv").write_bytes(
        (head + "x" * 3_000_000 + "\n" + good).encode())
    assert hub(["load", "equipment", str(tmp_path / "long.csv"), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["errors"][0]["row"] == 2 and "длиннее" in out["errors"][0]["message"]
    assert out["valid"] == 1 and not out["written"]
    assert _count(db, "Equipment") == 0


def test_dates_outside_1900_2100_are_refused(db, tmp_path):
    seed_region(db)
    path = _csv(tmp_path / "staff.csv", [
        ["ИНН", "Табельный номер", "ФИО", "Роль", "Компетенция", "Действует до"],
        [inn(1), "1", "Иванов Иван", "Преподаватель", "MF-01", "0001-01-01"],
        [inn(1), "2", "Петров Пётр", "Преподаватель", "MF-01", "31.12.9999"],
        [inn(1), "3", "Сидоров Сидор", "Преподаватель", "MF-01", "31.12.2027"],
    ])
    report = load_source(db, "staff", str(path), partial=True)
    assert [e.row for e in report.errors] == [2, 3] and report.created == 1
    assert all("от 1900 до 2100" in e.message for e in report.errors)


def test_xlsx_whose_parts_expand_too_much_is_refused_before_parsing(db, tmp_path):
    path = _xlsx(tmp_path / "bomb.xlsx", [HEADER])
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet2.xml", b"<row/>" * 5_000_000)  # 30 MB, ratio ≫ 200
    with pytest.raises(SourceError, match="сжатие"):
        load_source(db, "equipment", str(path))


def test_exports_neutralise_formulas_and_xlsx_loads_back_unchanged(db, tmp_path):
    seed_region(db)
    rows = [["ИНН", "Инвентарный номер", "Тип", "Площадка", "Наименование", "Количество"],
            [inn(1), "ИН-1", "WELD-INV", "M1", '=HYPERLINK("http://x.example","Нажмите")', 1],
            [inn(1), "ИН-2", "WELD-INV", "M1", "+cmd|' /C calc'!A0", 1],
            [inn(1), "ИН-3", "WELD-INV", "M1", "@SUM(1)", 1]]
    assert load_source(db, "equipment", str(_csv(tmp_path / "in.csv", rows))).created == 3
    before = content_hash(db)
    assert hub(["export", "--out", str(tmp_path / "out"), "--format", "csv,xlsx"]) == 0
    text = (tmp_path / "out" / "equipment.csv").read_text(encoding="utf-8-sig")
    names = [r[4] for r in csv.reader(io.StringIO(text), delimiter=";")][1:]
    assert all(n.startswith("'") for n in names), names
    book = load_workbook(tmp_path / "out" / "equipment.xlsx")
    ws = book.active
    assert [c.value for c in ws[1]][:4] == ["ИНН", "Инвентарный номер", "Тип", "Площадка"]
    cells = [ws.cell(row=r, column=5) for r in range(2, 5)]
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)  # text, never a formula
    wipe(db, None)
    (tmp_path / "back").mkdir()
    for f in (tmp_path / "out").glob("*.xlsx"):
        f.rename(tmp_path / "back" / f.name)
    assert hub(["load", "all", str(tmp_path / "back")]) == 0
    assert content_hash(db) == before
    # the CSV export loads back to the same text too (the guard quote is removed)
    wipe(db, None)
    (tmp_path / "csvback").mkdir()
    for f in (tmp_path / "out").glob("*.csv"):
        f.rename(tmp_path / "csvback" / f.name)
    assert hub(["load", "all", str(tmp_path / "csvback")]) == 0
    assert content_hash(db) == before


def test_free_text_is_kept_as_typed_codes_are_trimmed_and_every_export_loads_back(db,
                                                                                  tmp_path):
    seed_region(db)
    typed = ["\tс табуляцией", "  с пробелами  ", "\t=1+2", "две\nстроки", "обычное"]
    rows = [["ИНН", "Инвентарный номер", "Тип", "Площадка", "Наименование", "Количество"]]
    rows += [[f" {inn(1)} ", f" ИН-{i} ", " WELD-INV ", "M1 ", name, 1]
             for i, name in enumerate(typed, 1)]
    rows += [[inn(1), "ИН-6", "WELD-INV", "M1", "'=A1", 1],  # the export's guard: removed
             [inn(1), "ИН-7", "WELD-INV", "M1", " \t ", 1]]  # only whitespace: no name
    assert load_source(db, "equipment", str(_csv(tmp_path / "in.csv", rows))).created == 7
    records, _, _ = db.execute_query(
        "MATCH (e:Equipment) RETURN e.inventory_number AS n, e.name AS name, e.type AS t, "
        "e.site AS s, e.organization AS o")
    assert {r["n"]: r["name"] for r in records} == {
        **{f"ИН-{i}": name for i, name in enumerate(typed, 1)}, "ИН-6": "=A1", "ИН-7": None}
    assert {(r["o"], r["t"], r["s"]) for r in records} == {(inn(1), "WELD-INV", "M1")}
    types = _csv(tmp_path / "types.csv", [["Код", "Наименование", "Категория", "Ед. изм."],
                                          [" NEW-1 ", "\tНовый тип", " Сварка ", " шт. "]])
    assert load_source(db, "equipment_types", str(types)).created == 1
    records, _, _ = db.execute_query(
        "MATCH (t:EquipmentType {code: 'NEW-1'}) RETURN t.name AS n, t.category AS c, t.unit AS u")
    assert [tuple(r.values()) for r in records] == [("\tНовый тип", "Сварка", "шт.")]
    # texts that start like the guard itself, written through the API path (graph.ingest)
    json_rows = tmp_path / "more.jsonl"
    json_rows.write_text("".join(json.dumps(
        {"organization": inn(1), "inventory_number": f"Q-{i}", "type": "WELD-INV", "site": "M1",
         "quantity": 1, "name": name}, ensure_ascii=False) + "\n"
        for i, name in enumerate(["'=x", "''\tx", "'x", " '=y"])), encoding="utf-8")
    assert load_source(db, "equipment", str(json_rows)).created == 4
    before = content_hash(db)
    assert hub(["export", "--out", str(tmp_path / "out"), "--format", "jsonl,csv,xlsx"]) == 0
    for fmt in ("csv", "xlsx", "jsonl"):
        wipe(db, None)
        back = tmp_path / f"back-{fmt}"
        back.mkdir()
        for f in (tmp_path / "out").glob(f"*.{fmt}"):
            (back / f.name).write_bytes(f.read_bytes())
        assert hub(["load", "all", str(back)]) == 0, fmt
        assert content_hash(db) == before, fmt


def test_an_items_free_text_is_kept_as_typed(db, tmp_path):
    seed_region(db)
    path = _csv(tmp_path / "agreements.csv", [
        ["ИНН базовой организации", "Номер договора", "Вид договора", "Предмет договора",
         "Дата заключения", "Действует с", "ИНН стороны", "Роль стороны",
         "Обязанности стороны"],
        [inn(1), "Д-1", "PARTNERSHIP", "Сотрудничество", "01.09.2025", "01.09.2025", inn(1),
         "BASE", "\t1. Предоставить площадку\n\t2. Обеспечить мастера"],
        [inn(1), "Д-1", None, None, None, None, inn(2), "PARTICIPANT", "  направить группу "],
    ])
    report = load_source(db, "agreements", str(path))
    assert report.ok and report.created == 1, [str(e) for e in report.errors]
    records, _, _ = db.execute_query(
        "MATCH (a:PartnerAgreement)-[p:PARTY]-(o:Organization) "
        "RETURN o.inn AS o, p.responsibilities AS r ORDER BY o")
    assert [(r["o"], r["r"]) for r in records] == [
        (inn(1), "\t1. Предоставить площадку\n\t2. Обеспечить мастера"),
        (inn(2), "  направить группу ")]


def test_template_has_russian_headers_lists_example_and_notes(db, tmp_path):
    seed_region(db)
    out = tmp_path / "t.xlsx"
    assert hub(["template", "equipment", "--out", str(out)]) == 0
    book = load_workbook(out)
    assert book.sheetnames == ["Данные", "Справочники", "Пояснения"]
    ws = book["Данные"]
    assert [c.value for c in ws[1]][:3] == ["ИНН", "Инвентарный номер", "Тип"]
    formulas = [dv.formula1 for dv in ws.data_validations.dataValidation]
    lists = book["Справочники"]
    values = {c.value for col in lists.iter_cols() for c in col}
    assert {"WELD-INV", "Сварочный инвертор", "Исправно", "Списано"} <= values
    assert len(formulas) == 2
    notes = [[c.value for c in r] for r in book["Пояснения"].iter_rows()]
    assert any(r[0] == "Состояние" or r[0] == "Статус" for r in notes)
    assert ws.max_row == 1  # the empty template loads as nothing
    report = load_source(db, "equipment", str(out), dry_run=True)
    assert report.ok and report.read == 0


def test_restore_brings_back_retired_records(db, tmp_path, capsys):
    seed_region(db)
    rows = [["ИНН", "Инвентарный номер", "Тип", "Площадка", "Количество"],
            [inn(1), "ИН-1", "WELD-INV", "M1", 1]]
    path = _csv(tmp_path / "e.csv", rows)
    assert load_source(db, "equipment", str(path)).created == 1
    db.execute_query("MATCH (e:Equipment) SET e.retiredAt = datetime()")
    assert hub(["load", "equipment", str(path), "--restore", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["restored"] == 1
    records, _, _ = db.execute_query("MATCH (e:Equipment) RETURN e.retiredAt AS r")
    assert records[0]["r"] is None


def test_upload_through_the_api_with_the_callers_rights(db, tmp_path, settings):
    import httpx

    from tests.graphql_client import admin_token, live_server, token_for

    seed_region(db)
    data = _xlsx(tmp_path / "up.xlsx", [
        ["Оборудование"], HEADER,
        [1, inn(1), "ИН-1", "Сварочный инвертор", "M1", 2, "Исправно", 2021],
        [2, inn(1), "ИН-2", "WELD-INV", "M1", 1, "сгорело", 2021],
        ["Всего", None, None, None, None, 3]]).read_bytes()
    query = ("mutation($file: Upload!) { importRegistryFile(registry: \"equipment\", "
             "file: $file, partial: true) { id status rowsRead report { created rejected "
             "errors { row column value message } skipped { row } } } }")
    with live_server(settings) as url:
        def upload(token: str | None) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return httpx.post(f"{url}/graphql", headers=headers, timeout=30, data={
                "operations": json.dumps({"query": query, "variables": {"file": None}}),
                "map": json.dumps({"0": ["variables.file"]})},
                files={"0": ("up.xlsx", data, "application/octet-stream")})

        college = upload(token_for("registrar", organizations=[inn(2)])).json()
        report = college["data"]["importRegistryFile"]["report"]
        assert report["created"] == 0 and report["rejected"] == 2  # not its organization
        anonymous = upload(None).json()
        assert anonymous["errors"] and not _count(db, "Equipment")
        body = upload(admin_token()).json()
        assert not body.get("errors"), body
        job = body["data"]["importRegistryFile"]
        assert job["status"] == "DONE" and job["rowsRead"] == 2
        assert job["report"]["created"] == 1 and job["report"]["rejected"] == 1
        assert job["report"]["errors"][0]["row"] == 4
        assert job["report"]["errors"][0]["column"] == "Состояние"
        assert job["report"]["skipped"] == [{"row": 5}]
        follow = httpx.post(f"{url}/graphql", timeout=30,
                            headers={"Authorization": f"Bearer {admin_token()}"},
                            json={"query": "query($id: ID!) { importJob(id: $id) { status "
                                  "rowsWritten report { created } } }",
                                  "variables": {"id": job["id"]}}).json()
        assert follow["data"]["importJob"] == {"status": "DONE", "rowsWritten": 1,
                                               "report": {"created": 1}}
    changes = audit_trail(db, label="Equipment")
    assert [(c["actor"][:10], c["source"], c["uid"]) for c in changes] == [
        ("test-admin", "load:up.xlsx[Sheet]", f"{inn(1)}:ИН-1")]
