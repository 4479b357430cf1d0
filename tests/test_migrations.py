import pytest
from neo4j.exceptions import ConstraintError

from graph.migrations import migrate
from graph.search import fulltext_query


def _schema(driver):
    constraints, _, _ = driver.execute_query("SHOW CONSTRAINTS YIELD name RETURN name ORDER BY name")
    indexes, _, _ = driver.execute_query("SHOW INDEXES YIELD name, state RETURN name, state")
    return [r["name"] for r in constraints], {r["name"]: r["state"] for r in indexes}


def test_migrate_is_idempotent(db, settings):
    before = _schema(db)
    migrate(db, database=settings.neo4j_database)
    migrate(db, database=settings.neo4j_database)
    after = _schema(db)
    assert before == after
    constraints, indexes = after
    assert "equipment_uid" in constraints and "organization_uid" in constraints
    assert indexes["names_ru"] == "ONLINE"
    assert all(state == "ONLINE" for state in indexes.values())


def test_database_refuses_duplicate_natural_key(db):
    db.execute_query("CREATE (:Organization {uid: '7707083893', name: 'A'})")
    with pytest.raises(ConstraintError):
        db.execute_query("CREATE (:Organization {uid: '7707083893', name: 'B'})")
    records, _, _ = db.execute_query("MATCH (o:Organization) RETURN count(o) AS c")
    assert records[0]["c"] == 1


def test_fulltext_index_uses_russian_analyzer(db):
    records, _, _ = db.execute_query(
        "SHOW FULLTEXT INDEXES YIELD name, options WHERE name = 'names_ru' "
        "RETURN options.indexConfig['fulltext.analyzer'] AS analyzer"
    )
    assert records[0]["analyzer"] == "russian"
    db.execute_query("CREATE (:Competency {uid: 'MF-01', name: 'Сварочные технологии'})")
    db.execute_query("CALL db.awaitIndexes(60)")
    records, _, _ = db.execute_query(
        "CALL db.index.fulltext.queryNodes('names_ru', $q) YIELD node RETURN node.uid AS uid",
        q=fulltext_query("сварка"),
    )
    assert [r["uid"] for r in records] == ["MF-01"]


def test_fulltext_query_ignores_lucene_syntax():
    assert fulltext_query('сварка") OR *:*') == "(сварка OR свар*) AND (or OR or*)"
    assert fulltext_query("  ") is None


def test_version_5_says_college_everywhere_and_the_audit_still_replays(db, settings):
    """A graph written before v5 (learner category POO_STAFF, event property
    participants_poo_staff, both in the audit's JSON) reads COLLEGE after `migrate`, and the
    audit replays to what the graph holds."""
    from graph.audit import as_audited, replay
    from tests.factories import audit_trail, inn, seed_region, write

    seed_region(db)
    assert write(db, "learners", [{"external_id": "L-OLD", "category": "COLLEGE_STAFF",
                                   "region": "52"}]).ok
    assert write(db, "career_guidance_events", [{
        "organization": inn(1), "code": "E-OLD", "kind": "PROFESSIONAL_TRIAL",
        "name": "Проба", "held_on": "2025-03-01", "municipality": "22701000",
        "participants_college_staff": 7}]).ok
    old, new = "POO" + "_STAFF", "COLLEGE_STAFF"  # as v4 stored them
    db.execute_query(
        "MATCH (l:Learner {uid: 'L-OLD'}) SET l.category = $old "
        "WITH 1 AS one MATCH (e:CareerGuidanceEvent) SET e.participants_poo_staff = "
        "e.participants_college_staff REMOVE e.participants_college_staff "
        "WITH 1 AS one MATCH (s:ChangeSet) WHERE s.label IN ['Learner', 'CareerGuidanceEvent'] "
        "SET s.after = [t IN s.after | replace(replace(t, $new, $old), "
        "'participants_college_staff', 'participants_poo_staff')]",
        old=old, new=new, database_=settings.neo4j_database)
    migrate(db, settings.neo4j_database)
    learner = db.execute_query("MATCH (l:Learner {uid: 'L-OLD'}) RETURN properties(l) AS p",
                               database_=settings.neo4j_database).records[0]["p"]
    event = db.execute_query("MATCH (e:CareerGuidanceEvent) RETURN properties(e) AS p",
                             database_=settings.neo4j_database).records[0]["p"]
    assert learner["category"] == new
    assert event["participants_college_staff"] == 7 and "participants_poo_staff" not in event
    for label, props in (("Learner", learner), ("CareerGuidanceEvent", event)):
        trail = audit_trail(db, label=label)
        replayed = replay(trail[::-1])  # oldest first
        for key in ("category", "participants_college_staff"):
            if key in props:
                assert replayed[key] == as_audited(props[key])
