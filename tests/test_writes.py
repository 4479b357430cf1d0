"""graph.ingest against the real Neo4j: MERGE idempotency, relationships, all-or-nothing."""

from tests.factories import inn, seed_region, write


def _counts(driver):
    records, _, _ = driver.execute_query(
        "MATCH (n) WHERE NOT n:HubSchema WITH count(n) AS nodes "
        "OPTIONAL MATCH ()-[r]->() RETURN nodes, count(r) AS rels"
    )
    return records[0]["nodes"], records[0]["rels"]


def _equipment(n, **extra):
    row = {"organization": inn(1), "inventory_number": f"ИНВ-{n:04d}", "type": "WELD-INV",
           "site": "M1", "quantity": 2, "year": 2021}
    row.update(extra)
    return row


def test_same_input_twice_gives_same_graph(db):
    seed_region(db)
    rows = [_equipment(i) for i in range(50)]
    first = write(db, "equipment", rows)
    assert (first.created, first.updated, first.unchanged) == (50, 0, 0)
    counts = _counts(db)
    stamp, _, _ = db.execute_query("MATCH (e:Equipment) RETURN max(e.updatedAt) AS t")
    second = write(db, "equipment", rows)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 50)
    assert _counts(db) == counts
    again, _, _ = db.execute_query("MATCH (e:Equipment) RETURN max(e.updatedAt) AS t")
    assert again[0]["t"] == stamp[0]["t"]


def test_update_rewires_relationships(db):
    seed_region(db)
    write(db, "equipment", [_equipment(1)])
    report = write(db, "equipment", [_equipment(1, type="LATHE-CNC", quantity=3)])
    assert (report.created, report.updated) == (0, 1)
    assert sorted(report.changes[0]["fields"]) == ["quantity", "type"]
    assert report.changes[0]["before"] == {"quantity": 2, "type": "WELD-INV"}
    records, _, _ = db.execute_query(
        "MATCH (e:Equipment)-[:OF_TYPE]->(t) RETURN collect(t.uid) AS types, "
        "e.quantity AS q, e.createdAt < e.updatedAt AS touched"
    )
    assert records[0]["types"] == ["LATHE-CNC"]
    assert records[0]["q"] == 3 and records[0]["touched"]


def test_relationship_properties_follow_nested_lists(db):
    seed_region(db)
    staff = {"organization": inn(2), "personnel_number": "15", "full_name": "Петров П. П.",
             "role": "MASTER",
             "qualifications": [{"competency": "MF-01", "expert_status": "REGIONAL"},
                                {"competency": "MF-02"}]}
    assert write(db, "staff", [staff]).created == 1
    staff["qualifications"] = [{"competency": "MF-02", "expert_status": "CERTIFIED"}]
    assert write(db, "staff", [staff]).updated == 1
    records, _, _ = db.execute_query(
        "MATCH (:Staff)-[q:QUALIFIED_IN]->(c) RETURN c.uid AS c, q.expert_status AS s"
    )
    assert [(r["c"], r["s"]) for r in records] == [("MF-02", "CERTIFIED")]
    records, _, _ = db.execute_query("MATCH (s:Staff)-[:WORKS_AT]->(o) RETURN o.uid AS o")
    assert records[0]["o"] == inn(2)


def test_missing_reference_refuses_whole_batch(db):
    seed_region(db)
    before = _counts(db)
    rows = [_equipment(1), _equipment(2, site="NO-SUCH"), _equipment(3, type="NO-TYPE")]
    report = write(db, "equipment", rows)
    assert not report.written and report.created == 0
    assert [(e.row, e.field, e.value) for e in report.errors] == [
        (2, "site", f"{inn(1)}:NO-SUCH"), (3, "type", "NO-TYPE")]
    assert _counts(db) == before


def test_partial_writes_valid_rows_and_reports_the_rest(db):
    seed_region(db)
    rows = [_equipment(1), _equipment(2, quantity=0), _equipment(3, site="NO-SUCH")]
    report = write(db, "equipment", rows, partial=True)
    assert report.written and (report.created, report.rejected) == (1, 2)
    assert [(e.row, e.field) for e in report.errors] == [(2, "quantity"), (3, "site")]
    records, _, _ = db.execute_query("MATCH (e:Equipment) RETURN collect(e.inventory_number) AS i")
    assert records[0]["i"] == ["ИНВ-0001"]


def test_the_drivers_debug_line_names_batch_sizes_not_rows(db, caplog):
    """The driver formats each statement's parameters for its debug log whether or not that
    log is on; a write's row lists print as their length."""
    import logging

    seed_region(db)
    with caplog.at_level(logging.DEBUG, logger="neo4j"):
        report = write(db, "equipment", [_equipment(i) for i in range(3)])
    assert report.created == 3
    runs = [r.getMessage() for r in caplog.records if "C: RUN" in r.getMessage()]
    assert any("'rows': [3 items]" in line for line in runs), runs
    assert not any("inventory_number" in line for line in runs), runs
    stored, _, _ = db.execute_query("MATCH (e:Equipment) RETURN count(e) AS n")
    assert stored[0]["n"] == 3
