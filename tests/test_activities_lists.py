"""Every filter of the activity registries' lists (graph/registries/activities.py, resources.py)
discriminates."""

import pytest

from tests.factories import inn, seed_activities, write
from tests.graphql_client import GraphQLClient, live_server

C1, C2 = inn(1), inn(2)
CASES = [
    ("cohorts", '{program: ["P-EMP1"]}', {"P-EMP1:G1"}),
    ("cohorts", f'{{organization: ["{C2}"]}}', {"P-SPO:G1"}),
    ("cohorts", '{competency: ["MF-02"]}', {"P-EMP2:G1", "P-PRE:G1"}),
    ("cohorts", '{region: ["33"]}', set()),
    ("learners", '{category: [EMPLOYED]}', {"L2", "L5"}),
    ("learners", '{municipality: ["22721000"]}', {"L4"}),
    ("learners", '{region: ["33"]}', set()),
    ("enrollments", '{program: ["P-SPO"]}', {"P-SPO:G1:L1", "P-SPO:G1:L4"}),
    ("enrollments", '{learner: ["L6"]}', {"P-EMP2:G1:L6", "P-PRE:G1:L6"}),
    ("enrollments", '{status: [DROPPED]}', {"P-EMP1:G1:L3"}),
    ("enrollments", '{region: ["33"]}', set()),
    ("careerGuidanceEvents", '{kind: [PROFESSIONAL_TRIAL]}', {f"{C1}:E3"}),
    ("careerGuidanceEvents", '{municipality: ["22721000"]}', {f"{C1}:E4"}),
    ("careerGuidanceEvents", '{competency: ["MF-01"]}', {f"{C1}:E3"}),
    ("careerGuidanceEvents", f'{{organization: ["{C2}"]}}', set()),
    ("careerGuidanceEvents", '{region: ["33"]}', set()),
    ("staffTrainings", f'{{organization: ["{C2}"]}}', {f"{C2}:1:MF-02:2025-06-01"}),
    ("staffTrainings", '{competency: ["MF-02"]}',
     {f"{C2}:1:MF-02:2025-06-01", f"{C1}:1:MF-02:2025-10-10"}),
    ("staffTrainings", '{region: ["33"]}', set()),
    ("demandSignals", '{competency: ["MF-02"]}',
     {"MF-02:22721000:trudvsem:2025-01-01", "MF-02:22701000:survey:2025-04-01"}),
    ("demandSignals", '{municipality: ["22721000"]}', {"MF-02:22721000:trudvsem:2025-01-01"}),
    ("demandSignals", '{region: ["33"]}', set()),
    ("digitalResources", '{kind: [SIMULATOR]}', {"R2"}),
    ("digitalResources", '{competency: ["MF-02"]}', {"R2"}),
    ("digitalResources", '{program: ["P-SPO"]}', {"R1"}),
    ("referenceDocuments", '{kind: [NORMATIVE_ACT]}', {"D1"}),
    ("referenceDocuments", '{competency: ["MF-01"]}', {"D2"}),
    ("referenceDocuments", '{program: ["P-EMP1"]}', {"D2"}),
]


@pytest.fixture(scope="module")
def api(driver, settings):
    from tests.conftest import wipe

    wipe(driver, settings.neo4j_database)
    seed_activities(driver)
    write(driver, "learners", [{"external_id": "L4", "category": "COLLEGE_STUDENT",
                                "region": "52", "municipality": "22721000"}])
    write(driver, "digital_resources", [
        {"code": "R1", "name": "Курс", "kind": "COURSE", "programs": ["P-SPO"]},
        {"code": "R2", "name": "Тренажер", "kind": "SIMULATOR", "competencies": ["MF-02"]}])
    write(driver, "reference_documents", [
        {"code": "D1", "name": "273-ФЗ", "kind": "NORMATIVE_ACT"},
        {"code": "D2", "name": "Стандарт", "kind": "STANDARD", "competencies": ["MF-01"],
         "programs": ["P-EMP1"]}])
    with live_server(settings) as url:
        yield GraphQLClient(url)


def _uids(api, field, filter_):
    data = api.data(f"{{ {field}(first: 100, filter: {filter_}) {{ nodes {{ uid }} }} }}")
    return {n["uid"] for n in data[field]["nodes"]}


@pytest.mark.parametrize("field,filter_,expected", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_filter(api, field, filter_, expected):
    assert expected < _uids(api, field, "{}")
    assert _uids(api, field, filter_) == expected


def test_nested_reads_one_query_per_level(api):
    data, statements = api.counted("""{ cohorts(first: 10) { nodes { uid
        program { name } organization { name } sites { name }
        enrollments { learnerId learner { category } } } } }""")
    nodes = {n["uid"]: n for n in data["cohorts"]["nodes"]}
    assert nodes["P-EMP1:G1"]["program"]["name"] == "Программа P-EMP1"
    assert len(nodes["P-EMP1:G1"]["enrollments"]) == 3
    # the page with its programs and organizations, then the sites (a list of keys),
    # the enrollments (personal: read in the caller's scope), their learners
    assert statements == 4
