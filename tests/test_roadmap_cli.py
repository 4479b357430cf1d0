"""`hub roadmap init|overdue` against the real Neo4j."""

from hub.cli import main
from tests.factories import seed_region


def test_init_and_overdue(db, capsys):
    seed_region(db)
    assert main(["roadmap", "init", "--region", "52", "--horizon", "2020-12-31"]) == 0
    assert "66 мероприятий" in capsys.readouterr().out
    records, _, _ = db.execute_query(
        "MATCH (c:ControlPoint {region: '52', activity: 6}) RETURN count(c) AS n")
    assert records[0]["n"] == 4  # 2020-03-31 … 2020-12-31
    assert main(["roadmap", "overdue", "--region", "52", "--as-of", "2019-10-02"]) == 0
    out = capsys.readouterr().out
    assert "Просрочено на 2019-10-02: 7 из 66" in out and " 58. " in out and " 27. " in out
    assert main(["roadmap", "init", "--region", "77"]) == 1
    assert "регион 77 не найден" in capsys.readouterr().err
