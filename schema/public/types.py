"""GraphQL types of the public services. Anonymous callers get receipts and statuses only —
never another applicant's data."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.types import Info

from graph import enums as e
from graph import planning as pl
from graph import privacy
from graph.public_services import applications as ap
from graph.public_services import review as rv
from graph.public_services import surveys as sv
from graph.public_services.applications import ApplicationKind, ApplicationStatus, DuplicateBy
from graph.public_services.surveys import QuestionKind, SurveyCategory
from schema.core.enums import (
    LearnerCategory,
    OrganizationKind,
    ProgramStatus,
    ensure_enum,
    graphql_enum,
)
from schema.core.node import context, load_node, native
from schema.registry.types import NODE_CLASSES

# The GraphQL enums are the public services' own classes.
graphql_enum(ApplicationKind, "What an application asks for.")
graphql_enum(ApplicationStatus, "Where an application is in its handling.")
graphql_enum(DuplicateBy, "What two applications of one person share.")
graphql_enum(SurveyCategory, "Target category of survey respondents.")
graphql_enum(QuestionKind, "Kind of survey question.")


@strawberry.enum(description="An expert's verdict on a program.")
class ReviewVerdict(Enum):
    APPROVE = "APPROVE"
    REVISE = "REVISE"
    REJECT = "REJECT"


@strawberry.enum(description="The operator's decision on a reviewed program.")
class ReviewDecision(Enum):
    APPROVED = "APPROVED"
    RETURNED = "RETURNED"


# --- applications ----------------------------------------------------------------------------


@strawberry.type(description="The consent to personal-data processing an applicant gives.")
class Consent:
    version: str = strawberry.field(description="Version to send as `consentVersion`.")
    text: str = strawberry.field(description="The text (Russian).")


@strawberry.input(description="An application to enrol in a cohort of the public catalogue.")
class EnrolmentApplicationInput:
    program: str = strawberry.field(description="Program code.")
    cohort: str = strawberry.field(description="Cohort number.")
    full_name: str = strawberry.field(description="Фамилия, имя, отчество.")
    email: str | None = strawberry.field(default=None, description="E-mail (or phone).")
    phone: str | None = strawberry.field(default=None, description="Phone (or e-mail).")
    category: LearnerCategory = strawberry.field(description="Category of the learner.")
    municipality: str | None = strawberry.field(default=None, description="ОКТМО of residence.")
    comment: str | None = strawberry.field(default=None, description="Comment (≤ 2000).")
    consent: bool = strawberry.field(description="Consent to personal-data processing.")
    consent_version: str = strawberry.field(description="`publicConsent.version` accepted.")
    website: str | None = strawberry.field(
        default=None, description="Leave empty (a field hidden from people; bots fill it).")


@strawberry.input(description="An organization's application to join the regional network.")
class PartnerApplicationInput:
    inn: str = strawberry.field(description="ИНН (checksum-validated).")
    organization_name: str = strawberry.field(description="Full name.")
    kind: OrganizationKind = strawberry.field(
        description="EMPLOYER, COLLEGE, UNIVERSITY or OTHER.")
    region: str = strawberry.field(description="Subject code.")
    municipality: str | None = strawberry.field(default=None, description="ОКТМО.")
    contact_person: str = strawberry.field(description="Contact person.")
    email: str | None = strawberry.field(default=None, description="E-mail (or phone).")
    phone: str | None = strawberry.field(default=None, description="Phone (or e-mail).")
    offer: str = strawberry.field(
        description="What it offers: sites, equipment, practice, experts, orders (≤ 4000).")
    consent: bool = strawberry.field(description="Consent to personal-data processing.")
    consent_version: str = strawberry.field(description="`publicConsent.version` accepted.")
    website: str | None = strawberry.field(default=None, description="Leave empty.")


@strawberry.type(description="What a submission answers: keep `statusToken`, shown once.")
class ApplicationReceipt:
    status_token: str = strawberry.field(
        description="Secret of the status link (`applicationStatus(token)`); not stored.")
    status: ApplicationStatus = strawberry.field(description="Status now.")
    message: str = strawberry.field(description="For the applicant (Russian).")


@strawberry.type(description="An application's status, as its status link shows it.")
class ApplicationStatusView:
    kind: ApplicationKind = strawberry.field(description="What it asks for.")
    status: ApplicationStatus = strawberry.field(description="Status.")
    status_label: str = strawberry.field(description="Status in Russian.")
    submitted_at: dt.datetime = strawberry.field(description="Submitted.")
    updated_at: dt.datetime = strawberry.field(description="Last change.")
    program: str | None = strawberry.field(description="Program code (enrolment).")
    program_name: str | None = strawberry.field(description="Program name (enrolment).")
    cohort: str | None = strawberry.field(description="Cohort (enrolment).")
    organization_name: str | None = strawberry.field(description="Organization (partner).")
    decline_reason: str | None = strawberry.field(description="Why declined.")


@strawberry.type(description="An application as its handlers see it (personal data, 152-ФЗ: "
                             "admin, the region's operator, the cohort's organization).")
class Application:
    id: strawberry.ID = strawberry.field(description="Application key.")
    kind: ApplicationKind = strawberry.field(description="What it asks for.")
    status: ApplicationStatus = strawberry.field(description="Status.")
    status_label: str = strawberry.field(description="Status in Russian.")
    region: str | None = strawberry.field(description="Region.")
    program: str | None = strawberry.field(description="Program code.")
    program_name: str | None = strawberry.field(description="Program name.")
    cohort: str | None = strawberry.field(description="Cohort.")
    organization: str | None = strawberry.field(description="ИНН of the cohort's organization.")
    full_name: str | None = strawberry.field(description="Applicant (null once purged).")
    email: str | None = strawberry.field(description="E-mail.")
    phone: str | None = strawberry.field(description="Phone.")
    category: LearnerCategory | None = strawberry.field(description="Learner category.")
    municipality: str | None = strawberry.field(description="ОКТМО.")
    comment: str | None = strawberry.field(description="Applicant's comment.")
    inn: str | None = strawberry.field(description="Partner's ИНН.")
    organization_name: str | None = strawberry.field(description="Partner's name.")
    organization_kind: OrganizationKind | None = strawberry.field(description="Partner kind.")
    contact_person: str | None = strawberry.field(description="Partner's contact person.")
    offer: str | None = strawberry.field(description="What the partner offers.")
    consent_version: str = strawberry.field(description="Consent text version accepted.")
    consent_at: dt.datetime = strawberry.field(description="When consent was given.")
    submitted_at: dt.datetime = strawberry.field(description="Submitted.")
    updated_at: dt.datetime = strawberry.field(description="Last change.")
    decided_at: dt.datetime | None = strawberry.field(description="Accepted or declined.")
    handled_by: str | None = strawberry.field(description="Account that made the last step.")
    decline_reason: str | None = strawberry.field(description="Why declined.")
    learner: str | None = strawberry.field(description="Learner created (pseudonymous id).")
    agreement_draft: str | None = strawberry.field(
        description="Partnership agreement draft (JSON: base, number, parties, subject).")
    agreement: str | None = strawberry.field(description="Signed agreement key.")
    purged_at: dt.datetime | None = strawberry.field(description="Personal data removed.")
    _links: strawberry.Private[dict[str, Any] | None] = None
    _reading: strawberry.Private[asyncio.Task[dict[str, Any]] | None] = None

    async def links(self, info: Info) -> dict[str, Any]:
        """Duplicates and merges in the reader's scope: projected by the list, read once
        (one statement for the three fields) for a transition's answer."""
        if self._links is not None:
            return self._links
        if self._reading is None:
            self._reading = asyncio.ensure_future(self._read_links(info))
        return await self._reading

    async def _read_links(self, info: Info) -> dict[str, Any]:
        rows = await context(info).read(
            ap.LINKS_CYPHER, uid=str(self.id),
            people=privacy.people_scope(context(info).principal).param())
        return dict(rows[0]["links"]) if rows else {}

    @strawberry.field(description="Applications of the same person — the same program (any "
                                  "cohort) sharing an e-mail or a phone, or a partner's "
                                  "ИНН in the region — still in play when this one was "
                                  "submitted, and those submitted after it; only those in "
                                  "your personal-data scope. Merge (`mergeApplication`) or "
                                  "decline.")
    async def duplicates(self, info: Info) -> list[ApplicationDuplicate]:
        found = (await self.links(info)).get("duplicates") or []
        return sorted((ApplicationDuplicate.of(d) for d in found),
                      key=lambda d: (d.submitted_at, str(d.id)))

    @strawberry.field(description="Duplicates merged into this application (those in your "
                                  "personal-data scope).")
    async def merged(self, info: Info) -> list[strawberry.ID]:
        return [strawberry.ID(u) for u in (await self.links(info)).get("merged") or []]

    @strawberry.field(description="The application this duplicate was merged into (then "
                                  "DECLINED); null when not merged or outside your scope.")
    async def merged_into(self, info: Info) -> strawberry.ID | None:
        uid = (await self.links(info)).get("merged_into")
        return strawberry.ID(uid) if uid else None

    @classmethod
    def of(cls, a: dict[str, Any]) -> Application:
        status = ap.ApplicationStatus(a["status"])
        return cls(
            id=strawberry.ID(a["uid"]), kind=ap.ApplicationKind(a["kind"]), status=status,
            status_label=status.label, region=a.get("region"), program=a.get("program"),
            program_name=a.get("program_name"), cohort=a.get("cohort"),
            organization=a.get("organization"), full_name=a.get("full_name"),
            email=a.get("email"), phone=a.get("phone"),
            category=e.LearnerCategory(a["category"]) if a.get("category") else None,
            municipality=a.get("municipality"), comment=a.get("comment"), inn=a.get("inn"),
            organization_name=a.get("organization_name"),
            organization_kind=e.OrganizationKind(a["org_kind"]) if a.get("org_kind") else None,
            contact_person=a.get("contact_person"), offer=a.get("offer"),
            consent_version=a["consent_version"], consent_at=native(a["consent_at"]),
            submitted_at=native(a["submitted_at"]), updated_at=native(a["updated_at"]),
            decided_at=native(a.get("decided_at")), handled_by=a.get("handled_by"),
            decline_reason=a.get("decline_reason"), learner=a.get("learner"),
            agreement_draft=a.get("agreement_draft"), agreement=a.get("agreement"),
            purged_at=native(a.get("purged_at")),
            _links=a.get("links"))


@strawberry.type(description="An application of the same person (see "
                             "`Application.duplicates`).")
class ApplicationDuplicate:
    id: strawberry.ID = strawberry.field(description="Application key.")
    kind: ApplicationKind = strawberry.field(description="What it asks for.")
    status: ApplicationStatus = strawberry.field(description="Status.")
    status_label: str = strawberry.field(description="Status in Russian.")
    program: str | None = strawberry.field(description="Program code.")
    cohort: str | None = strawberry.field(description="Cohort.")
    submitted_at: dt.datetime = strawberry.field(description="Submitted.")
    earlier: bool = strawberry.field(description="Submitted before this one.")
    matched_by: list[DuplicateBy] = strawberry.field(description="What they share.")
    matched_label: str = strawberry.field(description="What they share, in Russian.")

    @classmethod
    def of(cls, d: dict[str, Any]) -> ApplicationDuplicate:
        status = ap.ApplicationStatus(d["status"])
        by = [DuplicateBy(b) for b in d.get("by") or []]
        return cls(id=strawberry.ID(d["uid"]), kind=ap.ApplicationKind(d["kind"]),
                   status=status, status_label=status.label, program=d.get("program"),
                   cohort=d.get("cohort"), submitted_at=native(d["submitted_at"]),
                   earlier=bool(d["earlier"]), matched_by=by,
                   matched_label=", ".join(b.label for b in by))



@strawberry.type(description="How many personal-data records the retention purge removed.")
class PurgeResult:
    purged: int = strawberry.field(description="Applications purged.")


# --- constructor and review ------------------------------------------------------------------


@strawberry.type(description="A documented criterion of the expert review.")
class ReviewCriterion:
    key: str = strawberry.field(description="Criterion key.")
    title: str = strawberry.field(description="Title.")
    description: str = strawberry.field(description="What is assessed.")


@strawberry.input(description="Scores 1–5 per criterion.")
class ReviewScoresInput:
    relevance: int = strawberry.field(description="Relevance to demand.")
    content: int = strawberry.field(description="Content.")
    resources: int = strawberry.field(description="Resources.")
    outcomes: int = strawberry.field(description="Outcomes.")


@strawberry.input(description="Comments per criterion.")
class ReviewCommentsInput:
    relevance: str | None = None
    content: str | None = None
    resources: str | None = None
    outcomes: str | None = None


@strawberry.input(description="Scores 1–5 per material criterion.")
class MaterialScoresInput:
    alignment: int = strawberry.field(description="Alignment with the module.")
    content: int = strawberry.field(description="Content.")
    quality: int = strawberry.field(description="Methodological and technical quality.")
    accessibility: int = strawberry.field(description="Accessibility and rights.")


@strawberry.input(description="Comments per material criterion.")
class MaterialCommentsInput:
    alignment: str | None = None
    content: str | None = None
    quality: str | None = None
    accessibility: str | None = None


@strawberry.input(description="An expert's assessment of one material of the review round.")
class MaterialAssessmentInput:
    material: str = strawberry.field(description="Material key (ИНН автора:код).")
    scores: MaterialScoresInput = strawberry.field(description="Scores per criterion.")
    comments: MaterialCommentsInput | None = strawberry.field(default=None,
                                                              description="Comments.")
    verdict: ReviewVerdict = strawberry.field(description="Verdict on the material.")
    summary: str | None = strawberry.field(default=None,
                                           description="Conclusion (required unless APPROVE).")


@strawberry.input(description="An expert's review of a program under review.")
class ProgramReviewInput:
    program: str = strawberry.field(description="Program code.")
    expert: str = strawberry.field(description="Staff key of the expert (ИНН:табельный).")
    scores: ReviewScoresInput = strawberry.field(description="Scores per criterion.")
    comments: ReviewCommentsInput | None = strawberry.field(default=None,
                                                            description="Comments.")
    verdict: ReviewVerdict = strawberry.field(description="Verdict.")
    summary: str | None = strawberry.field(default=None,
                                           description="Conclusion (required unless APPROVE).")
    materials: list[MaterialAssessmentInput] | None = strawberry.field(
        default=None, description="Every material of the review round, assessed (the "
                                  "constructor's materials with underReview).")


@strawberry.type(description="An expert's assessment of a material in a review round.")
class MaterialAssessment:
    material: str = strawberry.field(description="Material key (ИНН автора:код).")
    edition: str = strawberry.field(description="The edition assessed.")
    scores: list[int] = strawberry.field(
        description="alignment, content, quality, accessibility.")
    comments: list[str | None] = strawberry.field(description="Per criterion.")
    verdict: ReviewVerdict = strawberry.field(description="Verdict.")
    summary: str | None = strawberry.field(description="Conclusion.")


@strawberry.type(description="An expert review of a program.")
class ProgramReview:
    id: str = strawberry.field(description="program:expert:round.")
    round: int = strawberry.field(description="Review round (1, 2… after returns).")
    expert: str = strawberry.field(description="Staff key.")
    expert_name: str | None = strawberry.field(
        description="Expert's name (null outside your personal-data scope).")
    expert_organization: str | None = strawberry.field(description="Expert's employer ИНН.")
    status: str = strawberry.field(description="ASSIGNED or DONE.")
    scores: list[int] | None = strawberry.field(
        description="relevance, content, resources, outcomes.")
    comments: list[str | None] | None = strawberry.field(description="Per criterion.")
    verdict: ReviewVerdict | None = strawberry.field(description="Verdict.")
    summary: str | None = strawberry.field(description="Conclusion.")
    decision: ReviewDecision | None = strawberry.field(description="Operator's decision.")
    decision_reason: str | None = strawberry.field(description="What to rework (returned).")
    materials: list[MaterialAssessment] = strawberry.field(
        description="Assessments of the round's materials.")


@strawberry.type(description="Something missing in a program under construction.")
class ConstructorProblem:
    code: str = strawberry.field(description="Problem code.")
    message: str = strawberry.field(description="In Russian.")
    blocking: bool = strawberry.field(description="Refuses submission to review.")


@strawberry.type(description="A demand signal a program answers.")
class AnsweredDemand:
    competency: str
    municipality: str | None
    source: str
    starts_on: dt.date
    ends_on: dt.date
    vacancies: int
    employer_requests: int
    survey_answers: int


@strawberry.type(description="Where a module could be delivered in the region now.")
class ModulePlacement:
    module_number: int
    module_name: str
    site: str | None = strawberry.field(description="Site key; null when no site can.")
    site_name: str | None
    organization: str | None
    organization_name: str | None
    reasons: list[str] = strawberry.field(description="Why not placed (Russian).")


def _registry_node(label: str, description: str) -> Any:
    """A field loading the registry node whose uid is the object's `key`."""
    async def resolve(root: Any, info: Info) -> Any:
        return await load_node(info, label, root.key, project=True)

    resolve.__annotations__ = {"root": Any, "info": Info, "return": NODE_CLASSES[label] | None}
    return strawberry.field(resolver=resolve, description=description)


@strawberry.type(description="A digital learning material a module of the program uses.")
class ConstructorMaterial:
    module_number: int
    module_name: str
    key: str = strawberry.field(description="Material key (ИНН автора:код).")
    name: str | None = strawberry.field(description="Name; null when not in the registry.")
    kind: ensure_enum(e.MaterialKind) | None  # type: ignore[valid-type]
    status: ensure_enum(e.MaterialStatus) | None  # type: ignore[valid-type]
    edition: str | None
    hours: int | None
    organization: str | None = strawberry.field(description="ИНН of the author.")
    own: bool = strawberry.field(description="Authored by the program's developer.")
    usable: bool = strawberry.field(
        description="The program may use it (own and not archived, or approved).")
    reason: str | None = strawberry.field(description="Why not usable (Russian).")
    under_review: bool = strawberry.field(
        description="In the open review round: every expert assesses it.")
    material = _registry_node("LearningMaterial", "The material in the registry.")


@strawberry.type(description="The program constructor's view of a program.")
class ProgramConstructor:
    code: str
    name: str
    status: ProgramStatus
    hours: int
    organization: str
    approved_on: dt.date | None
    module_hours: int = strawberry.field(description="Sum of the modules' hours.")
    problems: list[ConstructorProblem] = strawberry.field(description="What is missing.")
    demand: list[AnsweredDemand] = strawberry.field(
        description="Current demand signals of the region for its competencies.")
    reviews: list[ProgramReview] = strawberry.field(description="Reviews, newest round first.")
    criteria: list[ReviewCriterion] = strawberry.field(description="Review criteria.")
    materials: list[ConstructorMaterial] = strawberry.field(
        description="Digital learning materials of its modules, in module order.")
    material_criteria: list[ReviewCriterion] = strawberry.field(
        description="Criteria every material of a review round is assessed by.")
    cohort_size: strawberry.Private[int] = 12

    @strawberry.field(description="Where each module could be delivered in the region now "
                                  "(planNetworkProgram's choice over its modules, the "
                                  "developer's own sites first): one round trip.")
    async def placements(self, info: Info) -> list[ModulePlacement]:
        ctx = context(info)
        reads = pl.fetch_input(self.code, self.organization)
        try:
            query, params = next(reads)
            while True:
                query, params = reads.send(await ctx.read(query, **params))
        except StopIteration as stop:
            data = stop.value
        except pl.PlanningError:
            return []
        plan = pl.solve(data, self.cohort_size)
        out = [ModulePlacement(module_number=a.module_number, module_name=a.module_name,
                               site=a.site, site_name=a.site_name,
                               organization=a.organization,
                               organization_name=a.organization_name, reasons=[])
               for a in plan.assignments]
        out += [ModulePlacement(module_number=u.module_number, module_name=u.module_name,
                                site=None, site_name=None, organization=None,
                                organization_name=None,
                                reasons=[r.message for r in u.reasons])
                for u in plan.unplaced]
        return sorted(out, key=lambda m: m.module_number)


def material_assessment(a: dict[str, Any]) -> MaterialAssessment:
    keys = list(rv.MATERIAL_CRITERIA)
    return MaterialAssessment(
        material=a["material"], edition=a["edition"],
        scores=[a[f"score_{k}"] for k in keys], comments=[a.get(f"comment_{k}") for k in keys],
        verdict=ReviewVerdict(a["verdict"]), summary=a.get("summary"))


def constructor_materials(program: dict[str, Any], modules: list[dict[str, Any]],
                          last_round: dict[str, Any] | None) -> list[ConstructorMaterial]:
    developer = program["organization"]
    open_round = set(last_round["materials"] or []) if (
        last_round and last_round.get("decision") is None and program["status"] == "REVIEW"
    ) else set()
    out = []
    for m in modules:
        for t in m["materials"]:
            reason = rv.unusable(developer, t)
            out.append(ConstructorMaterial(
                module_number=m["number"], module_name=m["name"], key=t["uid"],
                name=t.get("name"), kind=e.MaterialKind(t["kind"]) if t.get("kind") else None,
                status=e.MaterialStatus(t["status"]) if t.get("status") else None,
                edition=t.get("edition"), hours=t.get("hours"),
                organization=t.get("organization"), own=t.get("organization") == developer,
                usable=reason is None, reason=reason, under_review=t["uid"] in open_round))
    return out


def review_of(r: dict[str, Any], names_visible: bool) -> ProgramReview:
    keys = list(rv.CRITERIA)
    done = r.get("status") == "DONE"
    return ProgramReview(
        id=r["uid"], round=r["round"], expert=r["expert"],
        expert_name=r.get("expert_name") if names_visible else None,
        expert_organization=r.get("expert_organization"), status=r["status"],
        # a DONE review has every criterion's score (review_plan requires all of them)
        scores=cast("list[int]", [r.get(f"score_{k}") for k in keys]) if done else None,
        comments=[r.get(f"comment_{k}") for k in keys] if done else None,
        verdict=ReviewVerdict(r["verdict"]) if r.get("verdict") else None,
        summary=r.get("summary"),
        decision=ReviewDecision(r["decision"]) if r.get("decision") else None,
        decision_reason=r.get("decision_reason"),
        materials=[material_assessment(a) for a in r.get("materials") or []])


# --- surveys --------------------------------------------------------------------------------


@strawberry.input(description="A choice option.")
class OptionInput:
    key: str
    text: str
    competency: str | None = strawberry.field(default=None,
                                              description="Choosing it signals demand.")


@strawberry.input(description="A survey question.")
class QuestionInput:
    key: str
    text: str
    kind: QuestionKind
    options: list[OptionInput] | None = None
    scale_min: int = 1
    scale_max: int = 5
    competency: str | None = strawberry.field(
        default=None, description="SCALE only: top two points signal demand.")
    required: bool = False


@strawberry.input(description="A survey of the region.")
class SurveyInput:
    code: str
    region: str
    title: str
    description: str | None = None
    categories: list[SurveyCategory]
    starts_on: dt.date
    ends_on: dt.date
    competencies: list[str] | None = None
    questions: list[QuestionInput]


@strawberry.input(description="An answer to one question.")
class AnswerInput:
    question: str
    options: list[str] | None = None
    value: int | None = None
    text: str | None = None


@strawberry.input(description="An anonymous survey response.")
class SurveyResponseInput:
    survey: str
    category: SurveyCategory
    municipality: str | None = None
    answers: list[AnswerInput]
    website: str | None = strawberry.field(default=None, description="Leave empty.")


@strawberry.type
class SurveyOption:
    key: str
    text: str
    competency: str | None


@strawberry.type
class SurveyQuestion:
    key: str
    text: str
    kind: QuestionKind
    options: list[SurveyOption]
    scale_min: int
    scale_max: int
    competency: str | None
    required: bool


@strawberry.type(description="A survey as respondents see it.")
class Survey:
    code: str
    region: str
    title: str
    description: str | None
    categories: list[SurveyCategory]
    starts_on: dt.date
    ends_on: dt.date
    competencies: list[str]
    questions: list[SurveyQuestion]

    @classmethod
    def of(cls, s: sv.SurveyInput) -> Survey:
        return cls(
            code=s.code, region=s.region, title=s.title, description=s.description,
            categories=list(s.categories), starts_on=s.starts_on, ends_on=s.ends_on,
            competencies=list(s.competencies),
            questions=[SurveyQuestion(
                key=q.key, text=q.text, kind=q.kind, scale_min=q.scale_min,
                scale_max=q.scale_max, competency=q.competency, required=q.required,
                options=[SurveyOption(key=o.key, text=o.text, competency=o.competency)
                         for o in q.options]) for q in s.questions])


@strawberry.type(description="Receipt of an anonymous survey response.")
class SurveyReceipt:
    accepted: bool
    message: str


@strawberry.type
class CountOf:
    key: str
    count: int


@strawberry.type(description="One question's answers from one category.")
class QuestionCell:
    category: SurveyCategory
    answered: int
    options: list[CountOf] = strawberry.field(description="Per option key.")
    scale: list[CountOf] = strawberry.field(description="Per scale value.")
    mean: float | None
    texts: list[str] | None = strawberry.field(
        description="Free-text answers: the region's operator and admins only, else null.")


@strawberry.type
class QuestionResult:
    key: str
    text: str
    kind: QuestionKind
    cells: list[QuestionCell]


@strawberry.type(description="Aggregated results of a survey.")
class SurveyResults:
    survey: Survey
    respondents: list[CountOf] = strawberry.field(description="Per category.")
    total: int
    questions: list[QuestionResult]


@strawberry.type
class DemandSignalRow:
    competency: str
    municipality: str
    survey_answers: int


@strawberry.type(description="Demand signals written from a survey.")
class SurveyDemand:
    signals: list[DemandSignalRow]
    unplaced: int = strawberry.field(description="Responses with demand but no municipality.")


def results_of(survey: sv.SurveyInput, results: dict[str, Any], texts: bool) -> SurveyResults:
    questions = []
    for q in survey.questions:
        cells = []
        for cat, cell in sorted(results["questions"].get(q.key, {}).items()):
            values = cell["values"]
            n = sum(values.values())
            cells.append(QuestionCell(
                category=sv.SurveyCategory(cat), answered=cell["answered"],
                options=[CountOf(key=o.key, count=cell["options"].get(o.key, 0))
                         for o in q.options],
                scale=[CountOf(key=str(v), count=values.get(v, 0))
                       for v in range(q.scale_min, q.scale_max + 1)]
                if q.kind == sv.QuestionKind.SCALE else [],
                mean=round(sum(v * c for v, c in values.items()) / n, 2) if n else None,
                texts=list(cell["texts"]) if texts and q.kind == sv.QuestionKind.TEXT
                else None))
        questions.append(QuestionResult(key=q.key, text=q.text, kind=q.kind, cells=cells))
    resp = results["respondents"]
    return SurveyResults(survey=Survey.of(survey),
                         respondents=[CountOf(key=k, count=v) for k, v in sorted(resp.items())],
                         total=sum(resp.values()), questions=questions)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
