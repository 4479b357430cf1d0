"""graph.planning: exact partner choice, reasons, agreements, stored plans and the DOCX draft."""

import datetime as dt
import io
import itertools
import random

import pytest
from docx import Document

from graph.agreement_doc import agreements_docx
from graph.planning import (
    PlanFilter,
    PlanningError,
    choose_exact,
    choose_greedy,
    fetch_input,
    load_plan,
    load_plans,
    plan_network_program,
    save_plan,
    set_plan_status,
    solve,
)
from graph.writes import run_plan
from tests.factories import inn, plan_operators, write_all

A, B = "22701000", "22721000"
H, PA, PB, PC, PD = 10, 11, 12, 13, 14  # home, partners A, B, C, and D (too little T8)
START, END = dt.date(2027, 9, 1), dt.date(2027, 12, 25)
COVERS = {PA: [2, 3, 4], PB: [5, 6, 7], PC: [2, 3, 5, 6]}  # greedy: C, then A and B


def _org(n, mun=A):
    return {"inn": inn(n), "name": f"Организация {n}", "kind": "COLLEGE", "region": "52",
            "municipality": mun}


def region():
    """Program P-NET: module 1 at home; 2–7 need one T<k> each (PER_GROUP) and one MF-01 master;
    module 8 needs 5 T8 per workplace (50 for 10 learners; D has 20); module 9 needs two
    MF-02 masters (nobody has two)."""
    sites = [{"organization": inn(H), "code": "MAIN", "name": "Главный корпус", "municipality": A,
              "latitude": 56.30, "longitude": 44.00, "workplaces": 25},
             {"organization": inn(H), "code": "SMALL", "name": "Малый класс", "municipality": A,
              "latitude": 56.31, "longitude": 44.01, "workplaces": 5}]
    equipment = [{"organization": inn(H), "inventory_number": "H-1", "type": "T1", "site": "MAIN",
                  "quantity": 1}]
    coords = {PA: (56.35, 44.10), PB: (56.24, 43.46), PC: (56.40, 44.30), PD: (56.20, 43.80)}
    for org, (lat, lon) in coords.items():
        sites.append({"organization": inn(org), "code": "W", "name": f"Мастерская {org}",
                      "municipality": B, "latitude": lat, "longitude": lon, "workplaces": 12})
    for org, modules in COVERS.items():
        equipment += [{"organization": inn(org), "inventory_number": f"{org}-{k}", "type": f"T{k}",
                       "site": "W", "quantity": 1, "name": f"Станок T{k}"} for k in modules]
    equipment.append({"organization": inn(PD), "inventory_number": "D-8", "type": "T8",
                      "site": "W", "quantity": 20})
    equipment.append({"organization": inn(PA), "inventory_number": "A-broken-5", "type": "T5",
                      "site": "W", "quantity": 3, "status": "BROKEN"})
    staff = [{"organization": inn(o), "personnel_number": "1", "full_name": f"Мастер {o}",
              "role": "MASTER", "qualifications": [{"competency": "MF-01"},
                                                   {"competency": "MF-02"}]}
             for o in (H, PA, PB, PC, PD)]
    modules = [{"program": "P-NET", "number": 1, "name": "Охрана труда", "hours": 8,
                "competency": "MF-01",
                "requirements": [{"equipment_type": "T1", "quantity": 1, "scope": "PER_GROUP"}]}]
    modules += [{"program": "P-NET", "number": k, "name": f"Модуль {k}", "hours": 10 + k,
                 "competency": "MF-01",
                 "requirements": [{"equipment_type": f"T{k}", "quantity": 1,
                                   "scope": "PER_GROUP"}]} for k in range(2, 8)]
    modules += [
        {"program": "P-NET", "number": 8, "name": "Сварка", "hours": 40, "competency": "MF-01",
         "requirements": [{"equipment_type": "T8", "quantity": 5, "scope": "PER_WORKPLACE"}]},
        {"program": "P-NET", "number": 9, "name": "Наставничество", "hours": 6,
         "competency": "MF-02", "min_staff": 2},
    ]
    return {
        "regions": [{"code": "52", "name": "Нижегородская область"}],
        "municipalities": [{"oktmo": A, "name": "Нижний Новгород", "region": "52"},
                           {"oktmo": B, "name": "Дзержинск", "region": "52"}],
        "organizations": [_org(H)] + [_org(o, B) for o in (PA, PB, PC, PD)],
        "sites": sites,
        "equipment_types": [{"code": f"T{k}", "name": f"Оборудование {k}"} for k in range(1, 9)],
        "equipment": equipment,
        "competencies": [{"code": "MF-01", "name": "Сварочные технологии"},
                         {"code": "MF-02", "name": "Наставничество"}],
        "staff": staff,
        "programs": [{"code": "P-NET", "name": "Сварщик (сетевая форма)", "type": "SECTORAL",
                      "hours": 200, "organization": inn(H), "network": True}],
        "modules": modules,
        "agreements": [{"base_organization": inn(H), "number": "7", "kind": "PARTNERSHIP",
                        "subject": "Сотрудничество", "signed_on": "2025-01-10",
                        "valid_from": "2025-01-10",
                        "parties": [{"organization": inn(H), "role": "BASE"},
                                    {"organization": inn(PB), "role": "PARTICIPANT"}]}],
    }


@pytest.fixture
def graph(db):
    write_all(db, region())
    return db


def plan(driver, **kw):
    kw.setdefault("cohort", 10)
    kw.setdefault("start", START)
    kw.setdefault("end", END)
    with driver.session() as s:
        return s.execute_read(lambda tx: run_plan(tx, plan_network_program("P-NET", inn(H), **kw)))


def _placement(p):
    return {a.module_number: int(a.organization[2:9]) for a in p.assignments}


def test_two_partners_where_greedy_takes_three(graph):
    p, _ = plan(graph)
    assert p.exact
    assert _placement(p) == {1: H, 2: PA, 3: PA, 4: PA, 5: PB, 6: PB, 7: PB}
    assert sorted(p.partners) == [inn(PA), inn(PB)]
    home = p.assignments[0]
    assert (home.site, home.role) == (f"{inn(H)}:MAIN", "BASE")
    assert home.staff[0].full_name == f"Мастер {H}" and home.equipment[0].uid == f"{inn(H)}:H-1"
    # the same data through the documented greedy heuristic takes C first, then A and B
    with graph.session() as s:
        data = s.execute_read(lambda tx: run_plan(tx, fetch_input("P-NET", inn(H), START)))
    greedy = solve(data, 10, start=START, end=END, exact_limit=0)
    assert not greedy.exact and sorted(greedy.partners) == sorted(inn(o) for o in (PA, PB, PC))


def test_candidate_sites_come_from_the_regions_stock_index(graph):
    """The planner reads the home region's stock of each needed type through one seek of the
    STOCKS (type, region, municipality) index, not every site stocking the type."""
    from graph.planning.reads import PLAN_INPUT_CYPHER, _input_params

    params = _input_params("P-NET", inn(H), START)
    ops = plan_operators(graph.execute_query("EXPLAIN " + PLAN_INPUT_CYPHER, params).summary.plan)
    assert any(op == "DirectedRelationshipIndexSeek" and "STOCKS(type, region, municipality)"
               in d for op, d in ops), ops


def test_unplaceable_modules_name_the_requirement(graph):
    p, _ = plan(graph)
    reasons = {u.module_number: u.reasons for u in p.unplaced}
    assert sorted(reasons) == [8, 9]
    (eq,) = reasons[8]
    assert (eq.kind, eq.equipment_type, eq.required, eq.best_available) == ("EQUIPMENT", "T8",
                                                                            50, 20)
    assert "требуется 50" in eq.message
    (st,) = reasons[9]
    assert (st.kind, st.required, st.best_available) == ("STAFF", 2, 1)
    assert "MF-02" in st.message
    # with a cohort of 4 the 20 units of T8 suffice, and D joins as a third partner
    p4, _ = plan(graph, cohort=4)
    assert _placement(p4)[8] == PD and [u.module_number for u in p4.unplaced] == [9]
    # capacity: 30 learners fit nowhere (25 workplaces at most)
    p30, _ = plan(graph, cohort=30)
    assert {r.kind for u in p30.unplaced for r in u.reasons} >= {"CAPACITY"}
    assert p30.assignments == ()


def test_max_partners_keeps_most_modules(graph):
    p, drafts = plan(graph, max_partners=1)
    assert sorted(p.partners) == [inn(PC)] and len(drafts) == 1
    limited = sorted(u.module_number for u in p.unplaced
                     if u.reasons[0].kind == "PARTNER_LIMIT")
    assert limited == [4, 7]
    p0, drafts0 = plan(graph, max_partners=0)
    assert p0.partners == [] and drafts0 == [] and _placement(p0) == {1: H}


def test_agreement_fields(graph):
    _, drafts = plan(graph)
    by_partner = {d.participant.organization: d for d in drafts}
    a = by_partner[inn(PA)]
    assert (a.base.organization, a.base.role, a.base.role_label) == (
        inn(H), "BASE", "Базовая организация")
    assert (a.participant.role, a.participant.role_label) == ("PARTICIPANT",
                                                              "Организация-участник")
    assert (a.program, a.program_name, a.learners, a.start, a.end) == (
        "P-NET", "Сварщик (сетевая форма)", 10, START, END)
    assert a.base.modules == ((1, "Охрана труда", 8),) and a.base.hours == 8
    assert [m[0] for m in a.participant.modules] == [2, 3, 4] and a.participant.hours == 12 + 13 + 14
    assert a.participant.sites == ((f"{inn(PA)}:W", f"Мастерская {PA}"),)
    assert [(g.type, g.name, g.quantity) for g in a.participant.equipment] == [
        (f"T{k}", f"Станок T{k}", 1) for k in (2, 3, 4)]
    assert [s.full_name for s in a.participant.staff] == [f"Мастер {PA}"]
    assert a.existing_agreements == ()
    (existing,) = by_partner[inn(PB)].existing_agreements
    assert (existing.uid, existing.label) == (f"{inn(H)}:7", "№ 7 от 10.01.2025")


def test_prefers_partner_with_agreement_then_distance(graph):
    # B can now take modules 2-7 alone: one partner instead of two
    write_all(graph, {"equipment": [
        {"organization": inn(PB), "inventory_number": f"B-{k}", "type": f"T{k}", "site": "W",
         "quantity": 1} for k in (2, 3, 4)]})
    p, _ = plan(graph)
    assert p.partners == [inn(PB)]
    # C can too and is nearer, but B has an agreement with the home organization
    write_all(graph, {"equipment": [
        {"organization": inn(PC), "inventory_number": f"C-{k}", "type": f"T{k}", "site": "W",
         "quantity": 1} for k in (4, 7)]})
    p, _ = plan(graph)
    assert p.partners == [inn(PB)]
    with graph.session() as s:
        s.run("MATCH (a:PartnerAgreement) SET a.retiredAt = datetime()").consume()
    p, _ = plan(graph)
    # without B's agreement the nearer C wins (B ~34 km, C ~21 km from the main site)
    assert p.partners == [inn(PC)]


def test_errors_are_clear(graph):
    with graph.session() as s:
        with pytest.raises(PlanningError, match="не найдена"):
            s.execute_read(lambda tx: run_plan(tx, plan_network_program("NOPE", inn(H), 10)))
        with pytest.raises(PlanningError, match="базовая организация"):
            s.execute_read(lambda tx: run_plan(tx, plan_network_program("P-NET", inn(99), 10)))
    with pytest.raises(PlanningError, match="раньше"):
        plan(graph, start=END, end=START)


def _counts(driver):
    records, _, _ = driver.execute_query(
        "MATCH (n) WHERE n:NetworkPlan OR n:PlanAssignment WITH count(n) AS nodes "
        "OPTIONAL MATCH (:NetworkPlan)-[r1]->() WITH nodes, count(r1) AS r1 "
        "OPTIONAL MATCH (:PlanAssignment)-[r2]->() RETURN nodes, r1, count(r2) AS r2")
    return tuple(records[0].values())


def test_plan_save_list_status_and_docx(graph):
    p, _ = plan(graph)
    with graph.session() as s:
        uid = s.execute_write(lambda tx: run_plan(tx, save_plan(p)))
        counts = _counts(graph)
        assert counts == (1 + 7, 2 + 7, 7 * 3)
        assert s.execute_write(lambda tx: run_plan(tx, save_plan(p))) == uid  # idempotent
        assert _counts(graph) == counts
        records, _, _ = graph.execute_query(
            "MATCH (:NetworkPlan {uid: $u})-[:HAS_ASSIGNMENT]->(x)-[:AT_SITE]->(s), "
            "(x)-[:FOR_MODULE]->(m) RETURN m.number AS n, s.uid AS s ORDER BY n", u=uid)
        assert [(r["n"], r["s"]) for r in records][:2] == [(1, f"{inn(H)}:MAIN"),
                                                           (2, f"{inn(PA)}:W")]

        page = s.execute_read(lambda tx: run_plan(tx, load_plans(PlanFilter(program="P-NET"))))
        plans, more = page.plans, page.has_next_page
        assert [(x.uid, x.status, len(x.assignments)) for x, _ in plans] == [(uid, "DRAFT", 7)]
        assert not more and plans[0][0].start == START
        assert [u.module_number for u in plans[0][0].unplaced] == [8, 9]
        assert len(plans[0][1]) == 2

        with pytest.raises(PlanningError, match="только из статуса"):
            s.execute_write(lambda tx: run_plan(tx, set_plan_status(uid, "RUNNING")))
        s.execute_write(lambda tx: run_plan(tx, set_plan_status(uid, "AGREED")))
        with pytest.raises(PlanningError, match="только проект"):
            s.execute_write(lambda tx: run_plan(tx, save_plan(p)))
        s.execute_write(lambda tx: run_plan(tx, set_plan_status(uid, "RUNNING")))
        plans = s.execute_read(
            lambda tx: run_plan(tx, load_plans(PlanFilter(status="RUNNING")))).plans
        assert [x.uid for x, _ in plans] == [uid]

        stored, drafts = s.execute_read(lambda tx: run_plan(tx, load_plan(uid)))
    assert [d.participant.organization for d in drafts] == [inn(PA), inn(PB)]
    doc = Document(io.BytesIO(agreements_docx(stored, drafts)))
    text = "\n".join(par.text for par in doc.paragraphs)
    assert text.count("ДОГОВОР") == 2
    assert f"Организация {H} (ИНН {inn(H)}) — базовая организация" in text
    assert f"Организация {PA} (ИНН {inn(PA)}) — организация-участник" in text
    assert "«Сварщик (сетевая форма)» (код P-NET, 200 ч)" in text
    assert "Численность обучающихся: 10 чел." in text
    assert "Срок реализации: с 01.09.2027 по 25.12.2027." in text
    assert "Оборудование: Станок T2 — 1 шт.; Станок T3 — 1 шт.; Станок T4 — 1 шт." in text
    assert f"Педагогические работники: Мастер {PA}" in text
    assert "Действующие соглашения сторон: № 7 от 10.01.2025" in text
    assert f"{inn(H)}:7" not in text
    rows = [[c.text for c in row.cells] for row in doc.tables[0].rows]
    assert rows[0] == ["Сторона", "№", "Модуль", "Часы"]
    assert [f"Организация {H}", "1", "Охрана труда", "8"] in rows
    assert [f"Организация {PA}", "4", "Модуль 4", "14"] in rows
    assert [f"Организация {PA}", "", "Итого", "39"] in rows


# ---------------------------------------------------------------- exactness vs brute force


def _brute(modules, cand, agreed, max_partners):
    orgs = sorted({o for m in modules for o in cand[m]})
    limit = len(orgs) if max_partners is None else max_partners
    best = None
    for k in range(min(limit, len(orgs)) + 1):
        for chosen in itertools.combinations(orgs, k):
            chosen = set(chosen)
            skipped = [m for m in modules if not cand[m].keys() & chosen]
            dist = sum(min(d for o, d in cand[m].items() if o in chosen)
                       for m in modules if m not in skipped)
            cost = (len(skipped), len(chosen), len(chosen - agreed), round(dist, 6))
            best = cost if best is None or cost < best else best
    return best


@pytest.mark.parametrize("seed", range(300))
def test_exact_choice_matches_brute_force(seed):
    rnd = random.Random(seed)
    orgs = [f"o{i}" for i in range(rnd.randint(2, 7))]
    modules = [f"m{i:02d}" for i in range(rnd.randint(1, 12))]
    cand = {}
    for m in modules:
        able = [o for o in orgs if rnd.random() < 0.3] or [rnd.choice(orgs)]
        cand[m] = {o: float(rnd.randint(1, 40)) for o in able}
    agreed = {o for o in orgs if rnd.random() < 0.3}
    max_partners = rnd.choice([None, None, 1, 2, 3])
    got = choose_exact(modules, cand, agreed, max_partners)
    assert got.cost == _brute(modules, cand, agreed, max_partners)
    greedy = choose_greedy(modules, cand, agreed, max_partners)
    assert greedy.cost >= got.cost


def test_greedy_is_not_exact_on_the_classic_case():
    cand = {m: {} for m in "123456"}
    for org, ms in {"A": "123", "B": "456", "C": "1245"}.items():
        for m in ms:
            cand[m][org] = 1.0
    assert choose_exact(list(cand), cand, set(), None).partners == {"A", "B"}
    assert choose_greedy(list(cand), cand, set(), None).partners == {"A", "B", "C"}
