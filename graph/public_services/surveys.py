"""Surveys (template item 54): an operator defines a survey for target categories over a
period; anyone answers anonymously; results are aggregated per question and category (free
text listed to the operator only), exported as XLSX and turned into DemandSignals.

Demand rule (`demand_rows`): a response counts as demand for competency K in its
municipality when it picks an option tied to K (`options[].competency`) or scores a SCALE
question tied to K (`competency`) in the top two points of its scale; a response counts at
most once per competency. One DemandSignal per (K, municipality):
`source = survey-<code>`, the survey's period, `survey_answers` = the responses counted.
Responses without a municipality are not counted (reported as `unplaced`). Rerunning after
more answers updates the same signals (natural key: competency, municipality, source, start).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from collections import Counter, defaultdict
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from graph import enums as e
from graph import models as m
from graph.access import Principal
from graph.ingest import ingest_plan, prepare
from graph.public_services.common import Refused, audited, now_utc, refuse_report
from graph.registry import REGISTRIES
from graph.values import native
from graph.writes import Plan

LABEL = "Survey"
RESPONSE_LABEL = "SurveyResponse"
MAX_QUESTIONS = 50
MAX_TEXT = 2000


class SurveyCategory(e.LabelledEnum):
    SCHOOL_STUDENT = "SCHOOL_STUDENT"
    PARENT = "PARENT"
    COLLEGE_STUDENT = "COLLEGE_STUDENT"
    EMPLOYER = "EMPLOYER"
    JOB_SEEKER = "JOB_SEEKER"
    EMPLOYED = "EMPLOYED"
    PRE_RETIREMENT = "PRE_RETIREMENT"
    OTHER = "OTHER"


class QuestionKind(e.LabelledEnum):
    SINGLE = "SINGLE"
    MULTIPLE = "MULTIPLE"
    SCALE = "SCALE"
    TEXT = "TEXT"


e.LABELS[SurveyCategory] = {
    SurveyCategory.SCHOOL_STUDENT: "Школьники",
    SurveyCategory.PARENT: "Родители",
    SurveyCategory.COLLEGE_STUDENT: "Студенты",
    SurveyCategory.EMPLOYER: "Работодатели",
    SurveyCategory.JOB_SEEKER: "Ищущие работу",
    SurveyCategory.EMPLOYED: "Работающие граждане",
    SurveyCategory.PRE_RETIREMENT: "Граждане предпенсионного возраста",
    SurveyCategory.OTHER: "Иные",
}
e.LABELS[QuestionKind] = {
    QuestionKind.SINGLE: "Один вариант",
    QuestionKind.MULTIPLE: "Несколько вариантов",
    QuestionKind.SCALE: "Шкала",
    QuestionKind.TEXT: "Свободный ответ",
}

Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32,
                                       pattern=r"^[A-Za-z0-9_-]+$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Option(_Frozen):
    key: Key
    text: Text
    competency: m.Code | None = None


class Question(_Frozen):
    key: Key
    text: Text
    kind: QuestionKind
    options: tuple[Option, ...] = ()
    scale_min: int = Field(default=1, ge=0, le=10)
    scale_max: int = Field(default=5, ge=1, le=10)
    competency: m.Code | None = None
    required: bool = False

    @model_validator(mode="after")
    def _shape(self) -> Question:
        choice = self.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
        if choice and len(self.options) < 2:
            raise ValueError(f"вопрос {self.key}: нужно не меньше двух вариантов")
        if not choice and self.options:
            raise ValueError(f"вопрос {self.key}: варианты — только у вопросов с выбором")
        keys = [o.key for o in self.options]
        if len(set(keys)) != len(keys):
            raise ValueError(f"вопрос {self.key}: варианты повторяются")
        if self.kind == QuestionKind.SCALE and self.scale_max <= self.scale_min:
            raise ValueError(f"вопрос {self.key}: шкала от меньшего к большему")
        if self.competency and self.kind != QuestionKind.SCALE:
            raise ValueError(f"вопрос {self.key}: компетенция вопроса — только у шкалы "
                             "(у вопросов с выбором — у вариантов)")
        return self


class SurveyInput(_Frozen):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40,
                                           pattern=r"^[A-Za-z0-9_-]+$")]
    region: m.RegionCode
    title: Text
    description: Annotated[str, StringConstraints(max_length=4000)] | None = None
    categories: tuple[SurveyCategory, ...] = Field(min_length=1)
    starts_on: m.Date
    ends_on: m.Date
    competencies: tuple[m.Code, ...] = ()
    questions: tuple[Question, ...] = Field(min_length=1, max_length=MAX_QUESTIONS)

    @model_validator(mode="after")
    def _consistent(self) -> SurveyInput:
        if self.ends_on < self.starts_on:
            raise ValueError("дата окончания раньше даты начала")
        keys = [q.key for q in self.questions]
        if len(set(keys)) != len(keys):
            raise ValueError("ключи вопросов повторяются")
        return self

    def referenced_competencies(self) -> set[str]:
        out = set(self.competencies)
        for q in self.questions:
            out.update(c for c in [q.competency, *(o.competency for o in q.options)] if c)
        return out


class Answer(_Frozen):
    question: Key
    options: tuple[Key, ...] = Field(default=(), max_length=50)
    value: int | None = None
    text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT)] | None \
        = None


class ResponseInput(_Frozen):
    survey: Annotated[str, StringConstraints(max_length=40)]
    category: SurveyCategory
    municipality: m.Oktmo | None = None
    answers: tuple[Answer, ...] = Field(min_length=1, max_length=MAX_QUESTIONS)


def survey_of(props: dict[str, Any]) -> SurveyInput:
    record: dict[str, Any] = {k: props.get(k) for k in SurveyInput.model_fields}
    for k in ("starts_on", "ends_on"):
        record[k] = native(record[k])
    record["questions"] = json.loads(props["questions"])
    return SurveyInput.model_validate({k: v for k, v in record.items() if v is not None})


def check_answers(survey: SurveyInput, data: ResponseInput) -> list[dict[str, Any]]:
    """The response's answers, validated against the survey's questions (Russian errors)."""
    questions = {q.key: q for q in survey.questions}
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    if data.category not in survey.categories:
        raise Refused("Опрос не для этой категории участников.", "BAD_REQUEST")
    for a in data.answers:
        q = questions.get(a.question)
        if q is None or a.question in seen:
            raise Refused(f"Вопрос {a.question}: нет такого вопроса или ответ повторен.",
                          "BAD_REQUEST")
        seen.add(a.question)
        options = {o.key for o in q.options}
        if q.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            if not a.options or set(a.options) - options or len(set(a.options)) != len(a.options) \
                    or (q.kind == QuestionKind.SINGLE and len(a.options) != 1):
                raise Refused(f"Вопрос {q.key}: выберите варианты из предложенных"
                              f"{' (один)' if q.kind == QuestionKind.SINGLE else ''}.",
                              "BAD_REQUEST")
            out.append({"q": q.key, "o": list(a.options)})
        elif q.kind == QuestionKind.SCALE:
            if a.value is None or not q.scale_min <= a.value <= q.scale_max:
                raise Refused(f"Вопрос {q.key}: оценка от {q.scale_min} до {q.scale_max}.",
                              "BAD_REQUEST")
            out.append({"q": q.key, "v": a.value})
        else:
            if not a.text:
                raise Refused(f"Вопрос {q.key}: пустой ответ.", "BAD_REQUEST")
            out.append({"q": q.key, "t": a.text})
    missing = [q.key for q in survey.questions if q.required and q.key not in seen]
    if missing:
        raise Refused("Нет ответа на обязательные вопросы: " + ", ".join(missing) + ".",
                      "BAD_REQUEST")
    return out


SURVEY_CYPHER = "MATCH (s:Survey {uid: $code}) RETURN properties(s) AS s"

DEFINE_CHECK_CYPHER = """
RETURN EXISTS { MATCH (s:Survey {uid: $code}) } AS exists,
       EXISTS { MATCH (r:Region {uid: $region}) } AS region_known,
       [c IN $competencies WHERE NOT EXISTS { MATCH (k:Competency {uid: c}) }] AS unknown
"""

DEFINE_CYPHER = """
CREATE (s:Survey)
SET s = $props, s.created_at = $now, s.version = 1
WITH s
UNWIND $competencies AS c
MATCH (k:Competency {uid: c})
CREATE (s)-[:ABOUT]->(k)
"""


def define_plan(data: SurveyInput, principal: Principal, now: dt.datetime | None = None) -> Plan:
    now = now or now_utc()
    if principal.role != "admin" and not (principal.role == "operator"
                                          and principal.region == data.region):
        raise Refused("Опросы региона ведет оператор ЦОПП этого региона.", "FORBIDDEN")
    competencies = sorted(data.referenced_competencies())
    [row] = yield DEFINE_CHECK_CYPHER, {"code": data.code, "region": data.region,
                                        "competencies": competencies}
    if row["exists"]:
        raise Refused(f"Опрос с кодом {data.code} уже есть.", "DUPLICATE")
    if not row["region_known"]:
        raise Refused("Регион не найден.", "NOT_FOUND")
    if row["unknown"]:
        raise Refused("Нет в реестре компетенций: " + ", ".join(row["unknown"]) + ".",
                      "NOT_FOUND")
    props = {
        "uid": data.code, "code": data.code, "region": data.region, "title": data.title,
        "description": data.description, "categories": [c.value for c in data.categories],
        "starts_on": data.starts_on, "ends_on": data.ends_on,
        "competencies": list(data.competencies),
        "questions": json.dumps([q.model_dump(mode="json") for q in data.questions],
                                ensure_ascii=False, sort_keys=True),
        "created_by": principal.name,
    }
    props = {k: v for k, v in props.items() if v is not None}
    yield DEFINE_CYPHER, {"props": props, "now": now, "competencies": competencies}
    yield from audited(LABEL, [{"uid": data.code, "op": "create", "fields": sorted(props),
                                "after": props, "version": 1}], principal, "survey", now)
    return data.code


RESPOND_CYPHER = """
MATCH (s:Survey {uid: $survey})
CREATE (r:SurveyResponse {uid: $uid, survey: $survey, category: $category,
                          municipality: $municipality, answers: $answers, at: $now})
CREATE (r)-[:ANSWERS]->(s)
"""


def respond_plan(data: ResponseInput, today: dt.date, now: dt.datetime | None = None) -> Plan:
    """An anonymous response: nothing identifies the respondent (no address, no contact)."""
    now = now or now_utc()
    rows = yield SURVEY_CYPHER, {"code": data.survey}
    if not rows:
        raise Refused("Опрос не найден.", "NOT_FOUND")
    survey = survey_of(dict(rows[0]["s"]))
    if not survey.starts_on <= today <= survey.ends_on:
        raise Refused("Опрос сейчас не проводится.", "BAD_STATE")
    answers = check_answers(survey, data)
    uid = uuid.uuid4().hex
    yield RESPOND_CYPHER, {"survey": data.survey, "uid": uid, "category": data.category.value,
                           "municipality": data.municipality, "now": now,
                           "answers": json.dumps(answers, ensure_ascii=False)}
    return uid


RESULTS_CYPHER = """
MATCH (s:Survey {uid: $code})
OPTIONAL MATCH (r:SurveyResponse)-[:ANSWERS]->(s)
WITH s, r ORDER BY r.at
RETURN properties(s) AS s,
       collect(CASE WHEN r IS NULL THEN NULL ELSE
               {category: r.category, municipality: r.municipality, answers: r.answers} END)
       AS responses
"""


def aggregate(survey: SurveyInput, responses: list[dict[str, Any]]) -> dict[str, Any]:
    """Per question and category: respondents, option counts, scale mean and distribution,
    free texts (the caller decides who sees them)."""
    by_q: dict[str, dict[str, dict[str, Any]]] = {q.key: {} for q in survey.questions}
    totals: Counter[str] = Counter()
    for r in responses:
        cat = r["category"]
        totals[cat] += 1
        for a in json.loads(r["answers"]):
            cell = by_q.setdefault(a["q"], {}).setdefault(cat, {
                "answered": 0, "options": Counter(), "values": Counter(), "texts": []})
            cell["answered"] += 1
            for o in a.get("o", ()):
                cell["options"][o] += 1
            if "v" in a:
                cell["values"][a["v"]] += 1
            if "t" in a:
                cell["texts"].append(a["t"])
    return {"respondents": dict(totals), "questions": by_q}


def demand_rows(survey: SurveyInput, responses: list[dict[str, Any]]
                ) -> tuple[list[dict[str, Any]], int]:
    """DemandSignal rows by the documented rule, and the number of responses not placed."""
    questions = {q.key: q for q in survey.questions}
    counts: Counter[tuple[str, str]] = Counter()
    unplaced = 0
    for r in responses:
        wanted: set[str] = set()
        for a in json.loads(r["answers"]):
            q = questions.get(a["q"])
            if q is None:
                continue
            options = {o.key: o for o in q.options}
            for key in a.get("o", ()):
                if key in options and options[key].competency:
                    wanted.add(options[key].competency)  # type: ignore[arg-type]
            if q.competency and "v" in a and a["v"] >= q.scale_max - 1:
                wanted.add(q.competency)
        if not wanted:
            continue
        if not r.get("municipality"):
            unplaced += 1
            continue
        for k in wanted:
            counts[(k, r["municipality"])] += 1
    rows = [{"competency": k, "municipality": mu, "source": f"survey-{survey.code}",
             "starts_on": survey.starts_on, "ends_on": survey.ends_on, "survey_answers": n}
            for (k, mu), n in sorted(counts.items())]
    return rows, unplaced


def demand_plan(code: str, principal: Principal, now: dt.datetime | None = None) -> Plan:
    """Write the survey's DemandSignals through graph.ingest (the operator's rights on each
    municipality, audited). Returns (rows written, unplaced responses)."""
    now = now or now_utc()
    rows = yield RESULTS_CYPHER, {"code": code}
    if not rows:
        raise Refused("Опрос не найден.", "NOT_FOUND")
    survey = survey_of(dict(rows[0]["s"]))
    if principal.role != "admin" and not (principal.role == "operator"
                                          and principal.region == survey.region):
        raise Refused("Сигналы спроса по опросу формирует оператор ЦОПП его региона.",
                      "FORBIDDEN")
    signals, unplaced = demand_rows(survey, rows[0]["responses"])
    if signals:
        report = yield from ingest_plan(prepare(REGISTRIES["demand_signals"], signals),
                                        partial=False, dry_run=False, now=now,
                                        principal=principal, source="survey")
        refuse_report(report, "Сигналы спроса не записаны")
    return signals, unplaced


def results_xlsx(survey: SurveyInput, results: dict[str, Any], with_texts: bool) -> bytes:
    """The aggregates as a workbook: a sheet of counts per question × category, and (for the
    operator) a sheet of free-text answers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Итоги"
    cats = [c for c in SurveyCategory if c in survey.categories]
    ws.append([survey.title])
    ws["A1"].font = Font(bold=True)
    ws.append([f"Период: {survey.starts_on:%d.%m.%Y} — {survey.ends_on:%d.%m.%Y}"])
    ws.append(["Вопрос", "Ответ", *[c.label for c in cats], "Всего"])
    for cell in ws[3]:
        cell.font = Font(bold=True)
    ws.append(["Респондентов", "", *[results["respondents"].get(c.value, 0) for c in cats],
               sum(results["respondents"].values())])
    for q in survey.questions:
        cells = results["questions"].get(q.key, {})

        def line(title: str, value: Any, q: Question = q,
                 cells: dict[str, Any] = cells) -> None:
            values = [value(cells.get(c.value)) if cells.get(c.value) else 0 for c in cats]
            ws.append([q.text, title, *values, sum(v or 0 for v in values)])

        if q.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            for o in q.options:
                line(o.text, lambda cell, k=o.key: cell["options"].get(k, 0))
        elif q.kind == QuestionKind.SCALE:
            for v in range(q.scale_min, q.scale_max + 1):
                line(f"Оценка {v}", lambda cell, v=v: cell["values"].get(v, 0))
        else:
            line("Ответов", lambda cell: cell["answered"])
    ws.column_dimensions["A"].width = 60
    ws.column_dimensions["B"].width = 40
    if with_texts:
        texts = wb.create_sheet("Свободные ответы")
        texts.append(["Вопрос", "Категория", "Ответ"])
        for q in survey.questions:
            for c in cats:
                for t in results["questions"].get(q.key, {}).get(c.value, {}).get("texts", []):
                    texts.append([q.text, c.label, t])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def responses_by_category(results: dict[str, Any]) -> dict[str, int]:
    return dict(defaultdict(int, results["respondents"]))
