"""Draft of a network agreement (273-ФЗ art. 15) as DOCX, fields filled from a network plan."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_BREAK
from docx.shared import Pt

from graph.enums import PartyRole
from graph.planning import AgreementDraft, IssuedDocument, NetworkPlan, PartyShare

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _date(value: dt.date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else "«__» ________ 20__ г."


def _party_line(p: PartyShare) -> str:
    return f"{p.name} (ИНН {p.organization}) — {p.role_label.lower()}"


def _table(doc: DocxDocument, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    for values in rows:
        for cell, text in zip(table.add_row().cells, values, strict=True):
            cell.text = text


def _resources(doc: DocxDocument, p: PartyShare) -> None:
    doc.add_paragraph(f"{p.role_label}: {p.name}", style="List Bullet")
    sites = "; ".join(name for _, name in p.sites) or "—"
    doc.add_paragraph(f"Площадки: {sites}")
    equipment = "; ".join(g.line for g in p.equipment) or "—"
    doc.add_paragraph(f"Оборудование: {equipment}")
    staff = "; ".join(s.full_name for s in p.staff) or "—"
    doc.add_paragraph(f"Педагогические работники: {staff}")


def _issued(d: IssuedDocument) -> str:
    role = PartyRole(d.role)
    scope = ("по итогам освоения образовательной программы в полном объёме"
             if role is PartyRole.BASE else
             "по итогам освоения реализуемых ею модулей (№ "
             + ", ".join(map(str, d.modules)) + ")")
    return f"{role.label} — {d.issuer} — выдаёт {scope}: {d.document}."


def _agreement(doc: DocxDocument, plan: NetworkPlan, a: AgreementDraft) -> None:
    doc.add_heading("ДОГОВОР", level=1)
    doc.add_paragraph("о сетевой форме реализации образовательной программы "
                      "(статья 15 Федерального закона от 29.12.2012 № 273-ФЗ "
                      "«Об образовании в Российской Федерации»)")
    doc.add_paragraph(f"№ ________ от {_date(None)}")
    if a.existing_agreements:
        doc.add_paragraph("Действующие соглашения сторон: "
                          + ", ".join(x.label for x in a.existing_agreements))

    doc.add_heading("1. Стороны договора", level=2)
    for p in (a.base, a.participant):
        doc.add_paragraph(_party_line(p), style="List Number")

    doc.add_heading("2. Предмет договора", level=2)
    doc.add_paragraph(
        f"Стороны совместно реализуют образовательную программу «{a.program_name}» "
        f"(код {a.program}, {a.program_hours} ч) в сетевой форме.")
    doc.add_paragraph(f"Вид образовательной программы: {a.program_kind}.")
    doc.add_paragraph(f"Уровень: {a.program_level}.")
    doc.add_paragraph(f"Направленность: {a.program_focus}.")
    doc.add_paragraph(f"Численность обучающихся: {a.learners} чел.")
    doc.add_paragraph(f"Срок реализации: с {_date(a.start)} по {_date(a.end)}.")

    doc.add_heading("3. Статус обучающихся", level=2)
    doc.add_paragraph(a.learner_status)

    doc.add_heading("4. Распределение модулей между сторонами", level=2)
    rows = []
    for p in (a.base, a.participant):
        rows += [(p.name, str(number), name, str(hours)) for number, name, hours in p.modules]
        rows.append((p.name, "", "Итого", str(p.hours)))
    _table(doc, ("Сторона", "№", "Модуль", "Часы"), rows)

    doc.add_heading("5. Ресурсы сторон и порядок их использования", level=2)
    for p in (a.base, a.participant):
        _resources(doc, p)
    doc.add_paragraph("Ресурсы используются для реализации модулей в следующем порядке:")
    _table(doc, ("Сторона", "Модуль", "Часы", "Площадка", "Оборудование",
                 "Педагогические работники"),
           [(u.party_name, f"{u.module_number}. {u.module_name}", str(u.hours), u.site_name,
             "\n".join(g.line for g in u.equipment) or "—",
             "\n".join(s.full_name for s in u.staff) or "—") for u in a.resources])

    doc.add_heading("6. Документы, выдаваемые по итогам обучения", level=2)
    for d in a.documents:
        doc.add_paragraph(_issued(d), style="List Bullet")

    doc.add_heading("7. Подписи сторон", level=2)
    for p in (a.base, a.participant):
        doc.add_paragraph(f"{p.role_label}: {p.name}, ИНН {p.organization}  "
                          "____________________ / ____________ /")


def agreements_docx(plan: NetworkPlan, drafts: Sequence[AgreementDraft]) -> bytes:
    """One document: an agreement per partner, each from a new page."""
    doc = Document()
    doc.styles["Normal"].font.name = "Times New Roman"
    doc.styles["Normal"].font.size = Pt(12)
    doc.core_properties.title = f"Проект договора о сетевой форме: {plan.program_name}"
    doc.core_properties.language = "ru-RU"
    if not drafts:
        doc.add_paragraph(f"План {plan.uid}: все модули программы «{plan.program_name}» "
                          f"реализует {plan.home_name}; договор о сетевой форме не требуется.")
    for i, a in enumerate(drafts):
        if i:
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        _agreement(doc, plan, a)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def docx_filename(plan: NetworkPlan) -> str:
    start = plan.start.isoformat() if plan.start else "без-даты"
    return f"network-agreement-{plan.program}-{start}.docx"
