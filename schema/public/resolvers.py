"""Public services over GraphQL: anonymous submissions (applications, survey responses) with
rate limits and a honeypot, the handlers' reads and transitions, the constructor, surveys.

Every write is one managed transaction running a plan of `graph.public_services` (refusals
become GraphQL errors with a code; nothing is written)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from pydantic import ValidationError
from strawberry.types import Info

from graph import enums as e
from graph import privacy
from graph.access import Principal
from graph.public_services import applications as ap
from graph.public_services import review as rv
from graph.public_services import surveys as sv
from graph.public_services.common import Refused, contact_keys, now_utc
from graph.writes import Plan, run_plan_async
from schema.capability.types import Document
from schema.core.access import PUBLIC, requires
from schema.core.connection import Connection, cursor_key, key_cursor, page_of
from schema.core.errors import api_error
from schema.core.node import check_limit, context, native
from schema.public import types as T
from schema.public.ratelimit import buckets_for, client_address

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HONEYPOT_MESSAGE = "Заявка принята. Сохраните ссылку для проверки статуса."


def _principal(info: Info) -> Principal:
    principal = context(info).principal
    if principal is None:
        raise api_error("Требуется токен доступа (Authorization: Bearer …).", "UNAUTHENTICATED")
    return principal


async def run(info: Info, make: Callable[[], Plan]) -> Any:
    """Run a fresh plan (the driver may retry) in one write transaction."""
    try:
        return await context(info).write(lambda tx: run_plan_async(tx, make()))
    except Refused as exc:
        raise api_error(str(exc), exc.code) from None


def _invalid(exc: ValidationError) -> GraphQLError:
    return api_error("Неверные данные: " + ap.validation_message(exc), "BAD_USER_INPUT")


def _rate_limit(info: Info, contacts: list[str]) -> None:
    """One token per submission from the caller's address bucket and each contact's."""
    ctx = context(info)
    request = ctx.request
    state = request.app.state
    settings = state.settings
    keys = [("address", client_address(request, settings.public_client_header))]
    keys += [("contact", c) for c in contacts]
    wait = buckets_for(state, settings).take(keys)
    if wait is not None:
        seconds = max(1, int(wait + 0.999))
        if ctx.response is not None:
            ctx.response.status_code = 429
            ctx.response.headers["Retry-After"] = str(seconds)
        raise GraphQLError("Слишком много обращений, повторите позже.",
                           extensions={"code": "RATE_LIMITED", "retryAfter": seconds})


def _fields(obj: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(obj).items() if k != "website"}


@strawberry.type(description="Public services: applications, constructor, surveys.")
class Query:
    @strawberry.field(description="The consent to personal-data processing applicants give "
                                  "(public).", metadata=requires(PUBLIC))
    def public_consent(self) -> T.Consent:
        return T.Consent(version=ap.CONSENT_VERSION, text=ap.CONSENT_TEXTS[ap.CONSENT_VERSION])

    @strawberry.field(description="An application's status by the secret token its "
                                  "submission answered (public; null for an unknown token).",
                      metadata=requires(PUBLIC))
    async def application_status(
        self, info: Info,
        token: Annotated[str, strawberry.argument(description="`statusToken`.")],
    ) -> T.ApplicationStatusView | None:
        if not 16 <= len(token) <= 100:
            return None
        rows = await context(info).read(ap.STATUS_CYPHER, **ap.status_params(token))
        if not rows:
            return None
        a = rows[0]["a"]
        status = ap.ApplicationStatus(a["status"])
        return T.ApplicationStatusView(
            kind=ap.ApplicationKind(a["kind"]), status=status, status_label=status.label,
            submitted_at=native(a["submitted_at"]), updated_at=native(a["updated_at"]),
            program=a.get("program"), program_name=a.get("program_name"),
            cohort=a.get("cohort"), organization_name=a.get("organization_name"),
            decline_reason=a.get("decline_reason"))

    @strawberry.field(description="Applications the caller handles (personal data, 152-ФЗ): "
                                  "admin all, an operator its region's, a registrar its "
                                  "cohorts'; planners and viewers FORBIDDEN.",
                      metadata=requires("read"))
    async def applications(
        self, info: Info, status: T.ApplicationStatus | None = None,
        kind: T.ApplicationKind | None = None,
        duplicate: Annotated[bool | None, strawberry.argument(
            description="Only those with (true) or without (false) duplicates in your "
                        "scope.")] = None,
        first: int = 20, after: str | None = None,
    ) -> Connection[T.Application]:
        limit = check_limit(first)
        scope = privacy.people_scope(context(info).principal)
        if scope.nothing:
            raise api_error("Персональные данные (152-ФЗ): заявки доступны оператору ЦОПП и "
                            "организациям, проводящим обучение.", "FORBIDDEN")
        rows = await context(info).read(
            ap.LIST_CYPHER, status=status.value if status else None,
            kind=kind.value if kind else None, duplicate=duplicate,
            after=cursor_key("application", after) if after else None, limit=limit + 1,
            people=scope.param())
        nodes = [T.Application.of(dict(r["a"])) for r in rows[:limit]]
        return page_of(nodes, [key_cursor("application", str(n.id)) for n in nodes],
                       has_next=len(rows) > limit, after=after)

    @strawberry.field(description="The program constructor: what is missing, which demand it "
                                  "answers, its reviews and where its modules could run.",
                      metadata=requires("read"))
    async def program_constructor(
        self, info: Info, program: str,
        cohort_size: Annotated[int, strawberry.argument(
            description="Cohort size for `placements`.")] = 12,
    ) -> T.ProgramConstructor | None:
        if not 1 <= cohort_size <= 1000:
            raise api_error("Размер группы от 1 до 1000.", "BAD_ARGUMENT")
        rows = await context(info).read(rv.PROBLEMS_CYPHER, program=program,
                                        today=dt.date.today())
        if not rows:
            return None
        row = rows[0]
        p = row["program"]
        problems = rv.problems(p, row["modules"], row["competencies"])
        scope = privacy.people_scope(context(info).principal)
        result = T.ProgramConstructor(
            code=p["code"], name=p["name"], status=e.ProgramStatus(p["status"]), hours=p["hours"],
            organization=p["organization"], approved_on=native(p.get("approved_on")),
            module_hours=sum(m["hours"] for m in row["modules"]),
            problems=[T.ConstructorProblem(code=c, message=msg, blocking=c in rv.BLOCKING)
                      for c, msg in problems],
            demand=[T.AnsweredDemand(
                competency=d["competency"], municipality=d.get("municipality"),
                source=d["source"], starts_on=native(d["starts_on"]),
                ends_on=native(d["ends_on"]), vacancies=d.get("vacancies") or 0,
                employer_requests=d.get("employer_requests") or 0,
                survey_answers=d.get("survey_answers") or 0) for d in row["demand"]],
            reviews=[T.review_of(r, privacy.readable(
                scope, [row["region"]], [r.get("expert_organization")]))
                for r in row["reviews"]],
            criteria=[T.ReviewCriterion(key=k, title=t, description=d)
                      for k, (t, d) in rv.CRITERIA.items()],
            materials=T.constructor_materials(p, row["modules"], row["last_round"]),
            material_criteria=[T.ReviewCriterion(key=k, title=t, description=d)
                               for k, (t, d) in rv.MATERIAL_CRITERIA.items()])
        result.cohort_size = cohort_size
        return result

    @strawberry.field(description="A survey's questions (public).", metadata=requires(PUBLIC))
    async def survey(self, info: Info, code: str) -> T.Survey | None:
        rows = await context(info).read(sv.SURVEY_CYPHER, code=code)
        return T.Survey.of(sv.survey_of(dict(rows[0]["s"]))) if rows else None

    @strawberry.field(description="Aggregated results per question and category; free texts "
                                  "for the region's operator and admins only.",
                      metadata=requires("read"))
    async def survey_results(self, info: Info, code: str) -> T.SurveyResults | None:
        found = await _results(info, code)
        if found is None:
            return None
        survey, results, texts = found
        return T.results_of(survey, results, texts)

    @strawberry.field(description="Survey results as an XLSX workbook (base64); free texts "
                                  "sheet for the region's operator and admins only.",
                      metadata=requires("read"))
    async def survey_results_xlsx(self, info: Info, code: str) -> Document | None:
        found = await _results(info, code)
        if found is None:
            return None
        survey, results, texts = found
        content = sv.results_xlsx(survey, results, texts)
        return Document(filename=f"survey-{survey.code}.xlsx", media_type=XLSX,
                        content_base64=base64.b64encode(content).decode())


async def _results(info: Info, code: str) -> tuple[sv.SurveyInput, dict[str, Any], bool] | None:
    rows = await context(info).read(sv.RESULTS_CYPHER, code=code)
    if not rows:
        return None
    survey = sv.survey_of(dict(rows[0]["s"]))
    principal = context(info).principal
    texts = principal is not None and (principal.role == "admin" or (
        principal.role == "operator" and principal.region == survey.region))
    return survey, sv.aggregate(survey, rows[0]["responses"]), texts


async def _submit(info: Info, input: Any, model: Any,
                  plan_of: Callable[[Any], Any]) -> T.ApplicationReceipt:
    """An anonymous application: validated, rate-limited per address and contact, a filled
    honeypot answered as if accepted, then written."""
    try:
        data = model.model_validate(_fields(input))
    except ValidationError as exc:
        raise _invalid(exc) from None
    _rate_limit(info, contact_keys(data.email, data.phone))
    if input.website:
        return _honeypot()
    _uid, token = await run(info, lambda: plan_of(data))
    return T.ApplicationReceipt(status_token=token, status=ap.ApplicationStatus.NEW,
                                message="Заявка принята. Сохраните ссылку для проверки "
                                        "статуса: она показывается один раз.")


@strawberry.type(description="Public services: submissions and transitions.")
class Mutation:
    @strawberry.mutation(description="Apply to enrol in a cohort of the public catalogue "
                                     "(anonymous; rate-limited per address and contact).",
                         metadata=requires(PUBLIC))
    async def apply_to_cohort(self, info: Info, input: T.EnrolmentApplicationInput
                              ) -> T.ApplicationReceipt:
        return await _submit(info, input, ap.EnrolmentInput,
                             lambda data: ap.submit_enrolment_plan(data, dt.date.today()))

    @strawberry.mutation(description="An organization applies to join the regional network "
                                     "(anonymous; rate-limited).", metadata=requires(PUBLIC))
    async def apply_for_partnership(self, info: Info, input: T.PartnerApplicationInput
                                    ) -> T.ApplicationReceipt:
        return await _submit(info, input, ap.PartnerInput, ap.submit_partner_plan)

    @strawberry.mutation(description="NEW → IN_REVIEW.", metadata=requires("write"))
    async def take_application(self, info: Info, id: strawberry.ID) -> T.Application:
        p = _principal(info)
        return T.Application.of(await run(info, lambda: ap.take_plan(str(id), p)))

    @strawberry.mutation(description="→ ACCEPTED: a learner's Learner and Enrollment, or a "
                                     "partner's Organization and agreement draft.",
                         metadata=requires("write"))
    async def accept_application(self, info: Info, id: strawberry.ID) -> T.Application:
        p = _principal(info)
        return T.Application.of(await run(info, lambda: ap.accept_plan(str(id), p)))

    @strawberry.mutation(description="ACCEPTED → ENROLLED: the enrollment dated `on`, or the "
                                     "partnership agreement signed `on`.",
                         metadata=requires("write"))
    async def complete_application(self, info: Info, id: strawberry.ID,
                                   on: dt.date | None = None,
                                   valid_to: dt.date | None = None) -> T.Application:
        p = _principal(info)
        return T.Application.of(await run(info, lambda: ap.complete_plan(
            str(id), p, on=on, valid_to=valid_to)))

    @strawberry.mutation(description="NEW | IN_REVIEW → DECLINED with a reason.",
                         metadata=requires("write"))
    async def decline_application(self, info: Info, id: strawberry.ID,
                                  reason: str) -> T.Application:
        p = _principal(info)
        return T.Application.of(await run(info, lambda: ap.decline_plan(str(id), reason, p)))

    @strawberry.mutation(description="Merge a duplicate (NEW | IN_REVIEW) into the application "
                                     "of the same person kept (`into`, not declined): the "
                                     "duplicate is declined, the kept one takes the contacts "
                                     "it lacked. Both must be yours to handle and linked as "
                                     "duplicates. Returns the kept application.",
                         metadata=requires("write"))
    async def merge_application(
        self, info: Info, id: strawberry.ID,
        into: Annotated[strawberry.ID, strawberry.argument(
            description="The application kept.")],
    ) -> T.Application:
        p = _principal(info)
        return T.Application.of(await run(info, lambda: ap.merge_plan(str(id), str(into), p)))

    @strawberry.mutation(description="Remove personal data of declined and stale applications "
                                     "past the retention period (audited; admin). The same "
                                     "purge as `hub purge applications`.",
                         metadata=requires("write"))
    async def purge_applications(self, info: Info) -> T.PurgeResult:
        p = _principal(info)
        if p.role != "admin":
            raise api_error("Очистку по сроку хранения запускает администратор.", "FORBIDDEN")
        settings = context(info).request.app.state.settings
        purged = await run(info, lambda: ap.purge_plan(
            now_utc(), settings.application_retention_days, settings.application_stale_days))
        return T.PurgeResult(purged=len(purged))

    @strawberry.mutation(description="DRAFT → REVIEW (the developer's registrar).",
                         metadata=requires("write"))
    async def submit_program_for_review(self, info: Info, program: str) -> T.ProgramStatus:
        p = _principal(info)
        await run(info, lambda: rv.submit_plan(program, p))
        return T.ProgramStatus.REVIEW  # type: ignore[attr-defined]

    @strawberry.mutation(description="Assign an expert (operator): expert status in the "
                                     "program's competencies, not from the developer.",
                         metadata=requires("write"))
    async def assign_program_expert(self, info: Info, program: str, expert: str) -> str:
        p = _principal(info)
        return await run(info, lambda: rv.assign_plan(program, expert, p))

    @strawberry.mutation(description="An expert's scores, comments and verdict.",
                         metadata=requires("write"))
    async def submit_program_review(self, info: Info, input: T.ProgramReviewInput) -> str:
        p = _principal(info)
        scores = dict(vars(input.scores))
        comments = {k: v for k, v in vars(input.comments or T.ReviewCommentsInput()).items()
                    if v}
        materials = [{"material": a.material, "scores": dict(vars(a.scores)),
                      "comments": {k: v for k, v in vars(
                          a.comments or T.MaterialCommentsInput()).items() if v},
                      "verdict": a.verdict.value, "summary": a.summary}
                     for a in input.materials or []]
        return await run(info, lambda: rv.review_plan(
            input.program, input.expert, scores, comments, input.verdict.value, input.summary,
            p, materials=materials))

    @strawberry.mutation(description="REVIEW → APPROVED (approval date today) or → DRAFT with "
                                     "the reviews attached (operator).",
                         metadata=requires("write"))
    async def decide_program(self, info: Info, program: str, decision: T.ReviewDecision,
                             reason: str | None = None) -> T.ProgramStatus:
        p = _principal(info)
        await run(info, lambda: rv.decide_plan(program, decision.value, p, reason))
        return (T.ProgramStatus.APPROVED if decision == T.ReviewDecision.APPROVED  # type: ignore
                else T.ProgramStatus.DRAFT)  # type: ignore[attr-defined]

    @strawberry.mutation(description="Define a survey of a region (its operator).",
                         metadata=requires("write"))
    async def define_survey(self, info: Info, input: T.SurveyInput) -> T.Survey:
        p = _principal(info)
        try:
            data = sv.SurveyInput.model_validate(_plain(input))
        except ValidationError as exc:
            raise _invalid(exc) from None
        await run(info, lambda: sv.define_plan(data, p))
        return T.Survey.of(data)

    @strawberry.mutation(description="Answer a survey anonymously (rate-limited per address).",
                         metadata=requires(PUBLIC))
    async def answer_survey(self, info: Info, input: T.SurveyResponseInput) -> T.SurveyReceipt:
        try:
            data = sv.ResponseInput.model_validate(_plain(input))
        except ValidationError as exc:
            raise _invalid(exc) from None
        _rate_limit(info, [])
        if input.website:
            return T.SurveyReceipt(accepted=True, message="Спасибо за ответы!")
        await run(info, lambda: sv.respond_plan(data, dt.date.today()))
        return T.SurveyReceipt(accepted=True, message="Спасибо за ответы!")

    @strawberry.mutation(description="Turn a survey's answers into DemandSignals by the "
                                     "documented rule (operator of its region).",
                         metadata=requires("write"))
    async def survey_demand_signals(self, info: Info, code: str) -> T.SurveyDemand:
        p = _principal(info)
        rows, unplaced = await run(info, lambda: sv.demand_plan(code, p))
        return T.SurveyDemand(signals=[T.DemandSignalRow(
            competency=r["competency"], municipality=r["municipality"],
            survey_answers=r["survey_answers"]) for r in rows], unplaced=unplaced)


def _plain(value: Any) -> Any:
    """Strawberry input objects → dicts and lists, enums kept, website dropped."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in vars(value).items()
                if k != "website" and v is not None}
    return value


def _honeypot() -> T.ApplicationReceipt:
    """A bot filled the hidden field: it gets what a person would, nothing is stored."""
    from graph.public_services.common import new_secret

    return T.ApplicationReceipt(status_token=new_secret(), status=ap.ApplicationStatus.NEW,
                                message=HONEYPOT_MESSAGE)
