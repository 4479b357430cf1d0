"""Registries of the network itself: regions, municipalities, organizations, sites."""

from __future__ import annotations

from graph import models as m
from graph.declare import (
    ORG,
    REGION,
    Api,
    Filter,
    ListSpec,
    Out,
    Owner,
    Registry,
    Related,
    Shape,
    Sort,
    ToOne,
    field_in,
    link_to,
    traverse,
)
from graph.enums import OrganizationKind, SiteKind
from graph.registries import headers as H

REGIONS = Registry(
    "regions",
    m.Region,
    "Регионы",
    owner=Owner("region", ("code",)),
    listing=ListSpec({}, {"name": Sort("n.name"), "code": Sort("n.code")}, "code"),
    traversals={
        "region_municipalities": traverse(
            "Region", "Municipality", "(s)<-[:IN_REGION]-(t:Municipality)", "t.name"
        ),
        "region_organizations": traverse(
            "Region", "Organization", "(s)<-[:IN_REGION]-(t:Organization)", "t.name"
        ),
    },
    headers={
        "code": ("Код", "Код региона", "Код субъекта", "Код субъекта РФ", "region code"),
        "name": (*H.NAME, "Регион", "Субъект РФ", "Субъект"),
    },
    api=Api(
        Shape(
            "A subject of the Russian Federation.",
            {"code": Out("Subject code (two or three digits)."), "name": Out("Name.")},
        ),
        "Regions.",
        related=(
            Related("municipalities", "region_municipalities", "Municipalities of the region."),
            Related(
                "organizations", "region_organizations", "Organizations registered in the region."
            ),
        ),
    ),
)


MUNICIPALITIES = Registry(
    "municipalities",
    m.Municipality,
    "Муниципальные образования",
    owner=REGION,
    links=(link_to("region", "IN_REGION", "Region"),),
    listing=ListSpec(
        {"region": field_in("region", "Subject codes of regions.")},
        {"name": Sort("n.name"), "oktmo": Sort("n.oktmo")},
        "name",
    ),
    traversals={
        "municipality_organizations": traverse(
            "Municipality", "Organization", "(s)<-[:IN_MUNICIPALITY]-(t:Organization)", "t.name"
        ),
        "municipality_sites": traverse(
            "Municipality", "Site", "(s)<-[:IN_MUNICIPALITY]-(t:Site)", "t.name"
        ),
    },
    indexes=("region", "name"),
    headers={
        "oktmo": ("ОКТМО", "Код ОКТМО"),
        "name": (*H.NAME, "Муниципальное образование", "Муниципалитет"),
        "region": H.REGION,
    },
    api=Api(
        Shape(
            "A municipality (ОКТМО).",
            {
                "oktmo": Out("ОКТМО code."),
                "name": Out("Name."),
                "region": Out("Subject code of the region.", "region_code"),
            },
            links=(ToOne("region", "Region", ("region",), "The region."),),
        ),
        "Municipalities.",
        related=(
            Related(
                "organizations", "municipality_organizations", "Organizations in the municipality."
            ),
            Related("sites", "municipality_sites", "Sites in the municipality."),
        ),
    ),
)


ORGANIZATIONS = Registry(
    "organizations",
    m.Organization,
    "Организации",
    owner=Owner("org", ("inn",)),
    links=(
        link_to("region", "IN_REGION", "Region"),
        link_to("municipality", "IN_MUNICIPALITY", "Municipality"),
    ),
    listing=ListSpec(
        {
            "region": field_in("region", "Subject codes of regions."),
            "municipality": field_in("municipality", "ОКТМО codes of municipalities."),
            "kind": field_in("kind", "Kinds of organization.", OrganizationKind),
            "competency": Filter(
                (
                    "EXISTS { MATCH (n)<-[:WORKS_AT]-(s:Staff)-[:QUALIFIED_IN]->(c:Competency) "
                    "WHERE s.retiredAt IS NULL AND c.uid IN $f_competency }"
                ),
                "Competency codes.",
            ),
        },
        {"name": Sort("n.name"), "inn": Sort("n.inn")},
        "name",
    ),
    traversals={
        "organization_sites": traverse(
            "Organization", "Site", "(s)-[:HAS_SITE]->(t:Site)", "t.name"
        ),
        "organization_staff": traverse(
            "Organization", "Staff", "(s)<-[:WORKS_AT]-(t:Staff)", "t.full_name"
        ),
        "organization_equipment": traverse(
            "Organization", "Equipment", "(s)-[:HAS_SITE]->(:Site)-[:HAS_EQUIPMENT]->(t:Equipment)"
        ),
        "organization_programs": traverse(
            "Organization", "Program", "(s)<-[:DEVELOPED_BY]-(t:Program)", "t.name"
        ),
        "organization_agreements": traverse(
            "Organization",
            "PartnerAgreement",
            "(s)<-[r:PARTY]-(t:PartnerAgreement)",
            "t.signed_on",
            rel=True,
        ),
    },
    indexes=("kind", "region", "municipality", "name"),
    fulltext=True,
    headers={
        "inn": ("ИНН",),
        "name": (*H.NAME, "Наименование организации", "Организация"),
        "short_name": ("Краткое наименование", "Сокращенное наименование"),
        "kind": ("Тип", "Вид", "Тип организации", "Вид организации"),
        "ogrn": ("ОГРН", "ОГРНИП"),
        "region": H.REGION,
        "municipality": H.OKTMO,
        "address": ("Адрес", "Юридический адрес"),
        "website": ("Сайт", "Веб-сайт", "url"),
    },
    by_name={"municipality": "municipality"},
    api=Api(
        Shape(
            "An organization of the network: ЦОПП, college, employer…",
            {
                "inn": Out("ИНН (natural key)."),
                "name": Out("Full name."),
                "short_name": Out("Short name."),
                "kind": Out("Kind of organization."),
                "ogrn": Out("ОГРН."),
                "region": Out("Subject code of the region.", "region_code"),
                "municipality": Out("ОКТМО of the municipality.", "municipality_code"),
                "address": Out("Address."),
                "website": Out("Website."),
            },
            labels=("kind",),
            links=(
                ToOne("region", "Region", ("region",), "The region."),
                ToOne("municipality", "Municipality", ("municipality",), "The municipality."),
            ),
        ),
        "Organizations of the network.",
        related=(
            Related("sites", "organization_sites", "Sites of the organization."),
            Related("staff", "organization_staff", "Staff working here."),
            Related(
                "equipment", "organization_equipment", "Equipment at the organization's sites."
            ),
            Related("programs", "organization_programs", "Programs the organization developed."),
            Related(
                "agreements",
                "organization_agreements",
                "Agreements the organization is a party to.",
            ),
        ),
    ),
)


SITES = Registry(
    "sites",
    m.Site,
    "Площадки",
    owner=ORG,
    links=(
        link_to("organization", "HAS_SITE", "Organization", outgoing=False),
        link_to("municipality", "IN_MUNICIPALITY", "Municipality"),
    ),
    listing=ListSpec(
        {
            "organization": field_in("organization", "ИНН of organizations."),
            "municipality": field_in("municipality", "ОКТМО codes of municipalities."),
            "region": Filter(
                (
                    "EXISTS { MATCH (n)-[:IN_MUNICIPALITY]->(m:Municipality) WHERE m.region IN "
                    "$f_region }"
                ),
                "Subject codes of regions.",
            ),
            "organization_kind": Filter(
                (
                    "EXISTS { MATCH (o:Organization)-[:HAS_SITE]->(n) WHERE o.kind IN "
                    "$f_organization_kind }"
                ),
                "Kinds of the organization.",
                OrganizationKind,
            ),
            "kind": field_in("kind", "Kinds of site.", SiteKind),
            "competency": Filter(
                (
                    "EXISTS { MATCH "
                    "(c:Competency)-[:HAS_INFRASTRUCTURE_LIST]->(:InfrastructureList)-[:REQUIRES]->(:EquipmentType)<-[:OF_TYPE]-(e:Equipment)<-[:HAS_EQUIPMENT]-(n) "
                    "WHERE c.uid IN $f_competency AND e.retiredAt IS NULL }"
                ),
                "Competency codes.",
            ),
            "competency_block": Filter(
                (
                    "EXISTS { MATCH "
                    "(c:Competency)-[:HAS_INFRASTRUCTURE_LIST]->(:InfrastructureList)-[:REQUIRES]->(:EquipmentType)<-[:OF_TYPE]-(e:Equipment)<-[:HAS_EQUIPMENT]-(n) "
                    "WHERE c.block_code IN $f_competency_block AND e.retiredAt IS NULL }"
                ),
                "Competency block codes.",
            ),
        },
        {"name": Sort("n.name"), "workplaces": Sort("n.workplaces", "int")},
        "name",
    ),
    traversals={
        "site_equipment": traverse("Site", "Equipment", "(s)-[:HAS_EQUIPMENT]->(t:Equipment)")
    },
    indexes=("organization", "municipality", "name"),
    fulltext=True,
    headers={
        "organization": H.ORG,
        "code": ("Код", "Код площадки", "Площадка", "№ площадки"),
        "name": (*H.NAME, "Наименование площадки"),
        "kind": ("Тип", "Вид", "Тип площадки"),
        "address": ("Адрес",),
        "municipality": H.OKTMO,
        "latitude": ("Широта", "lat"),
        "longitude": ("Долгота", "lon", "lng"),
        "workplaces": (
            "Рабочие места",
            "Рабочих мест",
            "Число рабочих мест",
            "Количество рабочих мест",
        ),
    },
    by_name={"organization": "organization", "municipality": "municipality"},
    api=Api(
        Shape(
            "A site (площадка, мастерская) of an organization.",
            {
                "organization": Out("ИНН of the owner.", "organization_inn"),
                "code": Out("Site code within the organization."),
                "name": Out("Name."),
                "kind": Out("Kind of site."),
                "address": Out("Address."),
                "municipality": Out("ОКТМО of the municipality.", "municipality_code"),
                "latitude": Out("Latitude (WGS 84)."),
                "longitude": Out("Longitude (WGS 84)."),
                "workplaces": Out("Number of workplaces."),
            },
            labels=("kind",),
            links=(
                ToOne("organization", "Organization", ("organization",), "The owner."),
                ToOne("municipality", "Municipality", ("municipality",), "The municipality."),
            ),
        ),
        "Sites (площадки, мастерские).",
        related=(Related("equipment", "site_equipment", "Equipment on site."),),
    ),
)
