"""The probes and the promotion's refusals against the PostgreSQL server the suite uses (a primary, no cluster)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from failover import pgsql, promote
from failover.promote import Server, dsn_target
from failover.types import FailoverFailed
from tests.dbhelpers import pg_url

pytestmark = [pytest.mark.pg]
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def primary() -> Server:
    url = pg_url()
    if url is None:
        pytest.skip("no PostgreSQL answers (set ERPOPS_TEST_PG_URL)")
    port = int(conninfo_to_dict(url).get("port") or 5432)
    return Server("suite", url, port)


def test_a_primary_answers_the_probe_and_is_not_in_recovery(primary: Server) -> None:
    assert pgsql.tcp_probe(primary.port, 2.0) is None
    assert pgsql.in_recovery(primary) is False
    assert pgsql.current_timeline(primary) >= 1
    assert pgsql.checkpoint_timeline(primary) <= pgsql.current_timeline(primary)
    assert all(r.replay_lag_bytes >= 0 for r in pgsql.replicas(primary))
    assert pgsql.query(primary, "SELECT 1 + 1") == [(2,)]


def test_a_statement_over_its_timeout_is_cancelled_by_the_server(primary: Server) -> None:
    import psycopg

    with pytest.raises(psycopg.errors.QueryCanceled):
        pgsql.query(primary, "SELECT pg_sleep(2)", timeout=0.2)


def test_waiting_for_a_sync_standby_that_never_comes_says_what_it_saw(primary: Server) -> None:
    with pytest.raises(FailoverFailed, match=r"^nobody is not a synchronous standby after 0 s \(seen: "):
        pgsql.wait_sync_standby(primary, "nobody", timeout=0.3)


def test_the_write_probe_commits_and_leaves_nothing_behind(primary: Server) -> None:
    before = pgsql.query(primary, "SELECT count(*) FROM pg_class WHERE relname LIKE 'erpops%%'")
    promote._write_probe(primary, 5)
    assert pgsql.query(primary, "SELECT count(*) FROM pg_class WHERE relname LIKE 'erpops%%'") == before


def test_a_primary_has_nothing_to_promote(primary: Server) -> None:
    with pytest.raises(FailoverFailed, match=r"^nothing to promote: \S+ already accepts writes"):
        promote.promote(dsn_target(primary.dsn))


def test_the_cli_refuses_to_promote_a_primary_in_one_line(primary: Server, tmp_path: Path) -> None:
    (tmp_path / "erpops.toml").write_text("")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ERPOPS_CONFIG": str(tmp_path / "erpops.toml")}
    done = subprocess.run([sys.executable, "-m", "erpops", "failover", "promote", "--standby", primary.dsn],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("error: nothing to promote: ") and done.stderr.count("\n") == 1
    assert done.stdout == ""
