"""Public catalogue types: plain values only, no links into the internal registries."""

from __future__ import annotations

import datetime as dt

import strawberry

from graph import enums as e
from schema.core.enums import ProgramFormat, ProgramType


@strawberry.type(description="A place where a cohort studies.")
class CatalogSite:
    name: str = strawberry.field(description="Site name.")
    address: str | None = strawberry.field(description="Address.")
    municipality: str | None = strawberry.field(description="Municipality name.")
    latitude: float | None = strawberry.field(description="Latitude.")
    longitude: float | None = strawberry.field(description="Longitude.")


@strawberry.type(description="An upcoming or running cohort one can enrol in.")
class CatalogCohort:
    code: str = strawberry.field(description="Cohort number.")
    starts_on: dt.date = strawberry.field(description="First day.")
    ends_on: dt.date = strawberry.field(description="Last day.")
    seats: int = strawberry.field(description="Seats in the cohort.")
    seats_left: int = strawberry.field(description="Seats not yet taken.")
    organization: str | None = strawberry.field(description="Who runs the cohort.")
    sites: list[CatalogSite] = strawberry.field(description="Where it studies.")


@strawberry.type(description="An approved program of the region.")
class CatalogProgram:
    code: str = strawberry.field(description="Program code.")
    name: str = strawberry.field(description="Program name.")
    type: ProgramType = strawberry.field(description="Type of program.")
    hours: int = strawberry.field(description="Hours.")
    format: ProgramFormat = strawberry.field(description="Form of study.")
    description: str | None = strawberry.field(description="What the program teaches.")
    developer: str | None = strawberry.field(description="Organization that developed it.")
    competencies: list[str] = strawberry.field(description="Competencies it develops.")
    cohorts: list[CatalogCohort] = strawberry.field(description="Cohorts open for enrolment.")

    @strawberry.field(description="Type of program in Russian.")
    def type_label(self) -> str:
        return e.ProgramType(self.type).label
