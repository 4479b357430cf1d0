"""The derived STOCKS relationships follow every equipment write, and equal a full rebuild."""

import datetime as dt
import threading

from graph.registry import REGISTRIES
from graph.stock import backfill
from graph.writes import retire
from tests.factories import inn, seed_region, write

SITE = f"{inn(1)}:M1"


def _stock(driver):
    """(site, type, working); each STOCKS also names its type and its site's municipality
    and region."""
    records, _, _ = driver.execute_query(
        "MATCH (s:Site)-[k:STOCKS]->(t:EquipmentType) "
        "MATCH (m:Municipality {uid: s.municipality}) "
        "RETURN s.uid AS s, t.uid AS t, k.working AS w, k.type = t.uid AS typed, "
        "k.municipality = s.municipality AND k.region = m.region AS placed ORDER BY s, t")
    assert all(r["typed"] and r["placed"] for r in records), records
    return [(r["s"], r["t"], r["w"]) for r in records]


def _eq(n, **extra):
    row = {"organization": inn(1), "inventory_number": f"E-{n}", "type": "WELD-INV",
           "site": "M1", "quantity": 1}
    row.update(extra)
    return row


def test_stock_follows_writes_and_matches_rebuild(db):
    seed_region(db)
    write(db, "sites", [{"organization": inn(1), "code": "M2", "name": "Вторая площадка",
                         "municipality": "22701000", "workplaces": 5}])
    assert write(db, "equipment", [_eq(1, quantity=2), _eq(2, quantity=3),
                                   _eq(3, quantity=5, status="BROKEN")]).ok
    assert _stock(db) == [(SITE, "WELD-INV", 5)]
    write(db, "equipment", [_eq(2, quantity=4)])
    assert _stock(db) == [(SITE, "WELD-INV", 6)]
    write(db, "equipment", [_eq(1, quantity=2, status="REPAIR"), _eq(3, quantity=5)])
    assert _stock(db) == [(SITE, "WELD-INV", 9)]
    # a new type and a new site: both the old and the new pair are refreshed
    write(db, "equipment", [_eq(2, quantity=4, type="LATHE-CNC", site="M2")])
    assert _stock(db) == [(SITE, "WELD-INV", 5), (f"{inn(1)}:M2", "LATHE-CNC", 4)]
    with db.session() as s:
        s.execute_write(lambda tx: retire(tx, REGISTRIES["equipment"], [f"{inn(1)}:E-3", "nope"],
                                          dt.datetime.now(dt.UTC)))
    assert _stock(db) == [(f"{inn(1)}:M2", "LATHE-CNC", 4)]
    # a site that moves takes its stock along (searches by place read it there), also to
    # another region; so does a municipality that changes region
    write(db, "regions", [{"code": "33", "name": "Владимирская область"}])
    write(db, "municipalities", [{"oktmo": "17701000", "name": "г. Владимир", "region": "33"}])

    def placed():
        records, _, _ = db.execute_query("MATCH (:Site {uid: $s})-[k:STOCKS]->() "
                                         "RETURN k.region AS r, k.municipality AS m",
                                         s=f"{inn(1)}:M2")
        return [(r["r"], r["m"]) for r in records]

    for oktmo, region in (("22721000", "52"), ("17701000", "33")):
        write(db, "sites", [{"organization": inn(1), "code": "M2", "name": "Вторая площадка",
                             "municipality": oktmo, "workplaces": 5}])
        assert placed() == [(region, oktmo)]
    write(db, "municipalities", [{"oktmo": "17701000", "name": "г. Владимир", "region": "52"}])
    assert placed() == [("52", "17701000")]
    incremental = _stock(db)
    assert backfill(db, force=True) and _stock(db) == incremental


def _writers_at_once(db, rows_of) -> list[Exception]:
    """Three threads, each writing its own items one at a time; the errors they met."""
    errors = []

    def writer(k):
        try:
            for i in range(8):
                assert write(db, "equipment", [rows_of(k, i)]).ok
        except Exception as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_concurrent_writers_to_one_site_lose_nothing(db):
    """Quantity updates create no relationship, so only the STOCKS lock orders the writers."""
    seed_region(db)
    assert write(db, "equipment", [_eq(100 * k + i) for k in (1, 2, 3) for i in range(8)]).ok
    assert _writers_at_once(db, lambda k, i: _eq(100 * k + i, quantity=k + 1)) == []
    assert _stock(db) == [(SITE, "WELD-INV", 8 * (2 + 3 + 4))]


def test_concurrent_creates_at_one_site_add_up(db):
    """New items add their quantity to STOCKS: concurrent adders must not lose one another's."""
    seed_region(db)
    assert _writers_at_once(db, lambda k, i: _eq(100 * k + i, quantity=k + 1)) == []
    assert _stock(db) == [(SITE, "WELD-INV", 8 * (2 + 3 + 4))]
    assert backfill(db, force=True) and _stock(db) == [(SITE, "WELD-INV", 8 * (2 + 3 + 4))]
