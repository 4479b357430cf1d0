"""The constructor's `placements` name the organization delivering each module (it was empty),
read in the planner's first statement: `programConstructor` with placements stays two
statements; `planNetworkProgram` keeps its names and its two statements."""

from __future__ import annotations

import pytest

from tests.factories import inn, seed_region, write
from tests.graphql_client import GraphQLClient, live_server

COPP, COLLEGE = inn(1), inn(2)

CONSTRUCTOR = """query($p: String!) { programConstructor(program: $p, cohortSize: 6) {
  placements { moduleNumber site siteName organization organizationName reasons } } }"""
PLAN = """query($p: String!, $h: String!) {
  planNetworkProgram(program: $p, homeOrganization: $h, cohortSize: 6) {
    assignments { moduleNumber organizationInn organizationName } } }"""


@pytest.fixture
def world(db, settings):
    seed_region(db)
    rows = {
        "equipment": [
            {"organization": COPP, "inventory_number": "W-1", "type": "WELD-INV",
             "site": "M1", "quantity": 12},
            {"organization": COLLEGE, "inventory_number": "L-1", "type": "LATHE-CNC",
             "site": "M1", "quantity": 8}],
        "staff": [
            {"organization": COPP, "personnel_number": "T1", "full_name": "Орлова Е. В.",
             "role": "TEACHER", "qualifications": [{"competency": "MF-01"}]},
            {"organization": COLLEGE, "personnel_number": "T2", "full_name": "Лебедев К. С.",
             "role": "TEACHER", "qualifications": [{"competency": "MF-02"}]}],
        "programs": [{"code": "P-NET", "name": "Сварка и токарная обработка",
                      "type": "SECTORAL", "hours": 72, "organization": COPP,
                      "competencies": ["MF-01", "MF-02"]}],
        "modules": [
            {"program": "P-NET", "number": 1, "name": "Сварка", "hours": 36,
             "competency": "MF-01",
             "requirements": [{"equipment_type": "WELD-INV", "quantity": 1}]},
            {"program": "P-NET", "number": 2, "name": "Токарная обработка", "hours": 36,
             "competency": "MF-02",
             "requirements": [{"equipment_type": "LATHE-CNC", "quantity": 1}]},
            {"program": "P-NET", "number": 3, "name": "Станок, которого нет", "hours": 2,
             "competency": "MF-02",
             "requirements": [{"equipment_type": "LATHE-CNC", "quantity": 50}]}],
    }
    for name, items in rows.items():
        report = write(db, name, items)
        assert report.ok, (name, report.errors)
    with live_server(settings) as url:
        yield url


def test_placements_name_the_organization_in_two_statements(world):
    client = GraphQLClient(world)
    data, statements = client.counted(CONSTRUCTOR, {"p": "P-NET"})
    placed = [(p["moduleNumber"], p["organization"], p["organizationName"], p["siteName"])
              for p in data["programConstructor"]["placements"]]
    assert placed == [
        (1, COPP, "ЦОПП Нижегородской области", "Мастерская сварочных технологий"),
        (2, COLLEGE, "Дзержинский технический колледж", "Мастерская токарных работ"),
        (3, None, None, None)]
    assert data["programConstructor"]["placements"][2]["reasons"]
    assert statements == 2  # the constructor's statement, then the planner's first one

    plan, statements = client.counted(PLAN, {"p": "P-NET", "h": COPP})
    names = {(a["moduleNumber"], a["organizationInn"], a["organizationName"])
             for a in plan["planNetworkProgram"]["assignments"]}
    assert names == {(1, COPP, "ЦОПП Нижегородской области"),
                     (2, COLLEGE, "Дзержинский технический колледж")}
    assert statements == 2  # input with names, then the chosen parties' details
