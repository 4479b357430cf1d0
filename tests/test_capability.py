"""graph.capability against the real Neo4j on a hand-built region whose answers are known."""

import datetime as dt
import math
import re

import pytest

from graph.capability import (
    SITES_CYPHER,
    SITES_IN_MUNICIPALITY_CYPHER,
    SITES_IN_REGION_CYPHER,
    CapabilityError,
    SitesQuery,
    StaffKey,
    qualified_staff,
    sites_cypher,
    sites_for_competency,
    sites_parameters,
)
from graph.registry import REGISTRIES
from graph.writes import retire
from tests.factories import inn, plan_operators, write, write_all

A, B, C = "22701000", "22721000", "17701000"  # two municipalities of region 52, one of 33
S1 = (56.32, 44.00)
S6 = (56.241, 43.461)


def _site(org, code, mun, wp, coords=None):
    row = {"organization": inn(org), "code": code, "name": f"Площадка {org}-{code}",
           "municipality": mun, "workplaces": wp}
    if coords:
        row.update(latitude=coords[0], longitude=coords[1])
    return row


def _eq(org, site, n, etype, qty, status="WORKING"):
    return {"organization": inn(org), "inventory_number": f"{site}-{n}", "type": etype,
            "site": site, "quantity": qty, "status": status}


def _staff(org, n, *quals):
    return {"organization": inn(org), "personnel_number": str(n), "full_name": f"Мастер {org}-{n}",
            "role": "MASTER", "qualifications": list(quals)}


def region():
    """Competency MF-01 needs, per workplace, 1 WELD and 2 MASK, per group 1 GRIND, and 1 staff.

    For a cohort of 10:
      S1 (org 1, 12 wp): everything → full, 12 workplaces;
      S5 (org 1, 9 wp): everything but only 9 workplaces → 4/4 items, not full;
      S6 (org 3, 10 wp): everything → full, 10 workplaces, next to S2;
      S3 (org 3, 20 wp): 6 WELD → 3/4, 6 workplaces, gap WELD 10/6/4;
      S2 (org 2, 8 wp): 10 WELD working (+5 broken, +3 retired), no GRIND, no staff → 2/4;
      S4 (org 4, region 33): full;
      S7 (org 2): retired site with everything → never listed.
    """
    orgs = [(1, "COPP", "52", A), (2, "COLLEGE", "52", B), (3, "COLLEGE", "52", A),
            (4, "COLLEGE", "33", C)]
    return {
        "regions": [{"code": "52", "name": "Нижегородская область"},
                    {"code": "33", "name": "Владимирская область"}],
        "municipalities": [{"oktmo": A, "name": "Нижний Новгород", "region": "52"},
                           {"oktmo": B, "name": "Дзержинск", "region": "52"},
                           {"oktmo": C, "name": "Владимир", "region": "33"}],
        "organizations": [{"inn": inn(n), "name": f"Организация {n}", "kind": k, "region": r,
                           "municipality": mu} for n, k, r, mu in orgs],
        "sites": [_site(1, "S1", A, 12, S1), _site(1, "S5", A, 9, (56.30, 44.02)),
                  _site(2, "S2", B, 8, (56.24, 43.46)), _site(3, "S3", A, 20, (56.33, 44.01)),
                  _site(3, "S6", B, 10, S6), _site(4, "S4", C, 30, (56.13, 40.40)),
                  _site(2, "S7", B, 30, (56.24, 43.46))],
        "equipment_types": [{"code": c, "name": n} for c, n in
                            [("WELD", "Сварочный инвертор"), ("MASK", "Маска сварщика"),
                             ("GRIND", "Шлифмашина"), ("LATHE", "Токарный станок")]],
        "equipment": [
            _eq(1, "S1", 1, "WELD", 12), _eq(1, "S1", 2, "MASK", 24), _eq(1, "S1", 3, "GRIND", 1),
            _eq(1, "S5", 1, "WELD", 12), _eq(1, "S5", 2, "MASK", 24), _eq(1, "S5", 3, "GRIND", 1),
            _eq(3, "S6", 1, "WELD", 10), _eq(3, "S6", 2, "MASK", 20), _eq(3, "S6", 3, "GRIND", 1),
            _eq(3, "S3", 1, "WELD", 6), _eq(3, "S3", 2, "MASK", 30), _eq(3, "S3", 3, "GRIND", 2),
            _eq(2, "S2", 1, "WELD", 6), _eq(2, "S2", 2, "WELD", 4), _eq(2, "S2", 3, "MASK", 20),
            _eq(2, "S2", 4, "WELD", 5, "BROKEN"), _eq(2, "S2", 5, "GRIND", 1, "REPAIR"),
            _eq(2, "S2", 6, "WELD", 3),  # retired below
            _eq(4, "S4", 1, "WELD", 30), _eq(4, "S4", 2, "MASK", 60), _eq(4, "S4", 3, "GRIND", 1),
            _eq(2, "S7", 1, "WELD", 30), _eq(2, "S7", 2, "MASK", 60), _eq(2, "S7", 3, "GRIND", 1),
            _eq(2, "S7", 4, "LATHE", 1),
        ],
        "competencies": [{"code": "MF-01", "name": "Сварочные технологии"},
                         {"code": "MF-02", "name": "Токарные работы"}],
        "staff": [
            _staff(1, 1, {"competency": "MF-01"}),
            _staff(1, 2, {"competency": "MF-01", "valid_until": "2020-01-01"}),  # expired
            _staff(3, 1, {"competency": "MF-01", "expert_status": "REGIONAL"}),
            _staff(3, 2, {"competency": "MF-02"}),
            _staff(4, 1, {"competency": "MF-01"}),
            _staff(2, 1, {"competency": "MF-02", "expert_status": "CHIEF"}),
        ],
        "infrastructure_lists": [
            {"competency": "MF-01", "min_staff": 1, "items": [
                {"equipment_type": "WELD", "quantity": 1, "scope": "PER_WORKPLACE"},
                {"equipment_type": "MASK", "quantity": 2, "scope": "PER_WORKPLACE"},
                {"equipment_type": "GRIND", "quantity": 1, "scope": "PER_GROUP"}]},
            {"competency": "MF-02", "min_staff": 1, "expert_required": True, "items": [
                {"equipment_type": "LATHE", "quantity": 1, "scope": "PER_GROUP"}]},
        ],
    }


@pytest.fixture
def graph(db):
    write_all(db, region())
    with db.session() as s:
        now = dt.datetime.now(dt.UTC)
        s.execute_write(lambda tx: retire(tx, REGISTRIES["equipment"], [f"{inn(2)}:S2-6"], now))
        s.execute_write(lambda tx: retire(tx, REGISTRIES["sites"], [f"{inn(2)}:S7"], now))
    return db


def run(driver, **kw):
    kw.setdefault("competency", "MF-01")
    kw.setdefault("cohort_size", 10)
    with driver.session() as s:
        return s.execute_read(lambda tx: sites_for_competency(tx, SitesQuery(**kw)))


def _code(match):
    return match.site.split(":")[1]


def test_ranking_coverage_gaps_and_capacity(graph):
    page = run(graph)
    assert [_code(m) for m in page.sites] == ["S4", "S1", "S6", "S5", "S3", "S2"]
    assert page.total_count == 6 and not page.has_next_page
    got = {_code(m): m for m in page.sites}
    assert [(k, got[k].workplaces, got[k].satisfied, got[k].items, got[k].full_coverage)
            for k in ["S1", "S5", "S6", "S3", "S2"]] == [
        ("S1", 12, 4, 4, True), ("S5", 9, 4, 4, False), ("S6", 10, 4, 4, True),
        ("S3", 6, 3, 4, False), ("S2", 8, 2, 4, False)]
    assert got["S1"].gaps == () and not got["S1"].staff_missing
    assert got["S5"].coverage == 1.0 and got["S3"].coverage == 0.75
    assert [(g.equipment_type, g.required, g.available, g.missing) for g in got["S3"].gaps] == [
        ("WELD", 10, 6, 4)]
    # broken, in-repair and retired units do not count; no qualified staff at org 2
    assert [(g.equipment_type, g.scope, g.required, g.available, g.missing)
            for g in sorted(got["S2"].gaps, key=lambda g: g.equipment_type)] == [
        ("GRIND", "PER_GROUP", 1, 0, 1)]
    assert got["S2"].staff_missing and got["S2"].staff_count == 0
    assert got["S1"].staff_count == 1  # the expired qualification is not counted
    assert got["S1"].organization_name == "Организация 1"
    assert all(m.distance_km is None for m in page.sites)


def test_per_group_item_does_not_scale_with_cohort(graph):
    got = {_code(m): m for m in run(graph, cohort_size=1).sites}
    assert got["S3"].full_coverage and got["S3"].workplaces == 6
    assert got["S2"].workplaces == 8 and [g.equipment_type for g in got["S2"].gaps] == ["GRIND"]
    got = {_code(m): m for m in run(graph, cohort_size=7).sites}
    assert [(g.equipment_type, g.required) for g in got["S3"].gaps] == [("WELD", 7)]
    assert got["S6"].gaps == () and got["S1"].full_coverage


def test_region_municipality_and_full_coverage_filters(graph):
    assert [_code(m) for m in run(graph, region="52").sites] == ["S1", "S6", "S5", "S3", "S2"]
    assert [_code(m) for m in run(graph, municipality=B).sites] == ["S6", "S2"]
    assert [_code(m) for m in run(graph, region="52", require_full_coverage=True).sites] == [
        "S1", "S6"]
    assert run(graph, region="99").total_count == 0
    assert [_code(m) for m in run(graph, municipality=C).sites] == ["S4"]
    assert [_code(m) for m in run(graph, region="52", municipality=B).sites] == ["S6", "S2"]
    assert run(graph, region="33", municipality=B).total_count == 0  # B is not in region 33


def _haversine(a, b, radius=6378.14):
    (la1, lo1), (la2, lo2) = [(math.radians(x), math.radians(y)) for x, y in (a, b)]
    h = (math.sin((la2 - la1) / 2) ** 2
         + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2)
    return 2 * radius * math.asin(math.sqrt(h))


def test_distance_ranks_within_equal_coverage(graph):
    page = run(graph, region="52", near=S6)
    assert [_code(m) for m in page.sites] == ["S6", "S1", "S5", "S3", "S2"]
    got = {_code(m): m for m in page.sites}
    assert got["S6"].distance_km < 0.2
    assert got["S1"].distance_km == pytest.approx(_haversine(S6, S1), rel=2e-3)


@pytest.mark.parametrize("first", [1, 2, 4])
def test_keyset_pages_walk_the_whole_ranking(graph, first):
    # pages end inside the group of full sites, ordered by distance, and between groups
    whole = run(graph, near=S1).sites
    seen, after = [], None
    while True:
        page = run(graph, near=S1, first=first, after=after)
        seen += page.sites
        assert page.total_count == 6
        if not page.has_next_page:
            break
        after = page.sites[-1].cursor
    assert seen == whole and len(whole) == 6
    assert [_code(m) for m in whole[:3]] == ["S1", "S6", "S4"]  # full, nearest first
    with pytest.raises(CapabilityError):
        run(graph, after="not-a-cursor")


def test_expert_requirement_and_staff_list(graph):
    write(graph, "equipment", [_eq(3, "S3", 9, "LATHE", 1), _eq(2, "S2", 9, "LATHE", 1)])
    got = {_code(m): m for m in run(graph, competency="MF-02").sites}
    # org 3 has a qualified master without expert status; org 2 has a chief expert
    assert got["S3"].staff_missing and got["S3"].staff_count == 1
    assert not got["S2"].staff_missing and got["S2"].full_coverage is False  # 8 wp < 10
    assert run(graph, competency="MF-02", cohort_size=8).sites[0].site == f"{inn(2)}:S2"
    keys = [StaffKey(inn(1), "MF-01", first=5), StaffKey(inn(3), "MF-01"),
            StaffKey(inn(3), "MF-99")]
    with graph.session() as s:
        pages = s.execute_read(lambda tx: qualified_staff(tx, keys))
    assert [[p.uid for p in page.staff] for page in pages] == [
        [f"{inn(1)}:1"], [f"{inn(3)}:1"], []]
    assert pages[1].staff[0].expert_status == "REGIONAL"


def test_unknown_competency_is_a_clear_error(graph):
    with pytest.raises(CapabilityError, match="инфраструктурного листа"):
        run(graph, competency="NOPE")


@pytest.mark.parametrize("place", [{"region": "52"}, {"municipality": "22701000"}])
def test_a_regional_search_reads_only_that_places_stock(db, place):
    """Within a region or municipality the candidates come from one seek per listed type of the
    STOCKS (type, region, municipality) index, not from every site of the federation that
    stocks the type."""
    q = SitesQuery(competency="MF-01", cohort_size=6, **place)
    assert sites_cypher(q) == (SITES_IN_REGION_CYPHER if "region" in place
                               else SITES_IN_MUNICIPALITY_CYPHER)
    assert sites_cypher(SitesQuery(competency="MF-01", cohort_size=6)) == SITES_CYPHER
    with db.session() as s:
        plan = s.run("EXPLAIN " + sites_cypher(q), sites_parameters(q)).consume().plan

    # The seek must bind all three keys; variable names in the plan text are the planner's.
    place_key = ("municipality = $municipality" if "municipality" in place
                 else "municipality IS NOT NULL")
    stock_reads = [(op, d) for op, d in plan_operators(plan) if "STOCKS" in d]
    assert any(op == "DirectedRelationshipIndexSeek"
               and "STOCKS(type, region, municipality)" in d and "type = it.type" in d
               and re.search(r"\bregion = \S", d) and place_key in d
               for op, d in stock_reads), stock_reads
    assert len(stock_reads) == 1, stock_reads
