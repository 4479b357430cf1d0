"""Statements composed from parts (no text surgery): each one Neo4j accepts (EXPLAIN on the
real server), and the parts land where they belong."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from graph import kpi as K
from graph.privacy import BY_LABEL
from graph.reads import TRAVERSALS, traversal_cypher


@pytest.mark.parametrize("name", sorted(TRAVERSALS))
def test_every_traversal_is_valid_plain_and_scoped(driver, name):
    plain = traversal_cypher(name)
    params = {"uids": ["x"], "limit": 1, "include_retired": False,
              "people": {"all": False, "region": None, "organizations": []}}
    driver.execute_query("EXPLAIN " + plain, params)
    assert "($include_retired OR t.retiredAt IS NULL)" in plain
    if TRAVERSALS[name].target in BY_LABEL:
        scoped = traversal_cypher(name, True)
        driver.execute_query("EXPLAIN " + scoped, params)
        where = scoped[scoped.index(" WHERE "):scoped.index("RETURN")]
        assert "$people" in where and "$include_retired" in where  # both filter the targets


def test_the_dashboard_statement_for_every_selection(driver):
    params = K.dashboard_params("52", K.parse_period("2025"), dt.date(2025, 12, 31))
    for n in range(len(K.PARTS) + 1):
        for parts in itertools.combinations(K.PARTS, n):
            for aggregated, single in itertools.product((True, False), repeat=2):
                driver.execute_query("EXPLAIN " + K.dashboard_cypher(
                    parts, aggregated=aggregated, single=single), params)
    whole = K.dashboard_cypher(K.PARTS, aggregated=False)
    kept = [f"rows{i}" for i in range(len(K.KPI_PARTS))]
    assert f"RETURN {' + '.join(kept)} AS kpiRows" in whole
