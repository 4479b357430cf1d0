"""The local Neo4j runtime: a second real server on its own port and data directory."""

import socket

import pytest

from hub import neo4j_runtime as rt
from hub.cli import main
from hub.settings import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def own_settings(tmp_path, settings):
    return Settings(neo4j_home=tmp_path / "neo4j", neo4j_port=_free_port(), neo4j_heap="256m",
                    neo4j_pagecache="64m", neo4j_cache=settings.neo4j_cache,
                    neo4j_version=settings.neo4j_version,
                    neo4j_config="dbms.cypher.min_replan_interval=1h; "
                                 "dbms.cypher.statistics_divergence_threshold=1.0")


def test_start_answers_is_idempotent_and_stop_frees_port(own_settings):
    try:
        started = rt.start(own_settings, quiet=True)
        assert started.running and started.pid
        assert rt.bolt_ready(own_settings)
        again = rt.start(own_settings, quiet=True)
        assert again.message.startswith("already running") and again.pid == started.pid
        conf = (own_settings.neo4j_home / "conf" / "neo4j.conf").read_text()
        assert "server.http.enabled=false" in conf
        assert f"server.bolt.listen_address=127.0.0.1:{own_settings.neo4j_port}" in conf
        # HUB_NEO4J_CONFIG lines, each its own line (and accepted: the server started)
        assert "\ndbms.cypher.min_replan_interval=1h\n" in conf
        assert "\ndbms.cypher.statistics_divergence_threshold=1.0\n" in conf
    finally:
        stopped = rt.stop(own_settings)
    assert not stopped.running
    assert not rt.port_open(own_settings.neo4j_port)
    assert rt.status(own_settings).message == "Neo4j is not running"


def test_bad_port_is_refused_clearly(own_settings):
    bad = own_settings.model_copy(update={"neo4j_port": 80})
    with pytest.raises(rt.LocalNeo4jError, match="HUB_NEO4J_PORT=80 is not a usable port"):
        rt.start(bad)


def test_port_taken_by_another_process(own_settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", own_settings.neo4j_port))
        s.listen()
        with pytest.raises(rt.LocalNeo4jError, match="already in use by another process"):
            rt.start(own_settings)


def test_missing_java_names_what_to_install(own_settings, monkeypatch, capsys):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(rt.LocalNeo4jError, match="`java` not found.*HUB_NEO4J_URI"):
        rt.start(own_settings)
    monkeypatch.setenv("HUB_NEO4J_PORT", str(own_settings.neo4j_port))
    monkeypatch.setenv("HUB_NEO4J_HOME", str(own_settings.neo4j_home))
    from hub.settings import get_settings
    get_settings.cache_clear()
    try:
        assert main(["neo4j", "start"]) == 2
    finally:
        get_settings.cache_clear()
    assert "install Java 17+" in capsys.readouterr().err


def test_missing_maven_when_jars_are_not_cached(own_settings, tmp_path, monkeypatch):
    fresh = own_settings.model_copy(update={"neo4j_cache": tmp_path / "empty-cache"})
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(rt.LocalNeo4jError, match="`mvn` not found"):
        rt.ensure_jars(fresh)
