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
Duplicates (the same person applying twice) are flagged for the handlers, never refused
(see DuplicateBy below); `merge_plan` folds one into the other.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
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
    phone_problem,
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
# Secrets derived from them: never read back, removed with them. `dedupe` and `dedupe_all`
# are what applications of the first version stored.
_SECRET = ("token_hash", "contacts", "dedupe", "dedupe_all")
OPEN = (ApplicationStatus.NEW.value, ApplicationStatus.IN_REVIEW.value)
CATALOG_STATUSES = ["APPROVED", "RUNNING"]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200,
                                         pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
CodeStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                           pattern=r"^[^:\s]+$")]


class _Submission(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)
    email: Email | None = None
    phone: Phone | None = None
    consent: bool
    consent_version: Short

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, v: object) -> object:
        return unicodedata.normalize("NFKC", v) if isinstance(v, str) else v

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        problem = phone_problem(v) if v else None
        if problem:
            raise ValueError(problem)
        return v

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

class DuplicateBy(e.LabelledEnum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    INN = "INN"


e.LABELS[DuplicateBy] = {DuplicateBy.EMAIL: "совпадает адрес электронной почты",
                         DuplicateBy.PHONE: "совпадает телефон",
                         DuplicateBy.INN: "совпадает ИНН"}

# Duplicates (the same person applying twice) are flagged, never refused: a submission is
# answered the same whether or not its contacts are already on file, so the anonymous form
# tells nobody whether an e-mail or a phone has applied. The new application is linked
# (:Application)-[:DUPLICATE_OF {by}]->(:Application) to each application still in play
# (not DECLINED) that shares a contact key — of the same program for enrolments (any of its
# cohorts), of the same region and ИНН for partners; handlers see the links within their
# personal-data scope and merge (`merge_plan`) or decline. Every application is linked
# (:Application)-[:APPLIES_TO]->(:Cohort | :Region), which is where the search for its
# duplicates starts; the anchor node is locked first, so two submissions of one person at
# the same moment still see each other.
DUPLICATE_PROJECTION = """{uid: d.uid, by: [k IN d.contacts WHERE k IN $contacts |
                          CASE left(k, 2) WHEN 'e:' THEN 'EMAIL' ELSE 'PHONE' END]}"""

# an enrolment's duplicates, from its program `p`; a partner's, from its region `r`
ENROLMENT_DUPLICATES = f"""[(p)<-[:OF_PROGRAM]-(:Cohort)<-[:APPLIES_TO]-(d:Application)
        WHERE d.status <> 'DECLINED' AND any(k IN d.contacts WHERE k IN $contacts)
        | {DUPLICATE_PROJECTION}]"""
PARTNER_DUPLICATES = """[(r)<-[:APPLIES_TO]-(d:Application)
        WHERE d.status <> 'DECLINED' AND d.inn = $inn | {uid: d.uid, by: ['INN']}]"""

COHORT_CYPHER = f"""
OPTIONAL MATCH (c:Cohort {{uid: $cohort}})
WHERE c.retiredAt IS NULL AND c.ends_on >= $today
OPTIONAL MATCH (c)-[:OF_PROGRAM]->(p:Program)
WHERE p.status IN $statuses AND p.retiredAt IS NULL
SET p._lock = true REMOVE p._lock
WITH c, p
OPTIONAL MATCH (c)-[:RUN_BY]->(o:Organization)
RETURN c IS NOT NULL AND p IS NOT NULL AS open, c.organization AS organization,
       o.region AS region, c.seats AS seats,
       COUNT {{ MATCH (en:Enrollment)-[:IN_COHORT]->(c)
               WHERE en.status IN ['ENROLLED', 'COMPLETED'] AND en.retiredAt IS NULL }} AS taken,
       {ENROLMENT_DUPLICATES} AS duplicates
"""

PARTNER_CHECK_CYPHER = f"""
OPTIONAL MATCH (r:Region {{uid: $region}})
SET r._lock = true REMOVE r._lock
WITH r
RETURN r IS NOT NULL AS region_known,
       EXISTS {{ MATCH (o:Organization {{uid: $inn}}) WHERE o.retiredAt IS NULL }} AS member,
       {PARTNER_DUPLICATES} AS duplicates
"""


def create_cypher(target: str) -> str:
    """The new application and its links."""
    return """
CREATE (a:Application)
SET a = $props, a.submitted_at = $now, a.updated_at = $now, a.version = 1
""" + links_cypher(target)


def links_cypher(target: str) -> str:
    """Links of the application `a`: its duplicates, then `target` (Cohort or Region, from
    code), in that order: an accept locks the application, then the cohort."""
    return f"""WITH a
CALL (a) {{
  UNWIND $duplicates AS dup
  MATCH (d:Application {{uid: dup.uid}})
  CREATE (a)-[:DUPLICATE_OF {{by: dup.by, at: $now}}]->(d)
}}
WITH a
MATCH (t:{target} {{uid: $target}})
CREATE (a)-[:APPLIES_TO]->(t)
"""


def enrolment_scope(program: str) -> str:
    """Where the contact keys of an enrolment link applications: its program."""
    return f"program:{program}"


def partner_scope(region: str) -> str:
    return f"region:{region}"


def submit_enrolment_plan(data: EnrolmentInput, today: dt.date, now: dt.datetime | None = None
                          ) -> Plan:
    """(uid, token) of the new application. Refused: cohort not open, no seats (both public
    in the catalogue); a duplicate is written and flagged like any other."""
    now = now or now_utc()
    cohort = f"{data.program}:{data.cohort}"
    contacts = contact_keys(data.email, data.phone, enrolment_scope(data.program))
    [row] = yield COHORT_CYPHER, {"cohort": cohort, "today": today,
                                  "statuses": CATALOG_STATUSES, "contacts": contacts}
    if not row["open"]:
        raise Refused("Группа не найдена или набор в нее закрыт.", "NOT_FOUND")
    if row["seats"] - row["taken"] <= 0:
        raise Refused("Свободных мест в группе нет.", "NO_SEATS")
    uid, token = uuid.uuid4().hex, new_secret()
    props = {
        "uid": uid, "kind": ApplicationKind.ENROLMENT.value,
        "status": ApplicationStatus.NEW.value, "program": data.program, "cohort": data.cohort,
        "organization": row["organization"], "region": row["region"],
        "full_name": data.full_name, "email": data.email, "phone": data.phone,
        "category": data.category.value, "municipality": data.municipality,
        "comment": data.comment, "consent_version": data.consent_version,
        "consent_at": now, "token_hash": digest(token), "contacts": contacts,
    }
    yield from _create(props, "Cohort", cohort, row["duplicates"], now)
    return uid, token


def submit_partner_plan(data: PartnerInput, now: dt.datetime | None = None) -> Plan:
    """(uid, token). Refused: unknown region, an ИНН already in the network registry."""
    now = now or now_utc()
    [row] = yield PARTNER_CHECK_CYPHER, {"region": data.region, "inn": data.inn}
    if not row["region_known"]:
        raise Refused("Регион не найден.", "NOT_FOUND")
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
        "token_hash": digest(token),
        "contacts": contact_keys(data.email, data.phone, partner_scope(data.region)),
    }
    yield from _create(props, "Region", data.region, row["duplicates"], now)
    return uid, token


def _create(props: dict[str, Any], target: str, key: str, duplicates: list[Any],
            now: dt.datetime) -> Plan:
    yield create_cypher(target), {
        "props": {k: v for k, v in props.items() if v is not None}, "now": now,
        "target": key, "duplicates": [dict(d) for d in duplicates]}
    yield from audited(LABEL, [_created(props)], None, "public", now)


def _created(props: Mapping[str, Any]) -> dict[str, Any]:
    """The audit entry of a submission: personal and secret fields named, not recorded. The
    duplicate links are not mentioned: derived from the contacts like the keys, they may
    point outside the auditor's region, whose operator must not learn of them."""
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
    _check(app, principal, transition)
    return app


def _check(app: Mapping[str, Any], principal: Principal, transition: str) -> None:
    reason = handler_denial(principal, app.get("region"), [app.get("organization")])
    if reason:
        raise Refused(f"Нет права рассматривать заявку: {reason}.", "FORBIDDEN")
    if app.get("purged_at") is not None:
        raise Refused("Персональные данные заявки удалены по сроку хранения.", "BAD_STATE")
    if app["status"] not in FROM[transition]:
        label = ApplicationStatus(app["status"]).label
        raise Refused(f"Переход невозможен из статуса «{label}».", "BAD_STATE")


def _move(app: dict[str, Any], transition: str, principal: Principal, now: dt.datetime,
          extra: dict[str, Any] | None = None) -> Plan:
    changes = {"status": TO[transition], "handled_by": principal.name, **(extra or {})}
    if transition in ("accept", "decline", "complete"):
        changes["decided_at"] = now
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


# --- duplicates ----------------------------------------------------------------------------------

# What the person's status link shows of a duplicate merged into another application: the
# same words whatever the other one is, so the link tells its holder nothing of it.
MERGED_REASON = ("Заявка закрыта при рассмотрении; организация свяжется с вами по контактам, "
                 "указанным в заявке.")
# Fields a merge copies from the duplicate into the kept application when it has none.
MERGE_FILLS = ("email", "phone", "municipality", "comment")

MERGE_LOCK_CYPHER = """
UNWIND $uids AS u
MATCH (a:Application {uid: u})
SET a._lock = true REMOVE a._lock
WITH collect(properties(a)) AS apps
RETURN apps,
       EXISTS { MATCH (:Application {uid: $duplicate})-[:DUPLICATE_OF]-
                      (:Application {uid: $into}) } AS linked
"""


def merge_plan(uid: str, into: str, principal: Principal,
               now: dt.datetime | None = None) -> Plan:
    """Merge the duplicate `uid` into `into`, the application kept: the duplicate is
    declined (its status link shows MERGED_REASON), the kept one takes the contacts it
    lacked. Only applications linked as duplicates merge; the handler must be allowed to
    work both. Returns the kept application."""
    now = now or now_utc()
    if uid == into:
        raise Refused("Заявку нельзя объединить с нею самой.", "BAD_REQUEST")
    [row] = yield MERGE_LOCK_CYPHER, {"uids": sorted([uid, into]), "duplicate": uid,
                                      "into": into}
    apps = {a["uid"]: dict(a) for a in row["apps"]}
    if uid not in apps or into not in apps:
        raise Refused("Заявка не найдена.", "NOT_FOUND")
    dup, kept = apps[uid], apps[into]
    _check(dup, principal, "decline")
    reason = handler_denial(principal, kept.get("region"), [kept.get("organization")])
    if reason:
        raise Refused(f"Нет права рассматривать заявку: {reason}.", "FORBIDDEN")
    if kept.get("purged_at") is not None or kept["status"] == ApplicationStatus.DECLINED.value:
        raise Refused("Объединять можно только с заявкой, которая не отклонена.", "BAD_STATE")
    if not row["linked"]:
        raise Refused("Заявки не отмечены как повторные: объединяются заявки с общим адресом "
                      "электронной почты, телефоном или ИНН.", "BAD_STATE")
    fill = {f: dup[f] for f in MERGE_FILLS if dup.get(f) and not kept.get(f)}
    merged = [*(kept.get("merged") or []), uid]
    scope = (enrolment_scope(kept["program"]) if kept["kind"] == ApplicationKind.ENROLMENT.value
             else partner_scope(kept["region"]))
    # the kept application's keys are those of its own contacts: none outlives its contact
    contacts = contact_keys(fill.get("email") or kept.get("email"),
                            fill.get("phone") or kept.get("phone"), scope)
    changes = {**fill, "contacts": contacts, "merged": merged, "handled_by": principal.name}
    [version] = yield UPDATE_CYPHER, {"uid": into, "set": changes, "now": now}
    yield from audited(LABEL, [{
        "uid": into, "op": "update", "fields": sorted(changes),
        "before": {"merged": kept.get("merged") or []},
        "after": {"merged": merged, "handled_by": principal.name},
        "version": version["version"]}], principal, "graphql", now)
    yield from _move(dup, "decline", principal, now,
                     {"decline_reason": MERGED_REASON, "merged_into": into})
    return {**kept, **changes, "version": version["version"]}


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


# --- upgrade ------------------------------------------------------------------------------------

# Applications stored before duplicates were flagged have no APPLIES_TO link, unscoped
# contact keys and a `dedupe` key (unique: it refused a second application).
UPGRADE_READ_CYPHER = """
MATCH (a:Application) WHERE NOT EXISTS { (a)-[:APPLIES_TO]->() }
RETURN a {.uid, .kind, .program, .cohort, .region, .email, .phone, .inn,
          purged: a.purged_at IS NOT NULL} AS a
ORDER BY a.submitted_at, a.uid
"""

FIND_CYPHER = {
    "Cohort": f"MATCH (p:Program {{uid: $program}}) RETURN {ENROLMENT_DUPLICATES} AS duplicates",
    "Region": f"MATCH (r:Region {{uid: $region}}) RETURN {PARTNER_DUPLICATES} AS duplicates",
}


def upgrade_cypher(target: str) -> str:
    return """
MATCH (a:Application {uid: $uid})
SET a.contacts = $contacts REMOVE a.dedupe, a.dedupe_all
""" + links_cypher(target)


def upgrade_plan(now: dt.datetime | None = None) -> Plan:
    """Bring applications of the first version to this one, oldest first, as if submitted
    now in their order: scoped keys from their contacts (none once purged), the link to
    their cohort or region, the links to the earlier applications of the same person still
    in play; the old `dedupe` keys removed. For a schema migration; returns how many."""
    now = now or now_utc()
    rows = yield UPGRADE_READ_CYPHER, {}
    for row in rows:
        a = row["a"]
        enrolment = a["kind"] == ApplicationKind.ENROLMENT.value
        target = "Cohort" if enrolment else "Region"
        scope = enrolment_scope(a["program"]) if enrolment else partner_scope(a["region"])
        contacts = [] if a["purged"] else contact_keys(a["email"], a["phone"], scope)
        found = yield FIND_CYPHER[target], {"program": a["program"], "region": a["region"],
                                            "contacts": contacts, "inn": a["inn"]}
        yield upgrade_cypher(target), {
            "uid": a["uid"], "contacts": contacts or None, "now": now,
            "target": f"{a['program']}:{a['cohort']}" if enrolment else a["region"],
            "duplicates": [] if a["purged"] or not found else
                          [dict(d) for d in found[0]["duplicates"]]}
    return len(rows)


# --- reads of the handlers ------------------------------------------------------------------------

def links_projection(var: str) -> str:
    """Cypher map of what links `var` to other applications of the same person — its
    `duplicates`, the applications `merged` into it, the one it was `merged_into` — keeping
    only those inside the reader's personal-data scope `$people`: a link never shows an
    application its reader could not open (the same person's application to another
    organization's cohort)."""
    readable = scope_condition("applications", "lk", "people")
    return f"""{{
  duplicates: [({var})-[r:DUPLICATE_OF]-(lk:Application) WHERE {readable}
    | lk {{.uid, .kind, .status, .program, .cohort, .submitted_at, by: r.by,
           earlier: endNode(r) = lk}}],
  merged: COLLECT {{ MATCH (lk:Application) WHERE lk.uid IN coalesce({var}.merged, [])
                     AND {readable} RETURN lk.uid ORDER BY lk.uid }},
  merged_into: COLLECT {{ MATCH (lk:Application) WHERE lk.uid = {var}.merged_into
                          AND {readable} RETURN lk.uid }}[0]
}}"""


_HIDDEN = ", ".join(f"{k}: null" for k in _SECRET)

# The caller's personal-data scope decides which applications it reads (graph/privacy.py).
LIST_CYPHER = f"""
MATCH (a:Application)
WHERE ($status IS NULL OR a.status = $status) AND ($kind IS NULL OR a.kind = $kind)
  AND ($after IS NULL OR a.uid > $after)
  AND {scope_condition("applications", "a", "people")}
  AND ($duplicate IS NULL OR $duplicate = EXISTS {{
        MATCH (a)-[:DUPLICATE_OF]-(lk:Application)
        WHERE {scope_condition("applications", "lk", "people")} }})
WITH a ORDER BY a.uid LIMIT $limit
OPTIONAL MATCH (p:Program {{uid: a.program}})
RETURN a {{.*, program_name: p.name, {_HIDDEN}, merged: null, merged_into: null,
          links: {links_projection("a")}}} AS a
"""

# The links of one application (an answer of a transition), in the reader's scope.
LINKS_CYPHER = f"""
MATCH (a:Application {{uid: $uid}})
RETURN {links_projection("a")} AS links
"""


# --- retention --------------------------------------------------------------------------------

PURGE_CYPHER = f"""
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
    {", ".join(f"a.{k} = null" for k in (*PERSONAL_FIELDS, *_SECRET))}
WITH a, was
// the duplicate links go with the contacts they were found by
CALL (a) {{
  MATCH (a)-[r:DUPLICATE_OF]-(:Application)
  DELETE r
}}
RETURN a.uid AS uid, a.kind AS kind, was, a.version AS version
"""


@dataclass(frozen=True)
class Purged:
    uid: str
    kind: str  # ApplicationKind
    was: str  # ApplicationStatus before the purge


PURGE_BATCH = 10000


def purge_plan(now: dt.datetime, retention_days: int, stale_days: int,
               limit: int = PURGE_BATCH) -> Plan:
    """Remove the personal data of applications declined more than `retention_days` ago and
    of open ones untouched for `stale_days` (they are declined as stale); audited as
    `purge` entries (names of the removed fields, no values). Returns what it purged
    (`Purged`, at most `limit`: run again while it returns that many). The one way to
    purge: `purgeApplications` and `hub purge applications` both run it."""
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
    return [Purged(r["uid"], r["kind"], r["was"]) for r in records]


def purge_report(purged: list[Purged], retention_days: int, stale_days: int,
                 dry_run: bool) -> str:
    """What a purge removed (or, dry, would remove), in Russian, without personal data."""
    if not purged:
        return (f"Заявок с истекшим сроком хранения нет (отклоненные хранятся "
                f"{retention_days} дн., нерассмотренные — {stale_days} дн.).")
    declined = sum(p.was == ApplicationStatus.DECLINED.value for p in purged)
    lines = [
        ("Проверка (--dry-run), ничего не изменено. Будут удалены" if dry_run else "Удалены")
        + f" персональные данные заявок: {len(purged)}",
        f"  отклоненных более {retention_days} дн. назад: {declined}",
        (f"  не рассмотренных {stale_days} дн. (отклоняются как просроченные): "
         f"{len(purged) - declined}")]
    for p in purged[:PURGE_LISTED]:
        lines.append(f"  {p.uid} — {ApplicationKind(p.kind).label.lower()}, "
                     f"была «{ApplicationStatus(p.was).label}»")
    if len(purged) > PURGE_LISTED:
        lines.append(f"  … и еще {len(purged) - PURGE_LISTED}")
    return "\n".join(lines)


PURGE_LISTED = 20
