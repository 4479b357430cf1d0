"""Activity registries: validation (Russian messages), links, and GraphQL reads/writes."""

import pytest

from graph.registry import REGISTRIES
from graph.validation import validate_rows
from tests.factories import inn, seed_activities, seed_region, write
from tests.graphql_client import GraphQLClient, live_server


def _errors(registry, row):
    _, errors = validate_rows(REGISTRIES[registry], [row])
    return [(e.field, e.message) for e in errors]


def test_models_refuse_bad_rows():
    assert _errors("enrollments", {"program": "P", "cohort": "G", "learner": "L",
                                   "status": "COMPLETED"}) == [
        ("*", "для завершившего обучение укажите дату завершения")]
    assert _errors("enrollments", {"program": "P", "cohort": "G", "learner": "L",
                                   "certificate_number": "1"})[0][1].startswith("дата завершения")
    assert _errors("cohorts", {"program": "P", "code": "G", "organization": inn(1),
                               "starts_on": "01.09.2025", "ends_on": "2025-06-01",
                               "seats": 5}) == [("*", "дата окончания раньше даты начала")]
    assert _errors("cohorts", {"program": "P", "code": "G", "organization": inn(1),
                               "sites": ["M1"], "starts_on": "2025-01-01",
                               "ends_on": "2025-06-01", "seats": 5})[0][0] == "sites.0"
    assert _errors("career_guidance_events", {
        "organization": inn(1), "code": "E", "kind": "проба", "name": "x",
        "held_on": "2025-01-01"}) == [("*", "укажите площадку или муниципальное образование")]
    assert _errors("learners", {"external_id": "L1", "category": "пенсионер",
                                "region": "52"})[0][0] == "category"
    assert _errors("learners", {"external_id": "L1", "category": "Студент ПОО", "region": "52",
                                "full_name": "Иванов"}) == [("full_name", "неизвестное поле")]


def test_links_and_missing_references(db):
    seed_activities(db)
    records, _, _ = db.execute_query(
        "MATCH (e:Enrollment {uid: 'P-EMP1:G1:L1'})-[:IN_COHORT]->(c:Cohort)-[:OF_PROGRAM]->(p), "
        "(c)-[:AT_SITE]->(s:Site), (c)-[:RUN_BY]->(o), (e)-[:OF_LEARNER]->(l:Learner) "
        "RETURN p.uid AS p, s.uid AS s, o.uid AS o, l.uid AS l")
    assert dict(records[0]) == {"p": "P-EMP1", "s": f"{inn(1)}:M1", "o": inn(1), "l": "L1"}
    records, _, _ = db.execute_query(
        "MATCH (l:Learner)-[:PARTICIPATED_IN]->(e:CareerGuidanceEvent {code: 'E3'}) "
        "RETURN collect(l.uid) AS ls")
    assert sorted(records[0]["ls"]) == ["L1", "L4"]
    records, _, _ = db.execute_query(
        "MATCH (t:StaffTraining)-[:OF_STAFF]->(s:Staff), (t)-[:PROVIDED_BY]->(o) "
        "RETURN s.uid AS s, o.uid AS o")
    assert dict(records[0]) == {"s": f"{inn(2)}:1", "o": inn(1)}
    report = write(db, "enrollments", [
        {"program": "P-EMP1", "cohort": "G9", "learner": "L1"},
        {"program": "P-EMP1", "cohort": "G1", "learner": "L99"}])
    assert not report.written
    assert [(e.row, e.field, e.value) for e in report.errors] == [
        (1, "cohort", "P-EMP1:G9"), (2, "learner", "L99")]


def test_rewrite_is_idempotent(db):
    seed_activities(db)
    from tests.factories import activity_rows
    again = write(db, "career_guidance_events", activity_rows()["career_guidance_events"])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)


@pytest.fixture
def api(db, settings):
    seed_region(db)
    with live_server(settings) as url:
        yield GraphQLClient(url)


def test_graphql_writes_and_lists(api):
    data = api.data("""mutation { createLearner(input: {externalId: "X-1",
        category: COLLEGE_STUDENT, region: "52"}) { status node { externalId categoryLabel } } }""")
    assert data["createLearner"] == {"status": "CREATED", "node": {
        "externalId": "X-1", "categoryLabel": "Студент ПОО"}}
    bad = api.data("""mutation { bulkCreateDemandSignal(input: [
        {competency: "MF-01", municipality: "22701000", source: "hh", startsOn: "2025-01-01",
         endsOn: "2025-03-31", vacancies: 7},
        {competency: "NOPE", municipality: "22701000", source: "hh", startsOn: "2025-01-01",
         endsOn: "2025-03-31", vacancies: 1}]) { written errors { index field value } } }""")
    assert bad["bulkCreateDemandSignal"] == {"written": False, "errors": [
        {"index": 1, "field": "competency", "value": '"NOPE"'}]}
    ok = api.data("""mutation { createDemandSignal(input: {competency: "MF-01",
        municipality: "22701000", source: "hh", startsOn: "2025-01-01", endsOn: "2025-03-31",
        vacancies: 7}) { status node { vacancies competency { name } municipality { name } } } }""")
    assert ok["createDemandSignal"]["node"] == {"vacancies": 7,
        "competency": {"name": "Сварочные технологии"},
        "municipality": {"name": "г. Нижний Новгород"}}
    listed = api.data('{ demandSignals(filter: {region: ["52"]}) { totalCount '
                      'nodes { source } } learners(filter: {category: [COLLEGE_STUDENT]}) '
                      '{ totalCount } }')
    assert listed["demandSignals"]["totalCount"] == 1
    assert listed["learners"]["totalCount"] == 1
