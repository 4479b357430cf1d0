"""A registry declared in a test and nowhere else: internship places employers offer.

`tests/test_throwaway_registry.py` runs the hub with `HUB_REGISTRY_MODULES=tests.throwaway_registry`
and expects reads, filters, sorts, writes with rights and audit, the loader's Russian headers and
the export — with no other file touched.
"""

from __future__ import annotations

from pydantic import Field

from graph import enums as e
from graph import models as m
from graph.declare import (
    ORG,
    Api,
    Link,
    ListSpec,
    Out,
    Registry,
    Shape,
    Sort,
    ToOne,
    field_in,
    one,
)


class InternshipKind(e.LabelledEnum):
    """Kind of internship."""

    SUMMER = "SUMMER"
    YEAR_ROUND = "YEAR_ROUND"


e.LABELS[InternshipKind] = {InternshipKind.SUMMER: "Летняя",
                            InternshipKind.YEAR_ROUND: "Круглогодичная"}


class Internship(m.Node):
    LABEL = "Internship"
    KEY_FIELDS = ("organization", "code")
    organization: str = Field(description="ИНН работодателя")
    code: m.Code
    name: m.Text
    kind: InternshipKind = InternshipKind.SUMMER
    competency: m.Code | None = None
    places: int = Field(ge=1, le=1000)


INTERNSHIPS = Registry(
    "internships", Internship, "Стажировки",
    owner=ORG,
    links=(
        Link("organization", "OFFERED_BY", "Organization", one("organization"),
             fields=("organization",)),
        Link("competency", "FOR_COMPETENCY", "Competency", one("competency"),
             fields=("competency",)),
    ),
    listing=ListSpec(
        {"organization": field_in("organization", "ИНН of employers."),
         "kind": field_in("kind", "Kinds of internship.", InternshipKind),
         "competency": field_in("competency", "Competency codes.")},
        {"name": Sort("n.name"), "places": Sort("n.places", "int")}, "name",
    ),
    indexes=("organization", "competency", "name"),
    headers={"organization": ("ИНН работодателя", "ИНН"), "code": ("Код",),
             "name": ("Наименование",), "kind": ("Вид стажировки",),
             "competency": ("Компетенция",), "places": ("Мест", "Число мест")},
    api=Api(
        Shape("An internship place an employer offers.",
              {"organization": Out("ИНН of the employer.", "organization_inn"),
               "code": Out("Code within the employer."), "name": Out("Name."),
               "kind": Out("Kind."), "competency": Out("Competency code.", "competency_code"),
               "places": Out("Places.")},
              labels=("kind",),
              links=(ToOne("organization", "Organization", ("organization",), "The employer."),
                     ToOne("competency", "Competency", ("competency",), "The competency."))),
        "Internship places.",
    ),
)

REGISTRIES = (INTERNSHIPS,)
