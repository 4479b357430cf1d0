"""The roadmap template parser: 66 activities, 9 groups, quirks of the Word export."""

import datetime as dt

import pytest

from graph.enums import Recurrence
from graph.roadmap import (
    RoadmapFormatError,
    control_dates,
    find_slots,
    load_template,
    parse_date,
    parse_roadmap,
)


@pytest.fixture(scope="module")
def roadmap():
    return load_template()


def test_counts(roadmap):
    assert len(roadmap.activities) == 66
    assert [g.number for g in roadmap.groups] == list(range(1, 10))
    per_group = {g.number: sum(a.group == g.number for a in roadmap.activities)
                 for g in roadmap.groups}
    assert per_group == {1: 6, 2: 13, 3: 7, 4: 2, 5: 8, 6: 6, 7: 15, 8: 4, 9: 5}
    assert roadmap.groups[7].title == (
        "Организация профориентационной деятельности на территории субъекта Российской Федерации")


def test_continued_rows_are_joined(roadmap):
    a25 = roadmap.activity(25)
    assert a25.documents == (
        "Свидетельства о повышении квалификации, отчет по программам подготовки кадров")
    a31 = roadmap.activity(31)
    assert a31.documents.endswith("для среднего профессионального образования")
    a38 = roadmap.activity(38)
    assert a38.expected_result.endswith(
        "для обучающихся общеобразовательных организаций _____ чел.")
    assert a38.documents.endswith("по программам для обучающихся общеобразовательных организаций")
    a53 = roadmap.activity(53)
    assert a53.title.endswith(
        "результатов ОПП, обеспечивающих документирование, хранение и первичную статистическую "
        "обработку результатов обучения и профессиональной ориентации")
    assert a53.expected_result.startswith("Создана и введена в эксплуатацию информационная система "
                                          "для контроля и анализа результатов ОПП, обеспечивающих")
    assert a53.documents == "Акты приемки работ"
    # the continuation did not leak into the next row
    assert roadmap.activity(54).title.startswith("Проектирование, создание и ввод в эксплуатацию "
                                                 "информационной системы для изучения рынка")


def test_fields_dates_and_recurrence(roadmap):
    a1 = roadmap.activity(1)
    assert a1.group == 1 and a1.first_due == dt.date(2019, 8, 25)
    assert a1.responsible == ("Субъект Российской Федерации",)
    assert a1.documents.startswith("Распорядительный акт регионального органа")
    assert roadmap.activity(6).responsible == ("ЦОПП", "ПОО субъекта РФ")
    rec = {a.number: a.recurrence for a in roadmap.activities}
    assert [n for n, r in rec.items() if r == Recurrence.QUARTERLY] == [6, 29, 30, 31, 32, 33, 34,
                                                                         35, 36]
    assert [n for n, r in rec.items() if r == Recurrence.ANNUAL] == [12]
    assert [n for n, r in rec.items() if r == Recurrence.AS_NEEDED] == [3, 4]
    assert roadmap.activity(3).first_due == dt.date(2020, 2, 5)
    assert roadmap.activity(12).first_due == dt.date(2019, 11, 30)
    assert roadmap.activity(66).first_due == dt.date(2020, 12, 31)
    assert roadmap.activity(19).first_due == dt.date(2020, 9, 1)
    assert {a.group for a in roadmap.activities if 43 <= a.number <= 57} == {7}


def test_slots_per_activity(roadmap):
    counts = {a.number: len(a.slots) for a in roadmap.activities if a.slots}
    assert counts == {23: 1, 25: 1, 26: 2, 29: 1, 30: 1, 31: 1, 32: 1, 33: 1, 34: 1, 35: 1,
                      36: 1, 37: 2, 38: 2, 39: 2, 40: 2, 41: 2, 42: 2, 59: 1, 60: 1, 61: 1}
    assert sum(counts.values()) == 27
    assert roadmap.activity(33).slots[0].description == (
        "Сконструировано ___ программ под заказ работодателей")
    assert roadmap.activity(23).slots[0].description == (
        "Укомплектован штат ЦОПП в количестве ___ сотрудников")
    # 37 forgot the blank before «чел.»: an implicit slot, flagged
    assert [s.implicit for s in roadmap.activity(37).slots] == [False, True]
    assert roadmap.activity(37).slots[1].description.endswith("образования ___ чел.")
    # «реализация___» without a space is still a blank
    assert roadmap.activity(42).slots[0].description.startswith("Обеспечена реализация ___ программ")
    assert roadmap.activity(60).slots[0].description == (
        "Организовано проведение профессиональных проб ___ граждан")


def test_slot_descriptions_use_sentence_context():
    slots = find_slots("Сделано ___ (кол-во) дел. Численность _____ чел.")
    assert [(s.index, s.description) for s in slots] == [
        (1, "Сделано ___ дел."), (2, "Численность ___ чел.")]


def test_dates_and_errors():
    assert parse_date("31 марта 2020 года (далее ежеквартально)") == dt.date(2020, 3, 31)
    with pytest.raises(RoadmapFormatError):
        parse_date("в течение года")
    with pytest.raises(RoadmapFormatError):
        parse_roadmap("Группа мероприятий 1. X\t\t\n2.\tT\tR\t1 мая 2020 года\tE\tD\n")


def test_control_dates_follow_recurrence():
    q = control_dates(dt.date(2020, 3, 31), Recurrence.QUARTERLY, dt.date(2021, 3, 31))
    assert q == [dt.date(2020, 3, 31), dt.date(2020, 6, 30), dt.date(2020, 9, 30),
                 dt.date(2020, 12, 31), dt.date(2021, 3, 31)]
    a = control_dates(dt.date(2019, 11, 30), Recurrence.ANNUAL, dt.date(2022, 1, 1))
    assert a == [dt.date(2019, 11, 30), dt.date(2020, 11, 30), dt.date(2021, 11, 30)]
    assert control_dates(dt.date(2020, 2, 5), Recurrence.AS_NEEDED, dt.date(2030, 1, 1)) == [
        dt.date(2020, 2, 5)]
