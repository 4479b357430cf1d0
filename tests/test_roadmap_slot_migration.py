"""Schema 4: stored indicator slots on an earlier default KPI follow the new default."""

import datetime as dt

from graph.migrations import SCHEMA_VERSION, applied_version_cypher, migrate, rebind_slots
from graph.roadmap import PREVIOUS_SLOT_KPIS, SLOT_KPIS, init_roadmap
from tests.factories import write


def _kpis(db):
    records, _, _ = db.execute_query(
        "MATCH (s:IndicatorSlot {region: '52'}) RETURN s.activity AS a, s.index AS i, "
        "s.kpi AS kpi, s.version AS version")
    return {(r["a"], r["i"]): (r["kpi"], r["version"]) for r in records}


def _bind(db, slots):
    db.execute_query(
        "UNWIND $slots AS x MATCH (s:IndicatorSlot {region: '52', activity: x[0], index: x[1]}) "
        "SET s.kpi = x[2]", slots=slots)


def test_old_defaults_are_rebound_hand_bindings_kept(db, settings):
    assert SCHEMA_VERSION >= 4  # the v4 step still runs in later versions
    write(db, "regions", [{"code": "52", "name": "Нижегородская область"}])
    init_roadmap(db, "52", horizon=dt.date(2021, 12, 31))
    assert SLOT_KPIS[(37, 1)] == "programsImplementedCopp.SPO_MODULES"
    # a region initialised before the change: its slots carry the old defaults …
    _bind(db, [[a, i, old] for (a, i), old in PREVIOUS_SLOT_KPIS.items()])
    # … except those it bound by hand: to another KPI, to nothing, or to another slot's
    # old default (still not this slot's default)
    _bind(db, [[39, 1, "coppStaff"], [41, 2, None],
               [40, 1, "programsImplemented.SPO_MODULES"]])
    before = _kpis(db)
    assert before[(37, 1)][0] == "programsImplemented.SPO_MODULES"

    migrate(db, database=settings.neo4j_database)

    after = _kpis(db)
    kept = {(39, 1), (41, 2), (40, 1)}
    for key in PREVIOUS_SLOT_KPIS:
        if key in kept:
            assert after[key] == before[key], key
        else:
            assert after[key] == (SLOT_KPIS[key], before[key][1] + 1), key
    assert after[(37, 2)][0] == "peopleTrainedCopp.SPO_MODULES"
    assert after[(42, 1)][0] == "programsImplementedCopp.FUTURE_COMPETENCIES"
    # slots whose default did not change are untouched
    assert after[(23, 1)] == before[(23, 1)] and after[(23, 1)][0] == "coppStaff"
    version = db.execute_query(applied_version_cypher()).records[0]["version"]
    assert version == SCHEMA_VERSION
    # idempotent: nothing left to rebind; a later init keeps the new binding
    assert rebind_slots(db, settings.neo4j_database) == 0
    init_roadmap(db, "52", horizon=dt.date(2021, 12, 31))
    assert _kpis(db)[(38, 1)][0] == "programsImplementedCopp.SCHOOL_STUDENTS"
    assert _kpis(db)[(39, 1)][0] == "coppStaff"
