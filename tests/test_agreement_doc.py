"""Art. 15 agreement drafts on hand-made plans: the fields part 3 requires, and the DOCX."""

import datetime as dt
import io

from docx import Document

from graph.agreement_doc import agreements_docx
from graph.planning import (
    Assignment,
    ExistingAgreement,
    NetworkPlan,
    ProgramInfo,
    StaffInfo,
    Unit,
    agreements_needed,
)

BASE, PARTNER = "5200000039", "5200000040"


def _mill(i):
    return Unit(f"{PARTNER}:ИНВ-{i:03d}", "Фрезерный станок с ЧПУ", "CNC-MILL", 1,
                "Станок фрезерный с ЧПУ")


def hand_made(program_type="SECTORAL", focus=("Фрезерные работы на станках с ЧПУ",)):
    home = Assignment(
        "P-1:1", 1, "Охрана труда", 8, f"{BASE}:MAIN", "Главный корпус", BASE,
        "ГБПОУ «Базовый колледж»", "BASE", 0.0,
        (StaffInfo(f"{BASE}:1", "Иванова Анна Петровна", "NONE"),),
        (Unit(f"{BASE}:T-1", None, "SIM", 2, "Тренажёр"),
         Unit(f"{BASE}:T-2", "Тренажёр-манекен", "SIM", 1, "Тренажёр")))
    mill = Assignment(
        "P-1:2", 2, "Фрезерная обработка", 72, f"{PARTNER}:W", "Цех № 2", PARTNER,
        "АО «Завод»", "PARTICIPANT", 12.5,
        (StaffInfo(f"{PARTNER}:7", "Петров Пётр Петрович", "REGIONAL"),),
        tuple(_mill(i) for i in range(15)) + (
            Unit(f"{PARTNER}:ИНВ-900", None, "VISE", 4, "Тиски станочные"),))
    turn = Assignment(
        "P-1:3", 3, "Контроль качества", 16, f"{PARTNER}:LAB", "Лаборатория", PARTNER,
        "АО «Завод»", "PARTICIPANT", 13.0, (), (_mill(0),))
    return NetworkPlan(
        "P-1", "Оператор станков с ЧПУ", 96, BASE, "ГБПОУ «Базовый колледж»", 12,
        dt.date(2027, 9, 1), dt.date(2027, 12, 25), None, f"{BASE}:MAIN",
        (home, mill, turn), (), True, uid=f"{BASE}:P-1:2027-09-01",
        info=ProgramInfo(program_type, focus))


EXISTING = {PARTNER: (ExistingAgreement(f"{BASE}:СФ-2024-002", "СФ-2024-002",
                                        dt.date(2024, 3, 12)),)}


def test_draft_fields():
    (d,) = agreements_needed(hand_made(), EXISTING)
    assert d.program_kind.startswith("дополнительная профессиональная программа")
    assert d.program_level == "дополнительное профессиональное образование"
    assert d.program_focus == "Фрезерные работы на станках с ЧПУ"
    assert "являются обучающимися базовой организации (ГБПОУ «Базовый колледж»)" in \
        d.learner_status
    # equipment by type with a count, not unit by unit; a unit used for two modules once
    assert [(g.type, g.name, g.quantity) for g in d.participant.equipment] == [
        ("VISE", "Тиски станочные", 4), ("CNC-MILL", "Фрезерный станок с ЧПУ", 15)]
    # items of a type named differently (or not at all) go by the type's name
    assert [g.line for g in d.base.equipment] == ["Тренажёр — 3 шт."]
    # the order of using resources: per module, whose site, equipment, staff and hours
    assert [(u.module_number, u.organization, u.site_name, u.hours) for u in d.resources] == [
        (1, BASE, "Главный корпус", 8), (2, PARTNER, "Цех № 2", 72),
        (3, PARTNER, "Лаборатория", 16)]
    assert [g.line for g in d.resources[1].equipment] == [
        "Тиски станочные — 4 шт.", "Фрезерный станок с ЧПУ — 15 шт."]
    assert [s.full_name for s in d.resources[1].staff] == ["Петров Пётр Петрович"]
    # who issues what
    base_doc, partner_doc = d.documents
    assert (base_doc.organization, base_doc.document, base_doc.modules) == (
        BASE, "удостоверение о повышении квалификации", (1, 2, 3))
    assert (partner_doc.organization, partner_doc.modules) == (PARTNER, (2, 3))
    assert partner_doc.document.startswith("справка об освоении модулей")
    assert [x.label for x in d.existing_agreements] == ["№ СФ-2024-002 от 12.03.2024"]


def test_kind_follows_program_type_and_focus_may_be_left_blank():
    (d,) = agreements_needed(hand_made("SCHOOL_STUDENTS", ()))
    assert d.program_level == "профессиональное обучение"
    assert d.documents[0].document == "свидетельство о профессии рабочего, должности служащего"
    assert d.program_focus == "________________" and d.existing_agreements == ()
    (d,) = agreements_needed(hand_made(None))
    assert d.program_kind == "________________"  # unknown type: the parties fill it in


def _docx(plan, drafts):
    doc = Document(io.BytesIO(agreements_docx(plan, drafts)))
    return doc, [p.text for p in doc.paragraphs]


def test_docx_sections_and_grouping():
    plan = hand_made()
    doc, paragraphs = _docx(plan, agreements_needed(plan, EXISTING))
    text = "\n".join(paragraphs)
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading 2")]
    assert headings == ["1. Стороны договора", "2. Предмет договора", "3. Статус обучающихся",
                        "4. Распределение модулей между сторонами",
                        "5. Ресурсы сторон и порядок их использования",
                        "6. Документы, выдаваемые по итогам обучения", "7. Подписи сторон"]
    assert "Действующие соглашения сторон: № СФ-2024-002 от 12.03.2024" in paragraphs
    assert f"{BASE}:СФ-2024-002" not in text
    assert ("Вид образовательной программы: дополнительная профессиональная программа "
            "(программа повышения квалификации).") in paragraphs
    assert "Уровень: дополнительное профессиональное образование." in paragraphs
    assert "Направленность: Фрезерные работы на станках с ЧПУ." in paragraphs
    assert any(p.startswith("Обучающиеся по образовательной программе являются обучающимися "
                            "базовой организации") for p in paragraphs)
    assert ("Оборудование: Тиски станочные — 4 шт.; Фрезерный станок с ЧПУ — 15 шт."
            in paragraphs)
    assert "инв. №" not in text and text.count("Фрезерный станок с ЧПУ") == 1
    # the resource-use table: a row per module with the party's site, equipment and staff
    modules, resources = doc.tables
    rows = [[c.text for c in r.cells] for r in resources.rows]
    assert rows[0] == ["Сторона", "Модуль", "Часы", "Площадка", "Оборудование",
                       "Педагогические работники"]
    assert rows[2] == ["АО «Завод»", "2. Фрезерная обработка", "72", "Цех № 2",
                       "Тиски станочные — 4 шт.\nФрезерный станок с ЧПУ — 15 шт.",
                       "Петров Пётр Петрович"]
    assert rows[3][4:] == ["Фрезерный станок с ЧПУ — 1 шт.", "—"]
    assert ["АО «Завод»", "", "Итого", "88"] in [[c.text for c in r.cells]
                                                 for r in modules.rows]
    documents = paragraphs[paragraphs.index("6. Документы, выдаваемые по итогам обучения") + 1:
                           paragraphs.index("7. Подписи сторон")]
    assert documents == [
        ("Базовая организация — ГБПОУ «Базовый колледж» — выдаёт по итогам освоения "
         "образовательной программы в полном объёме: удостоверение о повышении квалификации."),
        ("Организация-участник — АО «Завод» — выдаёт по итогам освоения реализуемых ею "
         "модулей (№ 2, 3): справка об освоении модулей образовательной программы (№ 2, 3).")]
