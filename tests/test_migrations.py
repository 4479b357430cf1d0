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
