"""`hub load` against the real Neo4j: every source kind, row-level errors, all-or-nothing,
--partial, --dry-run, idempotency, and a load killed half way then run again."""

from __future__ import annotations

import csv
import glob
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from openpyxl import Workbook

from hub.cli import main as hub
from loaders.export import content_hash
from loaders.load import load_source
from tests.conftest import wipe
from tests.factories import audit_trail, inn, seed_region

HUB = str(Path(sys.executable).with_name("hub"))


def _count(driver, label: str) -> int:
    records, _, _ = driver.execute_query(f"MATCH (n:{label}) RETURN count(n) AS c")
    return records[0]["c"]


def _write_csv(path: Path, header: list[str], rows: list[list[object]], *,
               encoding: str = "cp1251", delimiter: str = ";") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)
    return path


EQUIPMENT_HEADER = ["№ п/п", "ИНН организации", "Инвентарный номер", "Тип оборудования",
                    "Площадка", "Наименование", "Количество", "Состояние", "Год выпуска"]


def _equipment_row(n: int, **kw: object) -> list[object]:
    row = {"no": n, "inn": inn(1), "inv": f"ИН-{n:04d}", "type": "WELD-INV", "site": "M1",
           "name": "Инвертор сварочный", "qty": "2", "status": "Исправно", "year": "2021"}
    row.update(kw)
    return list(row.values())


def _load_json(capsys, *argv: str) -> tuple[int, dict]:
    code = hub([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_cp1251_semicolon_csv_with_russian_headers(db, tmp_path, capsys):
    seed_region(db)
    path = _write_csv(tmp_path / "оборудование.csv", EQUIPMENT_HEADER,
                      [_equipment_row(i) for i in range(1, 6)])
    code, report = _load_json(capsys, "load", "equipment", str(path))
    assert code == 0, report["errors"]
    assert (report["encoding"], report["delimiter"]) == ("cp1251", ";")
    assert (report["read"], report["valid"], report["created"], report["rejected"]) == (5, 5, 5, 0)
    assert report["columns"]["Инвентарный номер"] == "inventory_number"
    assert report["ignored_columns"] == ["№ п/п"]
    records, _, _ = db.execute_query(
        "MATCH (s:Site)-[:HAS_EQUIPMENT]->(e:Equipment {inventory_number: 'ИН-0003'})"
        "-[:OF_TYPE]->(t) RETURN s.uid AS s, t.uid AS t, e.quantity AS q, e.status AS st")
    assert records[0].data() == {"s": f"{inn(1)}:M1", "t": "WELD-INV", "q": 2, "st": "WORKING"}


@pytest.mark.parametrize(("encoding", "delimiter"), [("utf-8", ","), ("utf-8-sig", "\t")])
def test_csv_encodings_and_delimiters_are_detected(db, tmp_path, encoding, delimiter):
    seed_region(db)
    path = _write_csv(tmp_path / "e.csv", EQUIPMENT_HEADER, [_equipment_row(1)],
                      encoding=encoding, delimiter=delimiter)
    report = load_source(db, "equipment", str(path))
    assert report.ok and report.created == 1
    assert (report.encoding, report.delimiter) == (encoding, delimiter)


def test_row_errors_name_file_row_source_column_value_and_reason(db, tmp_path, capsys):
    seed_region(db)
    rows = [_equipment_row(1), _equipment_row(2, qty="0"), _equipment_row(3),
            _equipment_row(4, site="НЕТ"), _equipment_row(5, status="сгорело"),
            _equipment_row(6, inn="1234567890")]
    path = _write_csv(tmp_path / "e.csv", EQUIPMENT_HEADER, rows)
    code, report = _load_json(capsys, "load", "equipment", str(path))
    assert code == 1 and not report["written"]
    assert (report["read"], report["valid"], report["rejected"], report["created"]) == (6, 2, 4, 0)
    got = [(e["row"], e["column"], e["field"], e["value"]) for e in report["errors"]]
    assert got == [
        (3, "Количество", "quantity", "0"),  # header is row 1: data row 2 is file row 3
        (5, "Площадка", "site", f"{inn(1)}:НЕТ"),
        (6, "Состояние", "status", "сгорело"),
        (7, "Площадка", "site", "1234567890:M1"),  # no such organization, so no such site
    ]
    messages = {e["row"]: e["message"] for e in report["errors"]}
    assert "не меньше 1" in messages[3] and "не найдено" in messages[5]
    assert "не найдено в реестре «Площадки»" in messages[7]
    assert _count(db, "Equipment") == 0
    hub(["load", "equipment", str(path)])  # the human report says the same
    out = capsys.readouterr().out
    assert "строка 3, столбец «Количество» (quantity), значение «0»" in out
    assert "ничего не записано" in out


def test_partial_writes_valid_rows_and_dry_run_writes_nothing(db, tmp_path, capsys):
    seed_region(db)
    rows = [_equipment_row(1), _equipment_row(2, qty="много"), _equipment_row(3)]
    path = _write_csv(tmp_path / "e.csv", EQUIPMENT_HEADER, rows)
    code, report = _load_json(capsys, "load", "equipment", str(path), "--dry-run", "--partial")
    assert code == 1 and report["dry_run"] and not report["written"]
    assert (report["valid"], report["rejected"]) == (2, 1)
    assert _count(db, "Equipment") == 0
    code, report = _load_json(capsys, "load", "equipment", str(path), "--partial")
    assert code == 1 and report["written"]
    assert (report["created"], report["rejected"]) == (2, 1)
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(3, "Количество")]
    assert _count(db, "Equipment") == 2
    clean = _write_csv(tmp_path / "ok.csv", EQUIPMENT_HEADER, [_equipment_row(9)])
    code, report = _load_json(capsys, "load", "equipment", str(clean), "--dry-run")
    assert code == 0 and (report["valid"], report["created"]) == (1, 0)
    assert _count(db, "Equipment") == 2


def test_all_or_nothing_holds_across_write_batches(db, tmp_path):
    seed_region(db)
    rows = [_equipment_row(i) for i in range(1, 40)] + [_equipment_row(40, type="НЕТ-ТАКОГО")]
    path = _write_csv(tmp_path / "e.csv", EQUIPMENT_HEADER, rows)
    report = load_source(db, "equipment", str(path), batch_rows=7)
    assert not report.written and [(e.row, e.column) for e in report.errors] == [
        (41, "Тип оборудования")]
    assert _count(db, "Equipment") == 0
    report = load_source(db, "equipment", str(path), batch_rows=7, partial=True)
    assert report.written and report.created == 39
    ok = _write_csv(tmp_path / "ok.csv", EQUIPMENT_HEADER, rows[:-1])
    report = load_source(db, "equipment", str(ok), batch_rows=7)
    assert report.ok and (report.created, report.unchanged) == (0, 39)


def test_loading_twice_changes_nothing(db, tmp_path):
    seed_region(db)
    path = _write_csv(tmp_path / "e.csv", EQUIPMENT_HEADER,
                      [_equipment_row(i) for i in range(1, 21)])
    first = load_source(db, "equipment", str(path))
    before = content_hash(db)
    second = load_source(db, "equipment", str(path))
    assert (first.created, second.created, second.updated, second.unchanged) == (20, 0, 0, 20)
    assert content_hash(db) == before
    changed = _write_csv(tmp_path / "e2.csv", EQUIPMENT_HEADER,
                         [_equipment_row(i, qty="3" if i == 5 else "2") for i in range(1, 21)])
    third = load_source(db, "equipment", str(changed))
    assert (third.updated, third.unchanged) == (1, 19)


def test_xlsx_staff_with_one_row_per_qualification(db, tmp_path):
    seed_region(db)
    wb = Workbook()
    wb.active.title = "Справка"
    ws = wb.create_sheet("Кадры")
    ws.append([])  # a blank first row: the header is row 2, numbering stays the sheet's
    ws.append(["ИНН", "Табельный номер", "ФИО", "Должность", "Роль", "Компетенция",
               "Экспертный статус", "Действует до"])
    ws.append([int(inn(2)), 15, "Петров Пётр Петрович", "Мастер п/о", "мастер", "MF-01",
               "Региональный эксперт", "31.12.2027"])
    ws.append([int(inn(2)), 15, None, None, None, "MF-02", "Нет", None])
    ws.append([int(inn(2)), 16, "Сидорова Анна Ивановна", "Преподаватель", "Преподаватель",
               None, None, None])
    ws.append([int(inn(2)), 17, "Иванов Иван Иванович", "Преподаватель", "Преподаватель",
               "MF-01", "Главный", None])
    ws.append([int(inn(2)), 18, "Орлов Олег Юрьевич", "Эксперт", "Эксперт", "MF-01", None, None])
    ws.append([int(inn(2)), 18, None, None, None, "NO-SUCH", None, None])
    path = tmp_path / "кадры.xlsx"
    wb.save(path)
    report = load_source(db, "staff", str(path), sheet="Кадры", partial=True)
    assert (report.read, report.records, report.valid, report.created) == (6, 4, 2, 2)
    got = [(e.row, e.column, e.field, e.value) for e in report.errors]
    assert got == [(6, "Экспертный статус", "qualifications.0.expert_status", "Главный"),
                   (8, "Компетенция", "qualifications", "NO-SUCH")]
    records, _, _ = db.execute_query(
        "MATCH (s:Staff)-[q:QUALIFIED_IN]->(c) RETURN s.personnel_number AS n, "
        "s.role AS role, c.uid AS c, q.expert_status AS st, q.valid_until AS until ORDER BY c")
    assert [(r["n"], r["role"], r["c"], r["st"], str(r["until"])) for r in records] == [
        ("15", "MASTER", "MF-01", "REGIONAL", "2027-12-31"),
        ("15", "MASTER", "MF-02", "NONE", "None")]
    ws.delete_rows(6, 3)
    wb.save(path)
    report = load_source(db, "staff", str(path), sheet="2")
    assert report.ok and (report.created, report.unchanged) == (0, 2), report.errors


def test_json_lines_with_a_broken_line(db, tmp_path):
    seed_region(db)
    lines = [
        json.dumps({"organization": inn(2), "code": "L2", "name": "Лаборатория 2",
                    "municipality": "22721000", "workplaces": 10, "latitude": 56.2,
                    "longitude": 43.4}, ensure_ascii=False),
        "",
        "{not json",
        json.dumps({"organization": inn(2), "code": "L3", "name": "Лаборатория 3",
                    "municipality": "22721000", "workplaces": 4, "latitude": 56.2},
                   ensure_ascii=False),
    ]
    path = tmp_path / "sites.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = load_source(db, "sites", str(path))
    assert not report.written and report.read == 3
    assert [(e.row, e.field) for e in report.errors] == [(3, "*"), (4, "*")]
    assert "широта и долгота" in report.errors[1].message
    report = load_source(db, "sites", str(path), partial=True)
    assert report.created == 1


def test_json_array_and_mapping_file(db, tmp_path, capsys):
    seed_region(db)
    path = tmp_path / "types.json"
    path.write_text(json.dumps({"items": [
        {"Шифр": "CNC-MILL", "Что это": "Фрезерный станок с ЧПУ", "Группа": "Станки"},
        {"Шифр": "PRINTER-3D", "Что это": "3D-принтер"},
    ]}, ensure_ascii=False), encoding="utf-8")
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"Шифр": "code", "Что это": "name"}, ensure_ascii=False),
                       encoding="utf-8")
    code, report = _load_json(capsys, "load", "equipment_types", str(path))
    assert code == 1 and report["errors"][0]["message"].startswith("нет столбца")
    code, report = _load_json(capsys, "load", "equipment_types", str(path),
                              "--mapping", str(mapping))
    assert code == 0 and report["created"] == 2
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"Шифр": "nonsense"}), encoding="utf-8")
    assert hub(["load", "equipment_types", str(path), "--mapping", str(bad)]) == 2


def test_sqlite_table_and_query(db, tmp_path, capsys):
    seed_region(db)
    file = tmp_path / "college.sqlite"
    con = sqlite3.connect(file)
    con.execute("CREATE TABLE inv (inn TEXT, invno INTEGER, kind TEXT, site TEXT, qty INTEGER,"
                " status TEXT, yr INTEGER)")
    con.executemany("INSERT INTO inv VALUES (?,?,?,?,?,?,?)", [
        (inn(2), 1001, "LATHE-CNC", "M1", 1, "WORKING", 2019),
        (inn(2), 1002, "LATHE-CNC", "M1", 1, "В ремонте", 2020),
        (inn(2), 1003, "WELD-INV", "M1", 0, "WORKING", 2020),
    ])
    con.execute("CREATE TABLE equipment (organization TEXT, inventory_number TEXT, type TEXT,"
                " site TEXT, quantity INTEGER)")
    con.execute("INSERT INTO equipment VALUES (?, 'T-1', 'WELD-INV', 'M1', 4)", (inn(1),))
    con.commit()
    con.close()
    url = f"sqlite:///{file}"
    code, report = _load_json(capsys, "load", "equipment", url, "--table", "equipment")
    assert code == 0 and report["created"] == 1
    query = ("SELECT inn AS organization, invno AS inventory_number, kind AS type, site, "
             "qty AS quantity, status, yr AS year FROM inv ORDER BY invno")
    code, report = _load_json(capsys, "load", "equipment", url, "--query", query)
    assert code == 1 and [(e["row"], e["column"]) for e in report["errors"]] == [(3, "quantity")]
    code, report = _load_json(capsys, "load", "equipment", url, "--query", query, "--partial")
    assert report["created"] == 2
    records, _, _ = db.execute_query(
        "MATCH (e:Equipment {inventory_number: '1002'}) RETURN e.status AS s")
    assert records[0]["s"] == "REPAIR"
    assert hub(["load", "equipment", url, "--table", "nope"]) == 2


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                                                   reverse=True)), None)
    assert found, f"{name} not found: install the Debian postgresql package (.ci/run does)"
    return found


@pytest.fixture(scope="module")
def postgres_url():
    """A throwaway PostgreSQL cluster (Debian `postgresql`), as the postgres user under root."""
    directory = tempfile.mkdtemp(prefix="hub-pg-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(directory, "data")
    subprocess.run([*prefix, _pg_bin("initdb"), "-D", data, "-A", "trust", "-U", "hub",
                    "-E", "UTF8"], check=True, capture_output=True)
    subprocess.run([*prefix, _pg_bin("pg_ctl"), "-D", data, "-w", "-l", f"{directory}/log",
                    "-o", f"-p {port} -k {directory} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://hub@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, _pg_bin("pg_ctl"), "-D", data, "-m", "fast", "stop"],
                       check=False, capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)


def test_postgresql_query(db, postgres_url, capsys):
    import sqlalchemy as sa

    seed_region(db)
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS staff_export"))
        conn.execute(sa.text(
            "CREATE TABLE staff_export (\"ИНН\" text, \"Таб. №\" integer, \"ФИО\" text, "
            "\"Роль\" text, \"Компетенция\" text, \"Статус эксперта\" text)"))
        conn.execute(sa.text("INSERT INTO staff_export VALUES (:i, 7, 'Орлова Вера Олеговна', "
                             "'Преподаватель', 'MF-01', 'Сертифицированный эксперт'), "
                             "(:i, 7, NULL, NULL, 'MF-02', NULL)"), {"i": inn(2)})
    engine.dispose()
    code, report = _load_json(capsys, "load", "staff", postgres_url, "--table", "staff_export")
    assert code == 0 and (report["read"], report["records"], report["created"]) == (2, 1, 1)
    records, _, _ = db.execute_query(
        "MATCH (:Staff {uid: $uid})-[q:QUALIFIED_IN]->(c) RETURN c.uid AS c, q.expert_status AS s "
        "ORDER BY c", uid=f"{inn(2)}:7")
    assert [(r["c"], r["s"]) for r in records] == [("MF-01", "CERTIFIED"), ("MF-02", "NONE")]


def _big_equipment(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"organization": inn(1), "inventory_number": f"K-{i:06d}",
                                 "type": "WELD-INV" if i % 2 else "LATHE-CNC", "site": "M1",
                                 "quantity": 1 + i % 5, "year": 2015 + i % 10}) + "\n")
    return path


def test_killed_load_run_again_equals_a_clean_load(db, tmp_path, settings):
    seed_region(db)
    path = _big_equipment(tmp_path / "equipment.jsonl", 30000)
    load_source(db, "equipment", str(path))
    clean = content_hash(db), _count(db, "Equipment")
    wipe(db, settings.neo4j_database)
    seed_region(db)
    proc = subprocess.Popen([HUB, "load", "equipment", str(path), "--batch-rows", "1000"],
                            env=os.environ.copy(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _count(db, "Equipment") < 3000 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    half = _count(db, "Equipment")
    assert 0 < half < 30000, half
    rerun = subprocess.run([HUB, "load", "equipment", str(path), "--json"], check=False,
                           env=os.environ.copy(), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["created"] + report["unchanged"] == 30000 and report["unchanged"] >= half
    assert (content_hash(db), _count(db, "Equipment")) == clean


def test_load_as_an_account_checks_its_rights_and_is_audited(db, tmp_path, monkeypatch, capsys):
    from hub import ledger
    from hub.settings import get_settings

    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    monkeypatch.setenv("HUB_DATABASE_URL", url)
    get_settings.cache_clear()
    monkeypatch.setattr("hub.load_cmd.get_settings", get_settings)
    try:
        ledger.create_account(url, "college", "registrar", organizations=[inn(2)])
        seed_region(db)
        path = _write_csv(tmp_path / "e.csv", EQUIPMENT_HEADER,
                          [_equipment_row(1), _equipment_row(2, inn=inn(2))])
        assert hub(["load", "equipment", str(path), "--as", "nobody"]) == 2
        capsys.readouterr()
        code, report = _load_json(capsys, "load", "equipment", str(path), "--as", "college",
                                  "--partial")
        assert code == 1 and report["account"] == "college" and report["created"] == 1
        assert [(e["row"], e["message"]) for e in report["errors"]] == [
            (2, "организация не закреплена за учётной записью")]
        changes = audit_trail(db, label="Equipment")
        assert [(c["actor"], c["source"], c["uid"]) for c in changes] == [
            ("college", "load:e.csv", f"{inn(2)}:ИН-0002")]
    finally:
        get_settings.cache_clear()
