"""Situational-centre figures of a region, of several regions or of the whole country, in ONE
round trip.

`dashboard_cypher(parts)` composes independent parts — `kpis`, `matrix`, `roadmap` — into one
statement (each part is a `CALL () { … }` returning one row); `parse_dashboard` turns its
record into dataclasses. Every KPI is given for a list of windows at once: the period, the
previous period of the same length and the quarters of both (the time series); `fetch_kpis`
gives them for any list of periods (months, quarters, a year) in one statement. Calendar
months, quarters and years are read from the aggregates the write path keeps
(graph/kpi_aggregates.py); other windows are recomputed from the records by the same rules
(tests/test_kpi_aggregates.py holds the two equal). The same statement names the regions asked
for that do not exist (`unknownRegions`): an unknown code is NOT_FOUND, never zeros.

Several regions together (the federal view): flows are summed over the regions; a distinct
count counts a person (organization, program) once however many of the regions it counts in;
a stock is the regions' together. A roadmap is a region's: none over several regions.

The definitions are a contract: the table below is generated from `KPI_RULES` and
`graph.roadmap.SLOT_KPIS` by `rules_markdown()` (tests/test_kpi_rules.py checks that this
docstring and graph/README.md hold it verbatim; regenerate with
`python -m graph.kpi --markdown`). Kinds: **flow** — a count of dated records, each placed in
a window by one date, so months add up to quarters and quarters to years for any data;
**distinct** — distinct persons, organizations or programs among the records of a flow (never
more than that flow's headcount, not additive: a person trained in January and in March counts
once in the quarter); **stock** — a state on a date. Dates are inclusive; «region» means
organizations whose `region` is the dashboard's region; retired records (`retiredAt`) never
count. «Offered by the ЦОПП»: a cohort run by the region's ЦОПП, or of a program developed by it,
or of a program of a NETWORK agreement to which the region's ЦОПП is a party, in force at any
time during the cohort. «Trained by the ЦОПП network»: a staff training whose `provider` is the
region's ЦОПП, or an organization party with it to a NETWORK agreement in force on the
completion date; other providers (employers, others) and trainings without a provider count
only in the `…Elsewhere` breakdown.

<!-- kpi-rules:start -->
| KPI | вид | что считается | дата окна | не считается | не больше чем | слоты |
|---|---|---|---|---|---|---|
| `peopleCovered` — Охвачено деятельностью ЦОПП (различные лица), чел. | различные | различные идентифицированные лица: обучающиеся (по внешнему идентификатору) с зачислением или завершением обучения в окне или известным участием в профориентационном мероприятии организации региона в окне, и сотрудники (по ключу ИНН:табельный №), повысившие квалификацию в сети ЦОПП в окне; анонимные посещения мероприятий не входят (см. careerGuidanceAttendance) | дата зачисления / завершения / мероприятия / повышения квалификации | выбывшие записи, другие регионы; анонимные посещения мероприятий; повышение квалификации вне сети ЦОПП | enrollments + completions + known event participations + staffTrainings | — |
| `careerGuidanceAttendance` — Посещений профориентационных мероприятий (анонимно), чел.-посещений | поток | сумма участников всех видов профориентационной деятельности организаций региона (один человек на двух мероприятиях — два посещения) | held_on мероприятия | выбывшие записи, другие регионы | — | — |
| `enrollments` — Зачислений на обучение | поток | зачисления (любой статус, включая отчисленных) в группах (не выбывших из реестра), которые проводят организации региона | enrolled_on зачисления, иначе starts_on группы | выбывшие записи, другие регионы | — | — |
| `learnersEnrolled` — Зачислено на обучение (различные лица), чел. | различные | различные обучающиеся (внешний идентификатор) среди зачислений окна | как enrollments | выбывшие записи, другие регионы | enrollments | — |
| `completions` [`.TYPE`] — Завершений обучения | поток | зачисления со статусом COMPLETED в группах (не выбывших из реестра), которые проводят организации региона, по типу программы группы | completed_on | выбывшие записи, другие регионы | — | — |
| `peopleTrained` [`.TYPE`] — Прошли обучение (различные лица), чел. | различные | различные обучающиеся среди завершений окна (итог считает человека один раз) | completed_on | выбывшие записи, другие регионы | completions | — |
| `completionsCopp` [`.TYPE`] — Завершений обучения по программам, предлагаемым ЦОПП | поток | завершения (как completions) в группах, предлагаемых ЦОПП | completed_on | выбывшие записи, другие регионы; группы, не предлагаемые ЦОПП (программы других организаций, которые ЦОПП не проводит и по которым у него нет сетевого договора) | — | — |
| `peopleTrainedCopp` [`.TYPE`] — Прошли обучение по программам, предлагаемым ЦОПП (различные лица), чел. | различные | различные обучающиеся среди завершений по программам, предлагаемым ЦОПП | completed_on | выбывшие записи, другие регионы; группы, не предлагаемые ЦОПП (программы других организаций, которые ЦОПП не проводит и по которым у него нет сетевого договора) | completionsCopp | 37.2, 38.2, 39.2, 40.2, 41.2, 42.2 |
| `programsConstructed` [`.TYPE`] — Сконструировано (утверждено) программ | поток | программы организаций региона в статусе APPROVED, RUNNING или ARCHIVED (DRAFT и REVIEW не считаются); каждая программа один раз | approved_on | выбывшие записи, другие регионы; DRAFT, REVIEW, без даты утверждения | — | 31.1, 32.1, 33.1, 34.1, 35.1, 36.1 |
| `cohortsCompleted` [`.TYPE`] — Завершено групп | поток | группы с хотя бы одним завершившим обучение в группах (не выбывших из реестра), которые проводят организации региона | ends_on группы | выбывшие записи, другие регионы; группы без завершивших обучение | — | — |
| `programsImplemented` [`.TYPE`] — Реализовано программ | различные | различные программы среди завершённых групп окна | ends_on группы | выбывшие записи, другие регионы | cohortsCompleted | — |
| `cohortsCompletedCopp` [`.TYPE`] — Завершено групп по программам, предлагаемым ЦОПП | поток | завершённые группы (как cohortsCompleted), предлагаемые ЦОПП | ends_on группы | выбывшие записи, другие регионы; группы, не предлагаемые ЦОПП (программы других организаций, которые ЦОПП не проводит и по которым у него нет сетевого договора) | — | — |
| `programsImplementedCopp` [`.TYPE`] — Реализовано программ, предлагаемых ЦОПП | различные | различные программы среди завершённых групп, предлагаемых ЦОПП | ends_on группы | выбывшие записи, другие регионы; группы, не предлагаемые ЦОПП (программы других организаций, которые ЦОПП не проводит и по которым у него нет сетевого договора) | cohortsCompletedCopp | 37.1, 38.1, 39.1, 40.1, 41.1, 42.1 |
| `careerGuidanceEvents` — Профориентационных мероприятий | поток | мероприятия вида EVENT организаций региона | held_on | выбывшие записи, другие регионы | — | 59.1 |
| `careerGuidanceParticipants` — Участников профориентационных мероприятий (посещений), чел. | поток | сумма участников мероприятий вида EVENT по категориям (посещения, не различные лица) | held_on | выбывшие записи, другие регионы | — | — |
| `professionalTrials` — Профессиональных проб | поток | мероприятия вида PROFESSIONAL_TRIAL организаций региона | held_on | выбывшие записи, другие регионы | — | — |
| `professionalTrialParticipants` — Участников профессиональных проб (посещений), чел. | поток | сумма участников профессиональных проб (посещения, не различные лица) | held_on | выбывшие записи, другие регионы | — | 60.1 |
| `firstProfessionEvents` — Групп обучения первой профессии | поток | мероприятия вида FIRST_PROFESSION организаций региона | held_on | выбывшие записи, другие регионы | — | — |
| `firstProfessionTrainees` — Обучено первой профессии (посещений), чел. | поток | сумма участников обучения первой профессии (посещения, не различные лица) | held_on | выбывшие записи, другие регионы | — | 61.1 |
| `staffTrainings` — Повышений квалификации в сети ЦОПП | поток | повышения квалификации сотрудников организаций региона, проведённые сетью ЦОПП | completed_on | выбывшие записи, другие регионы; обучение у работодателей, иных организаций и без указанного провайдера (оно — в staffTrainingsElsewhere) | — | — |
| `staffTrained` — Повысили квалификацию в сети ЦОПП (различные лица), чел. | различные | различные сотрудники среди staffTrainings | completed_on | выбывшие записи, другие регионы; обучение у работодателей, иных организаций и без указанного провайдера (оно — в staffTrainingsElsewhere) | staffTrainings | — |
| `staffTrainedCopp` — Повысили квалификацию сотрудники ЦОПП, чел. | различные | различные сотрудники ЦОПП среди staffTrainings | completed_on | выбывшие записи, другие регионы; обучение у работодателей, иных организаций и без указанного провайдера (оно — в staffTrainingsElsewhere) | staffTrainings | 25.1 |
| `staffTrainedCollege` — Повысили квалификацию сотрудники ПОО, чел. | различные | различные сотрудники ПОО (kind COLLEGE) среди staffTrainings | completed_on | выбывшие записи, другие регионы; обучение у работодателей, иных организаций и без указанного провайдера (оно — в staffTrainingsElsewhere) | staffTrainings | 26.2 |
| `staffTrainingsElsewhere` — Повышений квалификации у других организаций | поток | повышения квалификации сотрудников организаций региона, проведённые не сетью ЦОПП (работодатели, иные, провайдер не указан) | completed_on | выбывшие записи, другие регионы; обучение, проведённое сетью ЦОПП | — | — |
| `staffTrainedElsewhere` — Повысили квалификацию у других организаций (различные лица), чел. | различные | различные сотрудники среди staffTrainingsElsewhere | completed_on | выбывшие записи, другие регионы; обучение, проведённое сетью ЦОПП | staffTrainingsElsewhere | — |
| `coppStaff` — Штат ЦОПП, чел. | запас | сотрудники ЦОПП региона (не выбывшие) сейчас | не зависит от окна | выбывшие записи, другие регионы; выбывшие сотрудники | — | 23.1 |
| `partnerNetwork` — Партнерская сеть ЦОПП за период, организаций | различные | различные организации — стороны соглашений (любого вида) с ЦОПП региона, действовавших хотя бы один день окна | valid_from ≤ конец окна, valid_to ≥ начало | выбывшие записи, другие регионы; выбывшие соглашения и организации; сам ЦОПП | — | — |
| `partnerNetworkAtEnd` — Партнерская сеть ЦОПП на конец периода, организаций | запас | различные организации — стороны соглашений с ЦОПП региона, действующих в последний день окна | последний день окна | выбывшие записи, другие регионы; выбывшие соглашения и организации; сам ЦОПП | — | — |

| слот шаблона | KPI | текст шаблона |
|---|---|---|
| 23.1 | `coppStaff` | Укомплектован штат ЦОПП в количестве ___ сотрудников |
| 25.1 | `staffTrainedCopp` | Повысили квалификацию ___ сотрудников ЦОПП |
| 26.2 | `staffTrainedCollege` | программ повышения квалификации по компетенциям ОПП ___ слушателей из числа сотрудников ПОО, расположенных на территории субъекта Российской Федерации |
| 31.1 | `programsConstructed.SPO_MODULES` | Сконструировано ___ программ профессиональных модулей для среднего профессионального образования |
| 32.1 | `programsConstructed.SCHOOL_STUDENTS` | Сконструировано ___ программ для обучающихся общеобразовательных организаций |
| 33.1 | `programsConstructed.EMPLOYER_ORDERED` | Сконструировано ___ программ под заказ работодателей |
| 34.1 | `programsConstructed.SECTORAL` | Сконструировано ___ отраслевых программ |
| 35.1 | `programsConstructed.PRE_RETIREMENT` | Сконструировано ___ программ для граждан предпенсионного возраста |
| 36.1 | `programsConstructed.FUTURE_COMPETENCIES` | Сконструировано ___ программ по компетенциям будущего, включая компетенции цифровой экономики |
| 37.1 | `programsImplementedCopp.SPO_MODULES` | Обеспечена реализация ___ программ профессиональных модулей для среднего профессионального образования. |
| 37.2 | `peopleTrainedCopp.SPO_MODULES` | Численность граждан, прошедших обучение по предлагаемым ЦОПП программам профессиональных модулей для среднего профессионального образования ___ чел. |
| 38.1 | `programsImplementedCopp.SCHOOL_STUDENTS` | Обеспечена реализация ___ программ для обучающихся общеобразовательных организаций. |
| 38.2 | `peopleTrainedCopp.SCHOOL_STUDENTS` | Численность граждан, прошедших обучение по предлагаемым ЦОПП программам для обучающихся общеобразовательных организаций ___ чел. |
| 39.1 | `programsImplementedCopp.EMPLOYER_ORDERED` | Обеспечена реализация ___ программ под заказ работодателей. |
| 39.2 | `peopleTrainedCopp.EMPLOYER_ORDERED` | Численность граждан, прошедших обучение по предлагаемым ЦОПП программам под заказ работодателей ___ чел. |
| 40.1 | `programsImplementedCopp.SECTORAL` | Обеспечена реализация ___ отраслевых программы. |
| 40.2 | `peopleTrainedCopp.SECTORAL` | Численность граждан, прошедших обучение по предлагаемым ЦОПП отраслевым программам ___ чел. |
| 41.1 | `programsImplementedCopp.PRE_RETIREMENT` | Обеспечена реализация ___ программ для граждан предпенсионного возраста. |
| 41.2 | `peopleTrainedCopp.PRE_RETIREMENT` | Численность граждан, прошедших обучение по предлагаемым ЦОПП программам для граждан предпенсионного возраста ___ чел. |
| 42.1 | `programsImplementedCopp.FUTURE_COMPETENCIES` | Обеспечена реализация ___ программ по компетенциям будущего, включая компетенции цифровой экономики. |
| 42.2 | `peopleTrainedCopp.FUTURE_COMPETENCIES` | Численность граждан, прошедших обучение по предлагаемым ЦОПП программам по компетенциям будущего, включая компетенции цифровой экономики ___ чел. |
| 59.1 | `careerGuidanceEvents` | Организовано проведение ___ профориентационных мероприятий |
| 60.1 | `professionalTrialParticipants` | Организовано проведение профессиональных проб ___ граждан |
| 61.1 | `firstProfessionTrainees` | Организовано обучение первой профессии ___ обучающихся общеобразовательных организации |
<!-- kpi-rules:end -->

Supply × demand matrix (competency × municipality of the region, for the period; unit: people
over the period):
- graduates (supply): completed enrollments with `completed_on` in the period, of programs
  developing the competency, in cohorts run by the region's organizations, placed in the
  municipality of the cohort's site (the smallest ОКТМО if several; the organization's if it has
  none) — a flow, the same unit as demand;
- demand: vacancies + employer requests of demand signals of the region's municipalities,
  each prorated to the period by its own period: value × (days of the signal inside the period)
  / (days of the signal), summed per cell and rounded half up (`vacancies` and
  `employerRequests` each); a year-long signal counts a quarter of itself in a quarter; survey
  answers are shown apart, not prorated and not demand;
- shortage when demand > graduates; gap = demand − graduates;
- workplaces (capacity, a stock, NOT added to supply): over the region's sites that satisfy
  every item of the competency's infrastructure list (working, non-retired equipment ≥ quantity,
  from `STOCKS` of graph/stock.py), the deliverable workplaces min(site workplaces, min over
  PER_WORKPLACE items ⌊available / quantity⌋) — the formula of graph/capability.py for a cohort
  of one, without its staff requirement; `sites` how many such sites.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Any

from graph.enums import ProgramType
from graph.errors import DomainError
from graph.privacy import EVERYTHING, scope_condition
from graph.values import native

PROGRAM_TYPES: tuple[str, ...] = tuple(t.value for t in ProgramType)
CONSTRUCTED_STATUSES = ("APPROVED", "RUNNING", "ARCHIVED")

FLOW, DISTINCT, STOCK = "flow", "distinct", "stock"
KIND_LABELS = {FLOW: "поток", DISTINCT: "различные", STOCK: "запас"}


@dataclass(frozen=True)
class Rule:
    """The written rule of a KPI (and of its `.TYPE` variants when `typed`)."""

    key: str
    label: str
    kind: str
    counted: str  # what is counted (and what is excluded beyond the common exclusions)
    date: str  # the date that places a record in a window
    headcount: str | None = None  # for distinct KPIs: the flow they never exceed
    typed: bool = False
    excluded: str = ""  # beyond the common exclusions (retired records, other regions)


_COHORT = "в группах (не выбывших из реестра), которые проводят организации региона"
KPI_RULES: tuple[Rule, ...] = (
    Rule("peopleCovered", "Охвачено деятельностью ЦОПП (различные лица), чел.", DISTINCT,
         "различные идентифицированные лица: обучающиеся (по внешнему идентификатору) с "
         "зачислением или завершением обучения в окне или известным участием в "
         "профориентационном мероприятии организации региона в окне, и сотрудники (по ключу "
         "ИНН:табельный №), повысившие квалификацию в сети ЦОПП в окне; анонимные посещения "
         "мероприятий не входят (см. careerGuidanceAttendance)",
         "дата зачисления / завершения / мероприятия / повышения квалификации",
         "enrollments + completions + known event participations + staffTrainings"),
    Rule("careerGuidanceAttendance", "Посещений профориентационных мероприятий (анонимно), "
         "чел.-посещений", FLOW,
         "сумма участников всех видов профориентационной деятельности организаций региона "
         "(один человек на двух мероприятиях — два посещения)", "held_on мероприятия"),
    Rule("enrollments", "Зачислений на обучение", FLOW,
         f"зачисления (любой статус, включая отчисленных) {_COHORT}",
         "enrolled_on зачисления, иначе starts_on группы"),
    Rule("learnersEnrolled", "Зачислено на обучение (различные лица), чел.", DISTINCT,
         "различные обучающиеся (внешний идентификатор) среди зачислений окна",
         "как enrollments", "enrollments"),
    Rule("completions", "Завершений обучения", FLOW,
         f"зачисления со статусом COMPLETED {_COHORT}, по типу программы группы",
         "completed_on", typed=True),
    Rule("peopleTrained", "Прошли обучение (различные лица), чел.", DISTINCT,
         "различные обучающиеся среди завершений окна (итог считает человека один раз)",
         "completed_on", "completions", typed=True),
    Rule("completionsCopp", "Завершений обучения по программам, предлагаемым ЦОПП", FLOW,
         "завершения (как completions) в группах, предлагаемых ЦОПП", "completed_on",
         typed=True),
    Rule("peopleTrainedCopp", "Прошли обучение по программам, предлагаемым ЦОПП "
         "(различные лица), чел.", DISTINCT,
         "различные обучающиеся среди завершений по программам, предлагаемым ЦОПП",
         "completed_on", "completionsCopp", typed=True),
    Rule("programsConstructed", "Сконструировано (утверждено) программ", FLOW,
         "программы организаций региона в статусе APPROVED, RUNNING или ARCHIVED (DRAFT и "
         "REVIEW не считаются); каждая программа один раз", "approved_on", typed=True),
    Rule("cohortsCompleted", "Завершено групп", FLOW,
         f"группы с хотя бы одним завершившим обучение {_COHORT}", "ends_on группы",
         typed=True),
    Rule("programsImplemented", "Реализовано программ", DISTINCT,
         "различные программы среди завершённых групп окна", "ends_on группы",
         "cohortsCompleted", typed=True),
    Rule("cohortsCompletedCopp", "Завершено групп по программам, предлагаемым ЦОПП", FLOW,
         "завершённые группы (как cohortsCompleted), предлагаемые ЦОПП", "ends_on группы",
         typed=True),
    Rule("programsImplementedCopp", "Реализовано программ, предлагаемых ЦОПП", DISTINCT,
         "различные программы среди завершённых групп, предлагаемых ЦОПП", "ends_on группы",
         "cohortsCompletedCopp", typed=True),
    Rule("careerGuidanceEvents", "Профориентационных мероприятий", FLOW,
         "мероприятия вида EVENT организаций региона", "held_on"),
    Rule("careerGuidanceParticipants", "Участников профориентационных мероприятий "
         "(посещений), чел.", FLOW,
         "сумма участников мероприятий вида EVENT по категориям (посещения, не различные лица)",
         "held_on"),
    Rule("professionalTrials", "Профессиональных проб", FLOW,
         "мероприятия вида PROFESSIONAL_TRIAL организаций региона", "held_on"),
    Rule("professionalTrialParticipants", "Участников профессиональных проб (посещений), чел.",
         FLOW, "сумма участников профессиональных проб (посещения, не различные лица)",
         "held_on"),
    Rule("firstProfessionEvents", "Групп обучения первой профессии", FLOW,
         "мероприятия вида FIRST_PROFESSION организаций региона", "held_on"),
    Rule("firstProfessionTrainees", "Обучено первой профессии (посещений), чел.", FLOW,
         "сумма участников обучения первой профессии (посещения, не различные лица)", "held_on"),
    Rule("staffTrainings", "Повышений квалификации в сети ЦОПП", FLOW,
         "повышения квалификации сотрудников организаций региона, проведённые сетью ЦОПП",
         "completed_on"),
    Rule("staffTrained", "Повысили квалификацию в сети ЦОПП (различные лица), чел.", DISTINCT,
         "различные сотрудники среди staffTrainings", "completed_on", "staffTrainings"),
    Rule("staffTrainedCopp", "Повысили квалификацию сотрудники ЦОПП, чел.", DISTINCT,
         "различные сотрудники ЦОПП среди staffTrainings", "completed_on", "staffTrainings"),
    Rule("staffTrainedCollege", "Повысили квалификацию сотрудники ПОО, чел.", DISTINCT,
         "различные сотрудники ПОО (kind COLLEGE) среди staffTrainings", "completed_on",
         "staffTrainings"),
    Rule("staffTrainingsElsewhere", "Повышений квалификации у других организаций", FLOW,
         "повышения квалификации сотрудников организаций региона, проведённые не сетью ЦОПП "
         "(работодатели, иные, провайдер не указан)", "completed_on"),
    Rule("staffTrainedElsewhere", "Повысили квалификацию у других организаций "
         "(различные лица), чел.", DISTINCT,
         "различные сотрудники среди staffTrainingsElsewhere", "completed_on",
         "staffTrainingsElsewhere"),
    Rule("coppStaff", "Штат ЦОПП, чел.", STOCK,
         "сотрудники ЦОПП региона (не выбывшие) сейчас", "не зависит от окна"),
    Rule("partnerNetwork", "Партнерская сеть ЦОПП за период, организаций", DISTINCT,
         "различные организации — стороны соглашений (любого вида) с ЦОПП региона, "
         "действовавших хотя бы один день окна", "valid_from ≤ конец окна, valid_to ≥ начало"),
    Rule("partnerNetworkAtEnd", "Партнерская сеть ЦОПП на конец периода, организаций", STOCK,
         "различные организации — стороны соглашений с ЦОПП региона, действующих в последний "
         "день окна", "последний день окна"),
)
_NOT_OFFERED = ("группы, не предлагаемые ЦОПП (программы других организаций, которые ЦОПП "
                "не проводит и по которым у него нет сетевого договора)")
_NOT_NETWORK = ("обучение у работодателей, иных организаций и без указанного провайдера "
                "(оно — в staffTrainingsElsewhere)")
_EXCLUDED = {
    "peopleCovered": "анонимные посещения мероприятий; повышение квалификации вне сети ЦОПП",
    "completionsCopp": _NOT_OFFERED, "peopleTrainedCopp": _NOT_OFFERED,
    "cohortsCompletedCopp": _NOT_OFFERED, "programsImplementedCopp": _NOT_OFFERED,
    "programsConstructed": "DRAFT, REVIEW, без даты утверждения",
    "cohortsCompleted": "группы без завершивших обучение",
    "staffTrainings": _NOT_NETWORK, "staffTrained": _NOT_NETWORK,
    "staffTrainedCopp": _NOT_NETWORK, "staffTrainedCollege": _NOT_NETWORK,
    "staffTrainingsElsewhere": "обучение, проведённое сетью ЦОПП",
    "staffTrainedElsewhere": "обучение, проведённое сетью ЦОПП",
    "partnerNetwork": "выбывшие соглашения и организации; сам ЦОПП",
    "partnerNetworkAtEnd": "выбывшие соглашения и организации; сам ЦОПП",
    "coppStaff": "выбывшие сотрудники",
}
KPI_RULES = tuple(replace(r, excluded=_EXCLUDED.get(r.key, r.excluded)) for r in KPI_RULES)
RULES: dict[str, Rule] = {r.key: r for r in KPI_RULES}

BASE_KPIS: tuple[str, ...] = tuple(r.key for r in KPI_RULES)
TYPED_KPIS: tuple[str, ...] = tuple(r.key for r in KPI_RULES if r.typed)
KPI_KEYS: tuple[str, ...] = BASE_KPIS + tuple(
    f"{k}.{t}" for k in TYPED_KPIS for t in PROGRAM_TYPES
)
KPI_LABELS: dict[str, str] = {r.key: r.label for r in KPI_RULES}
FLOW_KPIS: tuple[str, ...] = tuple(k for k in KPI_KEYS if RULES[k.partition(".")[0]].kind == FLOW)
# distinct KPI → the flow whose headcount it never exceeds (same type suffix)
def _headcount_of(key: str) -> str | None:
    base, _, typed = key.partition(".")
    flow = RULES[base].headcount
    if not flow or flow not in RULES:
        return None
    return flow + (f".{typed}" if typed else "")


HEADCOUNT_OF: dict[str, str] = {k: h for k in KPI_KEYS if (h := _headcount_of(k))}


def _template_texts() -> dict[tuple[int, int], str]:
    from graph.roadmap import load_template

    return {(a.number, s.index): s.description
            for a in load_template().activities for s in a.slots}


def rules_markdown() -> str:
    """The contract table: every KPI, then every template slot bound to one."""
    from graph.roadmap import SLOT_KPIS

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    slots: dict[str, list[str]] = {}
    for (number, index), key in sorted(SLOT_KPIS.items()):
        slots.setdefault(key.partition(".")[0], []).append(f"{number}.{index}")
    lines = ["| KPI | вид | что считается | дата окна | не считается | не больше чем | слоты |",
             "|---|---|---|---|---|---|---|"]
    for r in KPI_RULES:
        key = f"`{r.key}`" + (" [`.TYPE`]" if r.typed else "")
        excluded = "выбывшие записи, другие регионы" + (f"; {r.excluded}" if r.excluded else "")
        lines.append(f"| {key} — {cell(r.label)} | {KIND_LABELS[r.kind]} | {cell(r.counted)} "
                     f"| {cell(r.date)} | {cell(excluded)} | {cell(r.headcount or '—')} "
                     f"| {', '.join(slots.get(r.key, [])) or '—'} |")
    texts = _template_texts()
    lines += ["", "| слот шаблона | KPI | текст шаблона |", "|---|---|---|"]
    for (number, index), key in sorted(SLOT_KPIS.items()):
        lines.append(f"| {number}.{index} | `{key}` | {cell(texts[(number, index)])} |")
    return "\n".join(lines)


class PeriodError(DomainError):
    pass


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    label: str

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError("конец периода раньше начала")

    @property
    def months(self) -> int | None:
        """Whole calendar months the period spans, if it is month-aligned."""
        last = calendar.monthrange(self.end.year, self.end.month)[1]
        if self.start.day != 1 or self.end.day != last:
            return None
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def previous(self) -> Period:
        months = self.months
        if months is None:
            days = (self.end - self.start).days + 1
            end = self.start - dt.timedelta(days=1)
            return Period(end - dt.timedelta(days=days - 1), end, f"{end - dt.timedelta(days=days - 1)}..{end}")
        total = self.start.year * 12 + self.start.month - 1 - months
        start = dt.date(total // 12, total % 12 + 1, 1)
        end = self.start - dt.timedelta(days=1)
        return Period(start, end, _label(start, end))


def _label(start: dt.date, end: dt.date) -> str:
    if start.month == 1 and start.day == 1 and end == dt.date(start.year, 12, 31):
        return str(start.year)
    if start.day == 1 and start.year == end.year and (start.month - 1) % 3 == 0 \
            and end.month == start.month + 2 \
            and end.day == calendar.monthrange(end.year, end.month)[1]:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if start.day == 1 and (start.year, start.month) == (end.year, end.month) \
            and end.day == calendar.monthrange(end.year, end.month)[1]:
        return f"{start.year}-{start.month:02d}"
    return f"{start.isoformat()}..{end.isoformat()}"


def quarter(year: int, q: int) -> Period:
    start = dt.date(year, 3 * q - 2, 1)
    end_month = 3 * q
    end = dt.date(year, end_month, calendar.monthrange(year, end_month)[1])
    return Period(start, end, f"{year}-Q{q}")


def month(year: int, mo: int) -> Period:
    return Period(dt.date(year, mo, 1), dt.date(year, mo, calendar.monthrange(year, mo)[1]),
                  f"{year}-{mo:02d}")


def _year(text: str, whole: str) -> int:
    y = int(text)
    if not 1 <= y <= 9999:
        raise PeriodError(f"недопустимый период «{whole}»: год должен быть от 0001 до 9999")
    return y


def _iso_date(text: str, whole: str) -> dt.date:
    y, mo, d = (int(x) for x in text.split("-"))
    _year(str(y), whole)
    if not 1 <= mo <= 12:
        raise PeriodError(f"недопустимый период «{whole}»: месяц должен быть от 01 до 12")
    last = calendar.monthrange(y, mo)[1]
    if not 1 <= d <= last:
        raise PeriodError(f"недопустимый период «{whole}»: в месяце {mo:02d}.{y} нет "
                          f"{d}-го числа (дней: {last})")
    return dt.date(y, mo, d)


def parse_period(text: str) -> Period:
    """«2025», «2025-Q2», «2025-05», or «2025-01-01..2025-06-30»; errors in Russian."""
    whole = text
    text = text.strip()
    if re.fullmatch(r"\d{4}", text):
        y = _year(text, whole)
        return Period(dt.date(y, 1, 1), dt.date(y, 12, 31), text)
    if m := re.fullmatch(r"(\d{4})-?Q([1-4])", text, re.IGNORECASE):
        return quarter(_year(m.group(1), whole), int(m.group(2)))
    if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
        y, mo = _year(m.group(1), whole), int(m.group(2))
        if not 1 <= mo <= 12:
            raise PeriodError(f"недопустимый период «{whole}»: месяц должен быть от 01 до 12")
        return month(y, mo)
    if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})", text):
        start, end = _iso_date(m.group(1), whole), _iso_date(m.group(2), whole)
        if end < start:
            raise PeriodError(f"недопустимый период «{whole}»: конец периода раньше начала")
        return Period(start, end, _label(start, end))
    raise PeriodError(
        f"недопустимый период «{whole}»: ожидается ГГГГ, ГГГГ-Qn, ГГГГ-ММ или ГГГГ-ММ-ДД..ГГГГ-ММ-ДД"
    )


def quarters_between(start: dt.date, end: dt.date) -> list[Period]:
    out: list[Period] = []
    y, q = start.year, (start.month - 1) // 3 + 1
    while True:
        p = quarter(y, q)
        if p.start > end:
            return out
        out.append(p)
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)


def windows(period: Period) -> list[dict[str, Any]]:
    prev = period.previous()
    items = [("current", period), ("previous", prev)]
    items += [(q.label, q) for q in quarters_between(prev.start, period.end)]
    return [{"key": k, "from": p.start, "to": p.end, "bucket": p.label} for k, p in items]


# --- Cypher parts -------------------------------------------------------------------------------
# Each part is `CALL () { … RETURN <one row> }`. A dashboard covers `$regions` (one region, a
# list, or every region: the federal view); flows add up over regions, distinct counts count a
# person (organization, program) once over all of them.
#
# The KPIs come one of two ways, which the tests hold equal (tests/test_kpi_aggregates.py):
# - read from the aggregates the write path keeps in the same transaction
#   (graph/kpi_aggregates.py: `KpiCount` per region and calendar month, quarter and year,
#   `KpiShared` for the persons a distinct count meets in several regions, `KpiCell` for the
#   matrix's graduates) when every window is a calendar month, quarter or year;
# - recomputed from the records (`KPI_PARTS`, `_MATRIX_OUTPUT`) for any other window
#   (2025-01-10..2025-01-19). Rows of these parts are {k: kpi, w: window, v}: every record is
#   placed in the windows containing its one date (`$windows` of {key, from, to}; `$from`..`$to`
#   their union), so flow KPIs add up over any partition of a period.
# coppStaff and partnerNetwork (a few agreements per ЦОПП) are read as they are either way.

COUNT_LABEL, SHARED_LABEL, CELL_LABEL = "KpiCount", "KpiShared", "KpiCell"
SUPPLY_LABEL = "KpiSupply"


def offered(c: str, p: str, region: str) -> str:
    """Cypher: cohort `c` of program `p` is offered by the ЦОПП of `region` (module docstring)."""
    copp = f"(:Organization {{region: {region}, kind: 'COPP'}})"
    return f"""(EXISTS {{ ({c})-[:RUN_BY]->{copp} }}
          OR EXISTS {{ ({p})-[:DEVELOPED_BY]->{copp} }}
          OR EXISTS {{ ({p})<-[:FOR_PROGRAM]-(a:PartnerAgreement)-[:PARTY]->{copp}
                      WHERE a.kind = 'NETWORK' AND a.retiredAt IS NULL
                        AND a.valid_from <= {c}.ends_on
                        AND (a.valid_to IS NULL OR a.valid_to >= {c}.starts_on) }})"""


def by_network(tr: str, region: str) -> str:
    """Cypher: staff training `tr` was given by the ЦОПП network of `region` (module docstring)."""
    return f"""({tr}.provider IS NOT NULL AND (
          EXISTS {{ (:Organization {{uid: {tr}.provider, region: {region}, kind: 'COPP'}}) }}
          OR EXISTS {{ (:Organization {{uid: {tr}.provider}})<-[:PARTY]-(a:PartnerAgreement)-[:PARTY]->
                      (:Organization {{region: {region}, kind: 'COPP'}})
                      WHERE a.kind = 'NETWORK' AND a.retiredAt IS NULL
                        AND a.valid_from <= {tr}.completed_on
                        AND (a.valid_to IS NULL OR a.valid_to >= {tr}.completed_on) }}))"""


# rows for every (scope, type) a record counts in: '' and 'Copp' × '' and '.TYPE'
_SCOPES = """UNWIND (CASE WHEN copp THEN ['', 'Copp'] ELSE [''] END) AS scope
    UNWIND ['', '.' + t] AS typed"""

_ENROLLMENTS = """
  CALL () {
    MATCH (o:Organization)<-[:RUN_BY]-(c:Cohort)<-[:IN_COHORT]-(e:Enrollment)
    WHERE o.region IN $regions AND c.retiredAt IS NULL AND e.retiredAt IS NULL
    WITH e.learner AS l, coalesce(e.enrolled_on, c.starts_on) AS d
    WHERE $from <= d <= $to
    UNWIND [w IN $windows WHERE w.from <= d <= w.to | w.key] AS wk
    WITH wk, count(*) AS n, count(DISTINCT l) AS people
    RETURN collect({k: 'enrollments', w: wk, v: n}) +
           collect({k: 'learnersEnrolled', w: wk, v: people}) AS rows
  }"""

_COMPLETIONS = """
  CALL () {
    MATCH (o:Organization)<-[:RUN_BY]-(c:Cohort)<-[:IN_COHORT]-(e:Enrollment)
    WHERE o.region IN $regions AND e.status = 'COMPLETED' AND $from <= e.completed_on <= $to
      AND c.retiredAt IS NULL AND e.retiredAt IS NULL
    WITH c, o.region AS region, collect([e.learner, e.completed_on]) AS done
    MATCH (c)-[:OF_PROGRAM]->(p:Program)
    WITH p.type AS t, done, """ + offered("c", "p", "region") + """ AS copp
    UNWIND done AS x
    UNWIND [w IN $windows WHERE w.from <= x[1] <= w.to | w.key] AS wk
    """ + _SCOPES + """
    WITH wk, scope, typed, count(*) AS n, count(DISTINCT x[0]) AS people
    RETURN collect({k: 'completions' + scope + typed, w: wk, v: n}) +
           collect({k: 'peopleTrained' + scope + typed, w: wk, v: people}) AS rows
  }"""

_COHORTS = """
  CALL () {
    MATCH (o:Organization)<-[:RUN_BY]-(c:Cohort)
    WHERE o.region IN $regions AND c.retiredAt IS NULL AND $from <= c.ends_on <= $to
      AND EXISTS { (c)<-[:IN_COHORT]-(e:Enrollment)
                   WHERE e.status = 'COMPLETED' AND e.retiredAt IS NULL }
    MATCH (c)-[:OF_PROGRAM]->(p:Program)
    WITH c, p, p.type AS t, """ + offered("c", "p", "o.region") + """ AS copp
    UNWIND [w IN $windows WHERE w.from <= c.ends_on <= w.to | w.key] AS wk
    """ + _SCOPES + """
    WITH wk, scope, typed, count(*) AS n, count(DISTINCT p) AS programs
    RETURN collect({k: 'cohortsCompleted' + scope + typed, w: wk, v: n}) +
           collect({k: 'programsImplemented' + scope + typed, w: wk, v: programs}) AS rows
  }"""

# participants of an event `ev`, all categories
EVENT_PARTICIPANTS = """coalesce(ev.participants_school, 0) + coalesce(ev.participants_college, 0)
         + coalesce(ev.participants_employed, 0) + coalesce(ev.participants_pre_retirement, 0)
         + coalesce(ev.participants_unemployed, 0) + coalesce(ev.participants_college_staff, 0)"""
# per kind of career-guidance activity: the KPI of its count and of its participants
EVENT_KPIS = {"EVENT": ("careerGuidanceEvents", "careerGuidanceParticipants"),
              "PROFESSIONAL_TRIAL": ("professionalTrials", "professionalTrialParticipants"),
              "FIRST_PROFESSION": ("firstProfessionEvents", "firstProfessionTrainees")}

_EVENTS = """
  CALL () {
    MATCH (o:Organization)<-[:ORGANIZED_BY]-(ev:CareerGuidanceEvent)
    WHERE o.region IN $regions AND ev.retiredAt IS NULL AND $from <= ev.held_on <= $to
    WITH ev.held_on AS d, ev.kind AS kind, """ + EVENT_PARTICIPANTS + """ AS n
    UNWIND [w IN $windows WHERE w.from <= d <= w.to | w.key] AS wk
    WITH wk, kind, count(*) AS events, sum(n) AS people
    WITH wk, collect([kind, events, people]) AS byKind
    UNWIND byKind + [['*', 0, reduce(s = 0, x IN byKind | s + x[2])]] AS x
    WITH wk, x[0] AS kind, x[1] AS events, x[2] AS people
    RETURN collect(CASE kind""" + "".join(
    f"\n                     WHEN '{kind}' THEN {{k: '{count}', w: wk, v: events}}"
    for kind, (count, _) in EVENT_KPIS.items()) + """ END) +
           collect({k: CASE kind""" + "".join(
    f"\n                         WHEN '{kind}' THEN '{people}'"
    for kind, (_, people) in EVENT_KPIS.items()) + """
                         ELSE 'careerGuidanceAttendance' END,
                    w: wk, v: people}) AS rows
  }"""

_PROGRAMS = """
  CALL () {
    MATCH (o:Organization)<-[:DEVELOPED_BY]-(p:Program)
    WHERE o.region IN $regions AND p.retiredAt IS NULL AND p.status IN $constructed
      AND $from <= p.approved_on <= $to
    WITH p.approved_on AS d, p.type AS t
    UNWIND [w IN $windows WHERE w.from <= d <= w.to | w.key] AS wk
    UNWIND ['', '.' + t] AS typed
    WITH wk, typed, count(*) AS n
    RETURN collect({k: 'programsConstructed' + typed, w: wk, v: n}) AS rows
  }"""

_STAFF = """
  CALL () {
    MATCH (o:Organization)<-[:WORKS_AT]-(s:Staff)<-[:OF_STAFF]-(tr:StaffTraining)
    WHERE o.region IN $regions AND tr.retiredAt IS NULL AND $from <= tr.completed_on <= $to
    WITH s, o.kind AS kind, tr.completed_on AS d, """ + by_network("tr", "o.region") + """ AS copp
    UNWIND [w IN $windows WHERE w.from <= d <= w.to | w.key] AS wk
    WITH wk, count(CASE WHEN copp THEN 1 END) AS trainings,
         count(DISTINCT CASE WHEN copp THEN s END) AS all,
         count(DISTINCT CASE WHEN copp AND kind = 'COPP' THEN s END) AS ofCopp,
         count(DISTINCT CASE WHEN copp AND kind = 'COLLEGE' THEN s END) AS ofCollege,
         count(CASE WHEN NOT copp THEN 1 END) AS otherTrainings,
         count(DISTINCT CASE WHEN NOT copp THEN s END) AS other
    RETURN collect({k: 'staffTrainings', w: wk, v: trainings}) +
           collect({k: 'staffTrained', w: wk, v: all}) +
           collect({k: 'staffTrainedCopp', w: wk, v: ofCopp}) +
           collect({k: 'staffTrainedCollege', w: wk, v: ofCollege}) +
           collect({k: 'staffTrainingsElsewhere', w: wk, v: otherTrainings}) +
           collect({k: 'staffTrainedElsewhere', w: wk, v: other}) AS rows
  }"""

_COVERED = """
  CALL () {
    CALL () {
      MATCH (o:Organization)<-[:RUN_BY]-(c:Cohort)<-[:IN_COHORT]-(e:Enrollment)
      WHERE o.region IN $regions AND c.retiredAt IS NULL AND e.retiredAt IS NULL
      UNWIND [coalesce(e.enrolled_on, c.starts_on),
              CASE WHEN e.status = 'COMPLETED' THEN e.completed_on END] AS d
      WITH e, d WHERE $from <= d <= $to
      RETURN 'L:' + e.learner AS who, d
      UNION ALL
      MATCH (o:Organization)<-[:ORGANIZED_BY]-(ev:CareerGuidanceEvent)<-[:PARTICIPATED_IN]-(l:Learner)
      WHERE o.region IN $regions AND ev.retiredAt IS NULL AND $from <= ev.held_on <= $to
      RETURN 'L:' + l.uid AS who, ev.held_on AS d
      UNION ALL
      MATCH (o:Organization)<-[:WORKS_AT]-(s:Staff)<-[:OF_STAFF]-(tr:StaffTraining)
      WHERE o.region IN $regions AND tr.retiredAt IS NULL AND $from <= tr.completed_on <= $to
        AND """ + by_network("tr", "o.region") + """
      RETURN 'S:' + s.uid AS who, tr.completed_on AS d
    }
    UNWIND [w IN $windows WHERE w.from <= d <= w.to | w.key] AS wk
    WITH wk, count(DISTINCT who) AS n
    RETURN collect({k: 'peopleCovered', w: wk, v: n}) AS rows
  }"""

# Read as it is, also next to the aggregates: a few agreements and staff per ЦОПП.
_NETWORK = """
  CALL () {
    OPTIONAL MATCH (o:Organization {kind: 'COPP'})<-[:WORKS_AT]-(s:Staff)
    WHERE o.region IN $regions AND o.retiredAt IS NULL AND s.retiredAt IS NULL
    WITH count(DISTINCT s) AS staff
    OPTIONAL MATCH (o:Organization {kind: 'COPP'})<-[:PARTY]-(a:PartnerAgreement)
                   -[:PARTY]->(partner:Organization)
    WHERE o.region IN $regions AND partner <> o AND a.retiredAt IS NULL
      AND partner.retiredAt IS NULL
    WITH staff, collect(DISTINCT [partner.uid, a.valid_from, a.valid_to]) AS parties
    UNWIND $windows AS w
    CALL (w, parties) {
      UNWIND parties AS x
      WITH x WHERE x[1] <= w.to
      RETURN count(DISTINCT CASE WHEN x[2] IS NULL OR x[2] >= w.from THEN x[0] END) AS during,
             count(DISTINCT CASE WHEN x[2] IS NULL OR x[2] >= w.to THEN x[0] END) AS atEnd
    }
    RETURN collect({k: 'coppStaff', w: w.key, v: staff}) +
           collect({k: 'partnerNetwork', w: w.key, v: during}) +
           collect({k: 'partnerNetworkAtEnd', w: w.key, v: atEnd}) AS rows
  }"""

KPI_PARTS = (_ENROLLMENTS, _COMPLETIONS, _COHORTS, _EVENTS, _PROGRAMS, _STAFF, _COVERED,
             _NETWORK)


def _kpi_part() -> str:
    """The inner CALLs each return `rows`; a WITH after each keeps it under its own name."""
    kept: list[str] = []
    body = []
    for i, part in enumerate(KPI_PARTS):
        body.append(part + f"\n  WITH {', '.join([*kept, f'rows AS rows{i}'])}")
        kept.append(f"rows{i}")
    return "\nCALL () {" + "".join(body) + f"\n  RETURN {' + '.join(kept)} AS kpiRows\n}}"


# The aggregates of the windows (`$windows` with their `bucket`, a period label): counts per
# region, and — over several regions — the persons counted in more than one of them.
AGGREGATE_PART = f"""
CALL () {{
  UNWIND $windows AS w
  MATCH (k:{COUNT_LABEL}) WHERE k.region IN $regions AND k.bucket = w.bucket
  RETURN collect({{w: w.key, c: properties(k)}}) AS kpiCounts
}}
CALL () {{
  UNWIND CASE WHEN size($regions) > 1 THEN $windows ELSE [] END AS w
  MATCH (s:{SHARED_LABEL} {{bucket: w.bucket}})
  RETURN collect({{w: w.key, k: s.key, r: s.regions}}) AS kpiShared
}}
CALL () {{{_NETWORK}
  RETURN rows AS kpiRows
}}"""

# Graduates (supply) per competency × municipality, recomputed or from the aggregates.
_MATRIX_OUTPUT = """
  CALL () {
    MATCH (co:Cohort)<-[:IN_COHORT]-(e:Enrollment)
    WHERE co.retiredAt IS NULL AND e.status = 'COMPLETED'
      AND $pfrom <= e.completed_on <= $pto AND e.retiredAt IS NULL
    WITH co, count(e) AS n  // per cohort first: its organization is then expanded once
    MATCH (co)-[:RUN_BY]->(o:Organization) WHERE o.region IN $regions
    MATCH (co)-[:OF_PROGRAM]->(:Program)-[:DEVELOPS]->(c:Competency)
    WITH c, n, """ + "{place}" + """ AS place
    WHERE place IS NOT NULL
    WITH c, place, sum(n) AS graduates
    MATCH (mu:Municipality {uid: place})
    RETURN collect({c: c.uid, cn: c.name, m: mu.uid, mn: mu.name, graduates: graduates}) AS output
  }"""
# where a cohort `co` of organization `o` trains: the smallest ОКТМО of its sites, else o's
COHORT_PLACE = """coalesce(reduce(m = null, x IN [(co)-[:AT_SITE]->(s:Site) | s.municipality] |
                               CASE WHEN m IS NULL OR x < m THEN x ELSE m END),
                        o.municipality)"""
_MATRIX_OUTPUT = _MATRIX_OUTPUT.replace("{place}", COHORT_PLACE)
_MATRIX_CELLS = f"""
  CALL () {{
    MATCH (g:{CELL_LABEL}) WHERE g.region IN $regions AND g.bucket = $bucket
    WITH g.competency AS competency, g.municipality AS place, sum(g.graduates) AS graduates
    WHERE graduates > 0
    MATCH (c:Competency {{uid: competency}}), (mu:Municipality {{uid: place}})
    RETURN collect({{c: c.uid, cn: c.name, m: mu.uid, mn: mu.name, graduates: graduates}})
           AS output
  }}"""
_MATRIX_REST = """
  CALL () {
    MATCH (mu:Municipality)<-[:IN_MUNICIPALITY]-(d:DemandSignal)
    WHERE mu.region IN $regions AND d.retiredAt IS NULL AND d.starts_on <= $pto
      AND d.ends_on >= $pfrom
    MATCH (d)-[:FOR_COMPETENCY]->(c:Competency)
    // the share of the signal's own period that lies in the period
    WITH c, mu, d, toFloat(duration.inDays(
           CASE WHEN d.starts_on > $pfrom THEN d.starts_on ELSE $pfrom END,
           CASE WHEN d.ends_on < $pto THEN d.ends_on ELSE $pto END).days + 1)
         / (duration.inDays(d.starts_on, d.ends_on).days + 1) AS share
    WITH c, mu, sum(coalesce(d.vacancies, 0) * share) AS vacancies,
         sum(coalesce(d.employer_requests, 0) * share) AS requests,
         sum(coalesce(d.survey_answers, 0)) AS answers, collect(DISTINCT d.source) AS sources
    RETURN collect({c: c.uid, cn: c.name, m: mu.uid, mn: mu.name, vacancies: vacancies,
                    requests: requests, answers: answers, sources: sources}) AS demand
  }
{supply}  // one row per cell (each part has at most one per competency × municipality)
  CALL (supply, output, demand) {
    UNWIND supply + output + demand AS r
    WITH r.c AS c, r.m AS m, collect(r) AS parts
    RETURN collect({c: c, m: m, cn: head(parts).cn, mn: head(parts).mn,
      sites: head([p IN parts WHERE p.sites IS NOT NULL | p.sites]),
      workplaces: head([p IN parts WHERE p.workplaces IS NOT NULL | p.workplaces]),
      graduates: head([p IN parts WHERE p.graduates IS NOT NULL | p.graduates]),
      vacancies: head([p IN parts WHERE p.vacancies IS NOT NULL | p.vacancies]),
      requests: head([p IN parts WHERE p.requests IS NOT NULL | p.requests]),
      answers: head([p IN parts WHERE p.answers IS NOT NULL | p.answers]),
      sources: head([p IN parts WHERE p.sources IS NOT NULL | p.sources])}) AS cells
  }
  RETURN cells AS matrixRows
}"""


# Workplaces (capacity): computed from the stock, or kept per competency and site
# (graph/kpi_aggregates.py `KpiSupply`: a site satisfying the competency's list, with the
# workplaces it can equip).
_SUPPLY_LIVE = """  CALL () {
    MATCH (c:Competency)-[:HAS_INFRASTRUCTURE_LIST]->(l:InfrastructureList)
    WHERE c.retiredAt IS NULL AND l.retiredAt IS NULL
    CALL (l) {
      MATCH (l)-[r:REQUIRES]->(t)
      // STOCKS only start at sites: no label test, so the count is the type's degree
      WITH t.uid AS t, r.quantity AS q, r.scope = 'PER_WORKPLACE' AS w,
           COUNT { (t)<-[:STOCKS]-() } AS holders ORDER BY holders
      RETURN collect({t: t, q: q, w: w}) AS items, head(collect(t)) AS rare,
             head(collect(q)) AS rareQ
    }
    // the sites of the regions holding enough of the list's rarest type: one index seek
    MATCH (s)-[k0:STOCKS]->()
    USING INDEX SEEK k0:STOCKS(type, region, municipality)
    WHERE k0.type = rare AND k0.region IN $regions AND k0.municipality IS NOT NULL
      AND k0.working >= rareQ
    WITH s, k0.municipality AS place, collect({c: c, items: items}) AS lists
    WHERE s.retiredAt IS NULL
    // each candidate site's stock read once for all the lists it may satisfy
    CALL (s) {
      MATCH (s)-[k:STOCKS]->()
      RETURN collect([k.type, k.working]) AS stock
    }
    UNWIND lists AS x
    WITH s, place, x.c AS c,
         [it IN x.items | [it, coalesce(head([p IN stock WHERE p[0] = it.t | p[1]]), 0)]] AS held
    WHERE all(h IN held WHERE h[1] >= h[0].q)
    WITH c, place, reduce(m = s.workplaces, h IN held |
           CASE WHEN h[0].w AND h[1] / h[0].q < m THEN h[1] / h[0].q ELSE m END) AS deliverable
    WITH c, place, count(*) AS sites, sum(deliverable) AS workplaces
    MATCH (mu:Municipality {uid: place})
    RETURN collect({c: c.uid, cn: c.name, m: mu.uid, mn: mu.name, sites: sites,
                    workplaces: workplaces}) AS supply
  }
"""
_SUPPLY_KEPT = f"""
  CALL () {{
    MATCH (mu:Municipality) WHERE mu.region IN $regions
    MATCH (x:{SUPPLY_LABEL} {{municipality: mu.uid}})
    MATCH (c:Competency {{uid: x.competency}}) WHERE c.retiredAt IS NULL
    WITH c, mu, count(x) AS sites, sum(x.workplaces) AS workplaces
    RETURN collect({{c: c.uid, cn: c.name, m: mu.uid, mn: mu.name, sites: sites,
                    workplaces: workplaces}}) AS supply
  }}
"""


def matrix_part(aggregated: bool) -> str:
    rest = _MATRIX_REST.replace("{supply}", _SUPPLY_KEPT if aggregated else _SUPPLY_LIVE)
    return "\nCALL () {" + (_MATRIX_CELLS if aggregated else _MATRIX_OUTPUT) + rest


# The region's roadmap (one region only: a roadmap is a region's).
ROADMAP_PART = """
CALL () {
  OPTIONAL MATCH (a:RoadmapActivity {region: $region})
  WHERE a.retiredAt IS NULL
  CALL (a) {
    OPTIONAL MATCH (a)<-[:CONTROL_POINT_OF]-(cp:ControlPoint)
    WITH cp ORDER BY cp.due_on
    RETURN collect(cp {.due_on, .done_on}) AS points
  }
  CALL (a) {
    OPTIONAL MATCH (a)<-[:SLOT_OF]-(sl:IndicatorSlot)
    WITH sl ORDER BY sl.index
    RETURN collect(sl {.index, .description, .implicit, .target, .kpi}) AS slots
  }
  WITH a, points, slots,
       [p IN points WHERE p.due_on < $asOf AND p.done_on IS NULL
                      AND NOT a.status IN ['DONE', 'CANCELLED'] | p.due_on] AS late
  ORDER BY a.number
  // dates as ISO text: read in Python without the driver's temporal hydration
  RETURN collect(a {.number, .group, .group_title, .title, .responsible, .due_text,
                    .recurrence, .expected_result, .documents, .status, .evidence, .notes,
                    first_due: toString(a.first_due),
                    points: [p IN points | [toString(p.due_on), toString(p.done_on)]],
                    slots: slots, overdue: [d IN late | toString(d)],
                    nextDue: toString(head([p IN points WHERE p.due_on >= $asOf
                                                           AND p.done_on IS NULL | p.due_on]))})
         AS roadmapRows
}"""

PARTS = ("kpis", "matrix", "roadmap")


def dashboard_cypher(parts: tuple[str, ...] | frozenset[str] = PARTS, *,
                     aggregated: bool = True, single: bool = True) -> str:
    """One statement for the requested parts: from the aggregates (`aggregated`: every window
    a calendar month, quarter or year) or recomputed. The roadmap needs the KPIs (slot
    actuals) and is a region's: over several regions (`single` False) it is left out."""
    wanted = set(parts)
    if not single:
        wanted.discard("roadmap")
    if "roadmap" in wanted:
        wanted.add("kpis")
    body, returns = [], []
    if "kpis" in wanted:
        body.append(AGGREGATE_PART if aggregated else _kpi_part())
        returns += ["kpiRows", "kpiCounts", "kpiShared"] if aggregated else ["kpiRows"]
    if "matrix" in wanted:
        body.append(matrix_part(aggregated))
        returns.append("matrixRows")
    if "roadmap" in wanted:
        body.append(ROADMAP_PART)
        returns.append("roadmapRows")
    return "".join(body) + "\nRETURN " + ", ".join([*returns, _UNKNOWN_REGIONS])


# Codes named in arguments (`{argument, label, value}`) that no node has: NOT_FOUND.
_CODE_LABELS = ("Region", "Municipality", "Competency", "Program", "Organization")
UNKNOWN_CODES_CYPHER = """
UNWIND $codes AS x
WITH x, CASE x.label """ + "".join(
    f"\n  WHEN '{label}' THEN EXISTS {{ MATCH (:{label} {{uid: x.value}}) }}"
    for label in _CODE_LABELS) + """
  END AS known
WHERE NOT known
RETURN x.argument AS argument, x.value AS value"""


# The regions asked for that do not exist, answered by the dashboard's own statement.
_UNKNOWN_REGIONS = ("[r IN $regions WHERE NOT EXISTS { MATCH (:Region {uid: r}) }] "
                    "AS unknownRegions")
# Every region (the federal view without a list).
ALL_REGIONS_CYPHER = "MATCH (r:Region) RETURN collect(r.uid) AS regions"


def kpi_cypher(aggregated: bool = False) -> str:
    """The KPI part alone, for any windows (`fetch_kpis`)."""
    return dashboard_cypher(("kpis",), aggregated=aggregated, single=False)


BUCKET_LABEL = re.compile(r"\d{4}(-Q[1-4]|-\d{2})?")


def is_bucket(period: Period) -> bool:
    """A calendar month, quarter or year: a window the aggregates hold."""
    if not BUCKET_LABEL.fullmatch(period.label):
        return False
    same = parse_period(period.label)
    return (same.start, same.end) == (period.start, period.end)


def dashboard_params(regions: str | list[str], period: Period,
                     as_of: dt.date | None = None) -> dict[str, Any]:
    regions = [regions] if isinstance(regions, str) else list(regions)
    ws = windows(period)
    return {
        "regions": regions, "region": regions[0] if len(regions) == 1 else None,
        "windows": ws, "bucket": period.label,
        "from": min(w["from"] for w in ws), "to": max(w["to"] for w in ws),
        "pfrom": period.start, "pto": period.end,
        "constructed": list(CONSTRUCTED_STATUSES),
        "asOf": as_of or dt.date.today(),
    }


# --- Results ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SeriesPoint:
    period: str
    value: int


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    value: int
    previous: int
    series: tuple[SeriesPoint, ...]

    @property
    def change(self) -> int:
        return self.value - self.previous


@dataclass(frozen=True)
class MatrixCell:
    competency: str
    competency_name: str
    municipality: str
    municipality_name: str
    sites: int = 0
    workplaces: int = 0
    graduates: int = 0
    vacancies: int = 0
    employer_requests: int = 0
    survey_answers: int = 0
    sources: tuple[str, ...] = ()

    @property
    def demand(self) -> int:
        """People wanted over the period: prorated vacancies + employer requests."""
        return self.vacancies + self.employer_requests

    @property
    def supply(self) -> int:
        """People trained over the period (a flow, like demand); workplaces are capacity."""
        return self.graduates

    @property
    def shortage(self) -> bool:
        return self.demand > self.supply

    @property
    def gap(self) -> int:
        return self.demand - self.supply


@dataclass(frozen=True)
class SlotView:
    index: int
    description: str
    implicit: bool
    target: int | None
    kpi: str | None
    actual: int | None


@dataclass(frozen=True)
class ActivityView:
    number: int
    group: int
    group_title: str
    title: str
    responsible: tuple[str, ...]
    due_text: str
    first_due: dt.date
    recurrence: str
    expected_result: str
    documents: str
    status: str
    evidence: tuple[str, ...]
    notes: str | None
    control_points: tuple[tuple[dt.date, dt.date | None], ...]
    overdue_points: tuple[dt.date, ...]
    next_due: dt.date | None
    slots: tuple[SlotView, ...]

    @property
    def overdue(self) -> bool:
        return bool(self.overdue_points)


@dataclass
class Dashboard:
    regions: tuple[str, ...]
    period: Period
    previous: Period
    quarters: list[Period]
    kpis: dict[str, Kpi] = field(default_factory=dict)
    matrix: list[MatrixCell] = field(default_factory=list)
    roadmap: list[ActivityView] = field(default_factory=list)
    unknown_regions: tuple[str, ...] = ()


_KPI_KEY_SET = frozenset(KPI_KEYS)


def kpi_values(rows: list[Any]) -> dict[tuple[str, str], int]:
    """(KPI key, window key) → value; absent pairs are 0."""
    return {(row["k"], row["w"]): int(row["v"]) for row in rows if row["k"] is not None}


def aggregate_values(record: Any, regions: list[str]) -> dict[tuple[str, str], int]:
    """(KPI key, window key) → value from the aggregates' rows of a statement: the regions'
    counts summed, less the persons counted in more than one of the regions (each once), and
    the figures read as they are (`kpiRows`)."""
    values: dict[tuple[str, str], int] = {}
    for row in record["kpiCounts"]:
        for key, v in row["c"].items():
            if key in _KPI_KEY_SET:
                values[(key, row["w"])] = values.get((key, row["w"]), 0) + int(v)
    wanted = set(regions)
    for row in record["kpiShared"]:
        extra = len(wanted.intersection(row["r"])) - 1
        if extra > 0:
            values[(row["k"], row["w"])] -= extra
    values.update(kpi_values(record["kpiRows"]))
    return values


def kpi_label(key: str) -> str:
    base, _, typ = key.partition(".")
    return KPI_LABELS[base] + (f": {ProgramType(typ).label}" if typ else "")


def parse_kpis(values: dict[tuple[str, str], int], period: Period) -> dict[str, Kpi]:
    prev = period.previous()
    quarters = quarters_between(prev.start, period.end)
    out = {}
    for key in KPI_KEYS:
        out[key] = Kpi(
            key, kpi_label(key), values.get((key, "current"), 0), values.get((key, "previous"), 0),
            tuple(SeriesPoint(q.label, values.get((key, q.label), 0)) for q in quarters),
        )
    return out


def parse_matrix(rows: list[dict[str, Any]]) -> list[MatrixCell]:
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        cell = cells.setdefault((row["c"], row["m"]), {
            "competency": row["c"], "competency_name": row["cn"],
            "municipality": row["m"], "municipality_name": row["mn"]})
        for src, dst in (("sites", "sites"), ("workplaces", "workplaces"),
                         ("graduates", "graduates"), ("vacancies", "vacancies"),
                         ("requests", "employer_requests"), ("answers", "survey_answers")):
            if row.get(src) is not None:  # prorated demand: rounded half up
                cell[dst] = int(row[src] + 0.5) if isinstance(row[src], float) else int(row[src])
        if row.get("sources"):
            cell["sources"] = tuple(sorted(row["sources"]))
    return [MatrixCell(**cells[k]) for k in sorted(cells)]


def _day(text: str | None) -> Any:
    return None if text is None else dt.date.fromisoformat(text)


def parse_roadmap(rows: list[dict[str, Any]], kpis: dict[str, Kpi]) -> list[ActivityView]:
    out = []
    for a in rows:
        if a is None or a.get("number") is None:
            continue
        slots = tuple(
            SlotView(s["index"], s["description"], bool(s["implicit"]), s["target"], s["kpi"],
                     kpis[s["kpi"]].value if s["kpi"] in kpis else None)
            for s in a["slots"] if s.get("index") is not None
        )
        out.append(ActivityView(
            number=a["number"], group=a["group"], group_title=a["group_title"], title=a["title"],
            responsible=tuple(a["responsible"] or ()), due_text=a["due_text"],
            first_due=_day(a["first_due"]), recurrence=a["recurrence"],
            expected_result=a["expected_result"], documents=a["documents"], status=a["status"],
            evidence=tuple(a["evidence"] or ()), notes=a["notes"],
            control_points=tuple((_day(due), _day(done))
                                 for due, done in a["points"] if due is not None),
            overdue_points=tuple(_day(d) for d in a["overdue"]),
            next_due=_day(a["nextDue"]), slots=slots,
        ))
    return out


def parse_dashboard(record: dict[str, Any], regions: list[str], period: Period) -> Dashboard:
    prev = period.previous()
    board = Dashboard(tuple(regions), period, prev, quarters_between(prev.start, period.end))
    if "kpiCounts" in record:
        board.kpis = parse_kpis(aggregate_values(record, regions), period)
    elif "kpiRows" in record:
        board.kpis = parse_kpis(kpi_values(record["kpiRows"]), period)
    if "matrixRows" in record:
        board.matrix = parse_matrix(record["matrixRows"])
    if "roadmapRows" in record:
        board.roadmap = parse_roadmap(record["roadmapRows"], board.kpis)
    board.unknown_regions = tuple(record.get("unknownRegions") or ())
    return board


def aggregated(period: Period) -> bool:
    """Whether a dashboard of `period` reads the aggregates (all its windows are buckets)."""
    return is_bucket(period) and is_bucket(period.previous())


def dashboard_query(regions: list[str], period: Period, parts: tuple[str, ...],
                    as_of: dt.date | None = None) -> tuple[str, dict[str, Any]]:
    """The one statement of a dashboard and its parameters."""
    return (dashboard_cypher(parts, aggregated=aggregated(period), single=len(regions) == 1),
            dashboard_params(regions, period, as_of))


def all_regions(driver: Any, database: str | None = None) -> list[str]:
    records, _, _ = driver.execute_query(ALL_REGIONS_CYPHER, database_=database, routing_="r")
    return sorted(records[0]["regions"])


def _regions(driver: Any, regions: str | list[str] | None, database: str | None) -> list[str]:
    if regions is None:
        return all_regions(driver, database)
    return [regions] if isinstance(regions, str) else list(regions)


def kpi_params(regions: list[str], periods: list[Period]) -> dict[str, Any]:
    ws = [{"key": p.label, "from": p.start, "to": p.end, "bucket": p.label} for p in periods]
    return {"regions": regions, "windows": ws, "from": min(p.start for p in periods),
            "to": max(p.end for p in periods), "constructed": list(CONSTRUCTED_STATUSES)}


def fetch_kpis(driver: Any, regions: str | list[str] | None, periods: list[Period],
               database: str | None = None, *, recompute: bool = False
               ) -> dict[str, dict[str, int]]:
    """Every KPI for each period (by label), in one statement: {label: {key: value}}. From the
    aggregates when every period is a calendar month, quarter or year, unless `recompute`;
    `regions`: one, a list, or None for every region."""
    names = _regions(driver, regions, database)
    from_aggregates = not recompute and all(is_bucket(p) for p in periods)
    records, _, _ = driver.execute_query(kpi_cypher(from_aggregates), kpi_params(names, periods),
                                        database_=database, routing_="r")
    record = records[0]
    values = (aggregate_values(record, names) if from_aggregates
              else kpi_values(record["kpiRows"]))
    return {p.label: {k: values.get((k, p.label), 0) for k in KPI_KEYS} for p in periods}


def fetch_dashboard(driver: Any, regions: str | list[str] | None, period: Period, *,
                    as_of: dt.date | None = None, parts: tuple[str, ...] = PARTS,
                    database: str | None = None) -> Dashboard:
    """Sync convenience (CLI, tests, bench): one round trip (two for every region)."""
    names = _regions(driver, regions, database)
    query, params = dashboard_query(names, period, parts, as_of)
    records, _, _ = driver.execute_query(query, params, database_=database, routing_="r")
    return parse_dashboard(records[0].data(), names, period)


# --- Learner portfolio ------------------------------------------------------------------------
# `$people` is the caller's personal-data scope (`graph.privacy.Scope.param()`): the portfolio
# holds the enrollments and activities in it, and `readable` says whether the learner is.

PORTFOLIO_CYPHER = """
MATCH (l:Learner {uid: $externalId})
CALL (l) {
  OPTIONAL MATCH (l)<-[:OF_LEARNER]-(e:Enrollment)-[:IN_COHORT]->(c:Cohort)-[:OF_PROGRAM]->(p:Program)
  WHERE e.retiredAt IS NULL AND """ + scope_condition("enrollments", "e", "people") + """
  OPTIONAL MATCH (c)-[:RUN_BY]->(o:Organization)
  WITH e, c, p, o ORDER BY c.starts_on, e.uid
  RETURN collect(CASE WHEN e IS NOT NULL THEN {
    status: e.status, enrolledOn: e.enrolled_on, completedOn: e.completed_on,
    certificate: e.certificate_number, program: p.code, programName: p.name,
    programType: p.type, competencies: p.competencies, hours: p.hours, cohort: c.code,
    startsOn: c.starts_on, endsOn: c.ends_on, organization: o.uid, organizationName: o.name
  } END) AS enrollments
}
CALL (l) {
  OPTIONAL MATCH (l)-[:PARTICIPATED_IN]->(ev:CareerGuidanceEvent)
  WHERE ev.retiredAt IS NULL AND """ + scope_condition("career_guidance_events", "ev", "people") + """
  WITH ev ORDER BY ev.held_on, ev.uid
  RETURN collect(ev {.code, .kind, .name, .held_on, .competency, .organization}) AS events
}
RETURN l {.external_id, .category, .region, .municipality, .source} AS learner,
       enrollments, events, """ + scope_condition("learners", "l", "people") + """ AS readable
"""


@dataclass(frozen=True)
class PortfolioEnrollment:
    status: str
    program: str
    program_name: str
    program_type: str
    competencies: tuple[str, ...]
    hours: int
    cohort: str
    starts_on: dt.date
    ends_on: dt.date
    organization: str | None
    organization_name: str | None
    enrolled_on: dt.date | None
    completed_on: dt.date | None
    certificate: str | None


@dataclass(frozen=True)
class PortfolioEvent:
    code: str
    kind: str
    name: str
    held_on: dt.date
    competency: str | None
    organization: str


@dataclass(frozen=True)
class Portfolio:
    external_id: str
    category: str
    region: str
    municipality: str | None
    enrollments: tuple[PortfolioEnrollment, ...]
    events: tuple[PortfolioEvent, ...]

    @property
    def completed(self) -> tuple[PortfolioEnrollment, ...]:
        return tuple(e for e in self.enrollments if e.status == "COMPLETED")


def parse_portfolio(record: dict[str, Any] | None) -> Portfolio | None:
    if record is None:
        return None
    learner = record["learner"]
    return Portfolio(
        learner["external_id"], learner["category"], learner["region"], learner["municipality"],
        tuple(PortfolioEnrollment(
            status=e["status"], program=e["program"], program_name=e["programName"],
            program_type=e["programType"], competencies=tuple(e["competencies"] or ()),
            hours=e["hours"], cohort=e["cohort"], starts_on=native(e["startsOn"]),
            ends_on=native(e["endsOn"]), organization=e["organization"],
            organization_name=e["organizationName"], enrolled_on=native(e["enrolledOn"]),
            completed_on=native(e["completedOn"]), certificate=e["certificate"],
        ) for e in record["enrollments"]),
        tuple(PortfolioEvent(ev["code"], ev["kind"], ev["name"], native(ev["held_on"]),
                             ev["competency"], ev["organization"])
              for ev in record["events"]),
    )


def fetch_portfolio(driver: Any, external_id: str, database: str | None = None) -> Portfolio | None:
    records, _, _ = driver.execute_query(PORTFOLIO_CYPHER, externalId=external_id,
                                        people=EVERYTHING.param(), database_=database,
                                        routing_="r")
    return parse_portfolio(records[0].data() if records else None)


if __name__ == "__main__":  # python -m graph.kpi --markdown: the contract table
    import sys

    if sys.argv[1:] == ["--markdown"]:
        print(rules_markdown())
