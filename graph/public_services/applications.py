"""Applications (заявки, template item 44): to enrol in a cohort of the public catalogue, and
to join the regional network as a partner.

Anyone may submit, without an account. A submission records the applicant's contacts and the
consent to personal-data processing (152-ФЗ: the text version and the time), answers a status
token once (only its SHA-256 is stored) and is worked by the cohort's organization (registrar)
or the region's operator:

    NEW → IN_REVIEW → ACCEPTED → ENROLLED,   NEW | IN_REVIEW → DECLINED (with a reason)

Accepting a learner writes a pseudonymous Learner and an Enrollment through `graph.ingest`
with the handler's rights; ENROLLED dates the enrollment (приказ о зачислении). Accepting a
partner writes the Organization (when new) and drafts a partnership agreement with the
region's ЦОПП; ENROLLED signs it (a PartnerAgreement through `graph.ingest`). Every step is
audited without personal values. Retention (`purge_plan`): personal data of declined
applications, and of applications nobody worked within the stale period, is removed.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from graph import enums as e
from graph.access import Principal
from graph.checksums import inn_is_valid
from graph.ingest import ingest_plan, patch_plan, prepare
from graph.privacy import scope_condition
from graph.public_services.common import (
    Refused,
    audited,
    contact_keys,
    digest,
    handler_denial,
    new_secret,
    now_utc,
    refuse_report,
)
from graph.registry import REGISTRIES
from graph.writes import Plan

LABEL = "Application"


class ApplicationKind(e.LabelledEnum):
    ENROLMENT = "ENROLMENT"
    PARTNERSHIP = "PARTNERSHIP"


class ApplicationStatus(e.LabelledEnum):
    NEW = "NEW"
    IN_REVIEW = "IN_REVIEW"
    ACCEPTED = "ACCEPTED"
    ENROLLED = "ENROLLED"
    DECLINED = "DECLINED"


e.LABELS[ApplicationKind] = {
    ApplicationKind.ENROLMENT: "Заявка на обучение",
    ApplicationKind.PARTNERSHIP: "Заявка на вступление в сеть партнеров",
}
e.LABELS[ApplicationStatus] = {
    ApplicationStatus.NEW: "Новая",
    ApplicationStatus.IN_REVIEW: "На рассмотрении",
    ApplicationStatus.ACCEPTED: "Принята",
    ApplicationStatus.ENROLLED: "Зачислен / включена в сеть",
    ApplicationStatus.DECLINED: "Отклонена",
}

# The consent to personal-data processing (152-ФЗ, ст. 9) the applicant accepts: the version
# is stored with the application and the time of consent.
CONSENT_VERSION = "2025-01"
CONSENT_TEXTS = {
    "2025-01": (
        "Я даю согласие оператору — центру опережающей профессиональной подготовки региона и "
        "организации, реализующей программу, — на обработку моих персональных данных "
        "(фамилия, имя, отчество, адрес электронной почты, номер телефона, категория "
        "слушателя, муниципальное образование) в целях рассмотрения заявки и зачисления на "
        "обучение либо включения организации в партнерскую сеть. Согласие действует до "
        "достижения целей обработки или до его отзыва; данные отклоненных и не "
        "рассмотренных заявок удаляются по истечении срока хранения."),
}

# Personal fields of an application: removed by the retention purge, never audited.
PERSONAL_FIELDS = ("full_name", "email", "phone", "comment", "municipality", "contact_person")
OPEN = (ApplicationStatus.NEW.value, ApplicationStatus.IN_REVIEW.value)
CATALOG_STATUSES = ["APPROVED", "RUNNING"]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200,
                                         pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=30,
                                         pattern=r"^\+?[\d\s()\-]{10,20}$")]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
CodeStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                           pattern=r"^[^:\s]+$")]


class _Submission(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)
    email: Email | None = None
    phone: Phone | None = None
    consent: bool
    consent_version: Short

    @model_validator(mode="after")
    def _contacts_and_consent(self) -> _Submission:
        if not self.email and not self.phone:
            raise ValueError("укажите адрес электронной почты или телефон")
        if not self.consent:
            raise ValueError("без согласия на обработку персональных данных заявка не "
                             "принимается (152-ФЗ)")
        if self.consent_version != CONSENT_VERSION:
            raise ValueError(f"согласие устаревшей редакции: действует {CONSENT_VERSION}")
        return self


class EnrolmentInput(_Submission):
    program: CodeStr
    cohort: CodeStr
    full_name: Name
    category: e.LearnerCategory
    municipality: Annotated[str, StringConstraints(pattern=r"^\d{8}(\d{3})?$")] | None = None
    comment: Comment | None = None


PARTNER_KINDS = (e.OrganizationKind.EMPLOYER, e.OrganizationKind.COLLEGE,
                 e.OrganizationKind.UNIVERSITY, e.OrganizationKind.OTHER)


class PartnerInput(_Submission):
    inn: str
    organization_name: Name
    kind: e.OrganizationKind
    region: Annotated[str, StringConstraints(pattern=r"^\d{2,3}$")]
    municipality: Annotated[str, StringConstraints(pattern=r"^\d{8}(\d{3})?$")] | None = None
    contact_person: Name
    offer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10,
                                            max_length=4000)] = Field(
        description="Что организация предлагает сети: площадки, оборудование, практика, "
                    "эксперты, заказ на обучение")

    @field_validator("inn", mode="before")
    @classmethod
    def _inn(cls, v: object) -> str:
        inn = "".join(str(v).split())
        if not inn_is_valid(inn):
            raise ValueError("ИНН должен содержать 10 или 12 цифр с верной контрольной суммой")
        return inn

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: e.OrganizationKind) -> e.OrganizationKind:
        if v not in PARTNER_KINDS:
            raise ValueError("партнером может стать работодатель, колледж, вуз или иная "
                             "организация")
        return v


def validation_message(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    parts = []
    for err in errors():
        where = ".".join(str(p) for p in err.get("loc", ()))
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


# --- submission --------------------------------------------------------------------------------

COHORT_CYPHER = """
OPTIONAL MATCH (c:Cohort {uid: $cohort})
WHERE c.retiredAt IS NULL AND c.ends_on >= $today
OPTIONAL MATCH (c)-[:OF_PROGRAM]->(p:Program)
WHERE p.status IN $statuses AND p.retiredAt IS NULL
OPTIONAL MATCH (c)-[:RUN_BY]->(o:Organization)
RETURN c IS NOT NULL AND p IS NOT NULL AS open, c.organization AS organization,
       o.region AS region, c.seats AS seats,
       COUNT { MATCH (en:Enrollment)-[:IN_COHORT]->(c)
               WHERE en.status IN ['ENROLLED', 'COMPLETED'] AND en.retiredAt IS NULL } AS taken,
       EXISTS { MATCH (a:Application) WHERE a.dedupe IN $dedupe } AS duplicate
"""

PARTNER_CHECK_CYPHER = """
RETURN EXISTS { MATCH (a:Application) WHERE a.dedupe IN $dedupe } AS duplicate,
       EXISTS { MATCH (r:Region {uid: $region}) } AS region_known,
       EXISTS { MATCH (o:Organization {uid: $inn}) WHERE o.retiredAt IS NULL } AS member
"""

CREATE_CYPHER = """
CREATE (a:Application)
SET a = $props, a.submitted_at = $now, a.updated_at = $now, a.version = 1
"""


def _dedupe_keys(scope: str, contacts: list[str]) -> list[str]:
    return [digest(f"{scope}|{c}") for c in contacts]


def submit_enrolment_plan(data: EnrolmentInput, today: dt.date, now: dt.datetime | None = None
                          ) -> Plan:
    """(uid, token) of the new application. Refused: cohort not open, no seats, duplicate."""
    now = now or now_utc()
    cohort = f"{data.program}:{data.cohort}"
    contacts = contact_keys(data.email, data.phone)
    dedupe = _dedupe_keys("cohort:" + cohort, contacts)
    [row] = yield COHORT_CYPHER, {"cohort": cohort, "today": today,
                                  "statuses": CATALOG_STATUSES, "dedupe": dedupe}
    if not row["open"]:
        raise Refused("Группа не найдена или набор в нее закрыт.", "NOT_FOUND")
    if row["seats"] - row["taken"] <= 0:
        raise Refused("Свободных мест в группе нет.", "NO_SEATS")
    if row["duplicate"]:
        raise Refused("Заявка с этими контактами в эту группу уже подана; ее статус — по "
                      "ссылке из первой заявки.", "DUPLICATE")
    uid, token = uuid.uuid4().hex, new_secret()
    props = {
        "uid": uid, "kind": ApplicationKind.ENROLMENT.value,
        "status": ApplicationStatus.NEW.value, "program": data.program, "cohort": data.cohort,
        "organization": row["organization"], "region": row["region"],
        "full_name": data.full_name, "email": data.email, "phone": data.phone,
        "category": data.category.value, "municipality": data.municipality,
        "comment": data.comment, "consent_version": data.consent_version,
        "consent_at": now, "token_hash": digest(token), "contacts": contacts,
        "dedupe": dedupe[0], "dedupe_all": dedupe,
    }
    yield CREATE_CYPHER, {"props": {k: v for k, v in props.items() if v is not None},
                          "now": now}
    yield from audited(LABEL, [_created(props)], None, "public", now)
    return uid, token


def submit_partner_plan(data: PartnerInput, now: dt.datetime | None = None) -> Plan:
    now = now or now_utc()
    dedupe = [digest(f"partner|{data.inn}")]
    [row] = yield PARTNER_CHECK_CYPHER, {"dedupe": dedupe, "region": data.region,
                                         "inn": data.inn}
    if not row["region_known"]:
        raise Refused("Регион не найден.", "NOT_FOUND")
    if row["duplicate"]:
        raise Refused("Заявка этой организации уже рассматривается.", "DUPLICATE")
    if row["member"]:
        raise Refused("Организация уже состоит в реестре сети; обратитесь к оператору ЦОПП.",
                      "DUPLICATE")
    uid, token = uuid.uuid4().hex, new_secret()
    props = {
        "uid": uid, "kind": ApplicationKind.PARTNERSHIP.value,
        "status": ApplicationStatus.NEW.value, "region": data.region, "inn": data.inn,
        "organization_name": data.organization_name, "org_kind": data.kind.value,
        "municipality": data.municipality, "contact_person": data.contact_person,
        "email": data.email, "phone": data.phone, "offer": data.offer,
        "consent_version": data.consent_version, "consent_at": now,
        "token_hash": digest(token), "contacts": contact_keys(data.email, data.phone),
        "dedupe": dedupe[0], "dedupe_all": dedupe,
    }
    yield CREATE_CYPHER, {"props": {k: v for k, v in props.items() if v is not None},
                          "now": now}
    yield from audited(LABEL, [_created(props)], None, "public", now)
    return uid, token


_SECRET = {"token_hash", "contacts", "dedupe", "dedupe_all"}


def _created(props: Mapping[str, Any]) -> dict[str, Any]:
    """The audit entry of a submission: personal and secret fields named, not recorded."""
    shown = {k: v for k, v in props.items()
             if v is not None and k not in PERSONAL_FIELDS and k not in _SECRET
             and k != "uid"}
    return {"uid": props["uid"], "op": "create",
            "fields": sorted(k for k, v in props.items() if v is not None and k != "uid"),
            "after": shown, "version": 1}


STATUS_CYPHER = """
MATCH (a:Application {token_hash: $hash})
OPTIONAL MATCH (p:Program {uid: a.program})
RETURN a {.uid, .kind, .status, .submitted_at, .updated_at, .decline_reason, .program,
          .cohort, .organization_name, program_name: p.name} AS a
"""


def status_params(token: str) -> dict[str, Any]:
    return {"hash": digest(token)}


# --- handling ------------------------------------------------------------------------------------

LOCK_CYPHER = """
MATCH (a:Application {uid: $uid})
SET a._lock = true REMOVE a._lock
RETURN properties(a) AS a
"""

UPDATE_CYPHER = """
MATCH (a:Application {uid: $uid})
SET a += $set, a.updated_at = $now, a.version = coalesce(a.version, 0) + 1
RETURN a.version AS version
"""

# transition → the statuses it leaves from
FROM: dict[str, tuple[str, ...]] = {
    "take": ("NEW",),
    "accept": ("NEW", "IN_REVIEW"),
    "complete": ("ACCEPTED",),
    "decline": ("NEW", "IN_REVIEW"),
}
TO = {"take": "IN_REVIEW", "accept": "ACCEPTED", "complete": "ENROLLED", "decline": "DECLINED"}


def _locked(uid: str, principal: Principal, transition: str) -> Plan:
    records = yield LOCK_CYPHER, {"uid": uid}
    if not records:
        raise Refused("Заявка не найдена.", "NOT_FOUND")
    app = dict(records[0]["a"])
    reason = handler_denial(principal, app.get("region"), [app.get("organization")])
    if reason:
        raise Refused(f"Нет права рассматривать заявку: {reason}.", "FORBIDDEN")
    if app.get("purged_at") is not None:
        raise Refused("Персональные данные заявки удалены по сроку хранения.", "BAD_STATE")
    if app["status"] not in FROM[transition]:
        label = ApplicationStatus(app["status"]).label
        raise Refused(f"Переход невозможен из статуса «{label}».", "BAD_STATE")
    return app


def _move(app: dict[str, Any], transition: str, principal: Principal, now: dt.datetime,
          extra: dict[str, Any] | None = None) -> Plan:
    changes = {"status": TO[transition], "handled_by": principal.name, **(extra or {})}
    if transition in ("accept", "decline", "complete"):
        changes["decided_at"] = now
    if transition == "decline":
        changes["dedupe"] = None  # the same person may apply again
    [row] = yield UPDATE_CYPHER, {"uid": app["uid"], "set": changes, "now": now}
    after = {k: v for k, v in changes.items() if k != "decided_at"}
    yield from audited(LABEL, [{
        "uid": app["uid"], "op": transition, "fields": sorted(changes),
        "before": {"status": app["status"]}, "after": after, "version": row["version"]}],
        principal, "graphql", now)
    return {**app, **changes, "version": row["version"]}


def take_plan(uid: str, principal: Principal, now: dt.datetime | None = None) -> Plan:
    now = now or now_utc()
    app = yield from _locked(uid, principal, "take")
    return (yield from _move(app, "take", principal, now))


def decline_plan(uid: str, reason: str, principal: Principal,
                 now: dt.datetime | None = None) -> Plan:
    now = now or now_utc()
    reason = " ".join((reason or "").split())
    if not 3 <= len(reason) <= 1000:
        raise Refused("Укажите причину отказа (от 3 до 1000 символов).", "BAD_REQUEST")
    app = yield from _locked(uid, principal, "decline")
    return (yield from _move(app, "decline", principal, now, {"decline_reason": reason}))


SEATS_CYPHER = """
MATCH (c:Cohort {uid: $cohort})
SET c._lock = true REMOVE c._lock
RETURN c.seats - COUNT { MATCH (en:Enrollment)-[:IN_COHORT]->(c)
                         WHERE en.status IN ['ENROLLED', 'COMPLETED']
                           AND en.retiredAt IS NULL } AS left,
       c.retiredAt IS NULL AS live
"""

COPP_CYPHER = """
MATCH (o:Organization {kind: 'COPP', region: $region}) WHERE o.retiredAt IS NULL
RETURN o.uid AS inn ORDER BY o.uid LIMIT 1
"""

EXISTS_CYPHER = "OPTIONAL MATCH (o:Organization {uid: $inn}) RETURN o IS NOT NULL AS exists"


def learner_id(uid: str) -> str:
    """The pseudonymous learner an accepted application creates (no name in the registry)."""
    return f"APP-{uid[:16]}"


def accept_plan(uid: str, principal: Principal, now: dt.datetime | None = None) -> Plan:
    now = now or now_utc()
    app = yield from _locked(uid, principal, "accept")
    if app["kind"] == ApplicationKind.ENROLMENT.value:
        cohort = f"{app['program']}:{app['cohort']}"
        seats = yield SEATS_CYPHER, {"cohort": cohort}
        if not seats or not seats[0]["live"]:
            raise Refused("Группа выбыла из реестра.", "BAD_STATE")
        if seats[0]["left"] <= 0:
            raise Refused("Свободных мест в группе нет.", "NO_SEATS")
        learner = learner_id(uid)
        report = yield from ingest_plan(
            prepare(REGISTRIES["learners"], [{
                "external_id": learner, "category": app["category"], "region": app["region"],
                "municipality": app.get("municipality"), "source": "Заявка с портала"}]),
            partial=False, dry_run=False, now=now, principal=principal, source="application")
        refuse_report(report, "Обучающийся не записан")
        report = yield from ingest_plan(
            prepare(REGISTRIES["enrollments"], [{
                "program": app["program"], "cohort": app["cohort"], "learner": learner}]),
            partial=False, dry_run=False, now=now, principal=principal, source="application")
        refuse_report(report, "Зачисление не записано")
        return (yield from _move(app, "accept", principal, now, {"learner": learner}))
    # a partner: the organization (when new) and the draft agreement with the region's ЦОПП
    copp = yield COPP_CYPHER, {"region": app["region"]}
    if not copp:
        raise Refused("В регионе нет ЦОПП — базовой организации соглашения.", "BAD_STATE")
    [known] = yield EXISTS_CYPHER, {"inn": app["inn"]}
    if not known["exists"]:
        report = yield from ingest_plan(
            prepare(REGISTRIES["organizations"], [{
                "inn": app["inn"], "name": app["organization_name"], "kind": app["org_kind"],
                "region": app["region"], "municipality": app.get("municipality")}]),
            partial=False, dry_run=False, now=now, principal=principal, source="application")
        refuse_report(report, "Организация не записана")
    draft = agreement_draft(app, copp[0]["inn"], now.date())
    return (yield from _move(app, "accept", principal, now,
                             {"agreement_draft": json.dumps(draft, ensure_ascii=False)}))


def agreement_draft(app: Mapping[str, Any], copp: str, today: dt.date) -> dict[str, Any]:
    """The partnership agreement to sign: the ЦОПП as base, the partner with what it offers."""
    return {
        "base_organization": copp, "number": f"П-{app['uid'][:8]}", "kind": "PARTNERSHIP",
        "subject": f"Сотрудничество в партнерской сети ЦОПП: {app['organization_name']}"[:1000],
        "parties": [{"organization": copp, "role": "BASE"},
                    {"organization": app["inn"], "role": "PARTICIPANT",
                     "responsibilities": app["offer"]}],
        "drafted_on": today.isoformat(),
    }


def complete_plan(uid: str, principal: Principal, on: dt.date | None = None,
                  valid_to: dt.date | None = None, now: dt.datetime | None = None) -> Plan:
    """ENROLLED: a learner's enrollment is dated `on`; a partner's agreement is signed `on`."""
    now = now or now_utc()
    on = on or now.date()
    app = yield from _locked(uid, principal, "complete")
    if app["kind"] == ApplicationKind.ENROLMENT.value:
        enrollment = f"{app['program']}:{app['cohort']}:{app['learner']}"
        report = yield from patch_plan(REGISTRIES["enrollments"], enrollment,
                                       {"enrolled_on": on}, principal=principal,
                                       source="application", now=now)
        if report is None:
            raise Refused("Зачисление по заявке не найдено.", "BAD_STATE")
        refuse_report(report, "Зачисление не записано")
        return (yield from _move(app, "complete", principal, now))
    draft = json.loads(app["agreement_draft"])
    row = {k: v for k, v in draft.items() if k != "drafted_on"}
    row.update(signed_on=on, valid_from=on, valid_to=valid_to)
    report = yield from ingest_plan(prepare(REGISTRIES["agreements"], [row]), partial=False,
                                    dry_run=False, now=now, principal=principal,
                                    source="application")
    refuse_report(report, "Соглашение не записано")
    agreement = f"{row['base_organization']}:{row['number']}"
    return (yield from _move(app, "complete", principal, now, {"agreement": agreement}))


# --- reads of the handlers ------------------------------------------------------------------------

# The caller's personal-data scope decides which applications it reads (graph/privacy.py).
LIST_CYPHER = f"""
MATCH (a:Application)
WHERE ($status IS NULL OR a.status = $status) AND ($kind IS NULL OR a.kind = $kind)
  AND ($after IS NULL OR a.uid > $after)
  AND {scope_condition("applications", "a", "people")}
WITH a ORDER BY a.uid LIMIT $limit
OPTIONAL MATCH (p:Program {{uid: a.program}})
RETURN a {{.*, program_name: p.name, token_hash: null, contacts: null, dedupe: null,
          dedupe_all: null}} AS a
"""


# --- retention --------------------------------------------------------------------------------

PURGE_CYPHER = """
MATCH (a:Application)
WHERE a.purged_at IS NULL
  AND ((a.status = 'DECLINED' AND a.decided_at < $declined_before)
       OR (a.status IN $open AND a.updated_at < $stale_before))
WITH a LIMIT $limit
SET a._lock = true REMOVE a._lock
WITH a, a.status AS was
SET a.status = 'DECLINED',
    a.decline_reason = CASE WHEN was = 'DECLINED' THEN a.decline_reason
                            ELSE 'Срок рассмотрения истек' END,
    a.decided_at = coalesce(a.decided_at, $now),
    a.purged_at = $now, a.updated_at = $now, a.version = coalesce(a.version, 0) + 1,
    a.full_name = null, a.email = null, a.phone = null, a.comment = null,
    a.municipality = null, a.contact_person = null, a.contacts = null, a.dedupe = null,
    a.dedupe_all = null, a.token_hash = null
RETURN a.uid AS uid, was, a.version AS version
"""


def purge_plan(now: dt.datetime, retention_days: int, stale_days: int,
               limit: int = 10000) -> Plan:
    """Remove the personal data of applications declined more than `retention_days` ago and
    of open ones untouched for `stale_days` (they are declined as stale); audited as
    `purge` entries (names of the removed fields, no values). Returns the purged uids."""
    records = yield PURGE_CYPHER, {
        "now": now, "declined_before": now - dt.timedelta(days=retention_days),
        "stale_before": now - dt.timedelta(days=stale_days), "open": list(OPEN),
        "limit": limit}
    changes = [{"uid": r["uid"], "op": "purge",
                "fields": sorted([*PERSONAL_FIELDS, "status", "purged_at"]),
                "before": {"status": r["was"]},
                "after": {"status": "DECLINED", "purged_at": now}, "version": r["version"]}
               for r in records]
    yield from audited(LABEL, changes, Principal("retention", "admin"), "retention", now)
    return [r["uid"] for r in records]
