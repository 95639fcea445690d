"""The lab: a primary and a synchronous standby on loopback, torn down by PID."""

from __future__ import annotations

import psutil
import psycopg
import pytest

from failover import pgsql
from failover.lab import create_pair

pytestmark = [pytest.mark.cluster]


def test_pair_streams_synchronously_and_clients_find_the_primary() -> None:
    lab = create_pair()
    try:
        primary, standby = lab.nodes
        rows = pgsql.replicas(primary)
        assert [(r.application_name, r.state, r.sync_state) for r in rows] == [(standby.name, "streaming", "sync")]
        assert pgsql.in_recovery(standby) and not pgsql.in_recovery(primary)
        with psycopg.connect(lab.client_conninfo(), autocommit=True) as conn:
            port = conn.execute("SELECT inet_server_port()").fetchone()
        assert port is not None and port[0] == primary.port
        pids = [*primary.pids(), *standby.pids()]
        assert len(pids) > 4
    finally:
        lab.destroy()
    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in pids)
    assert not lab.base.exists()


def test_a_hung_primary_is_seen_by_the_ssl_probe_and_fencing_closes_its_port(lab) -> None:  # type: ignore[no-untyped-def]
    primary = lab.nodes[0]
    assert pgsql.tcp_probe(primary.port) is None
    primary.hang()
    assert "no answer" in (pgsql.tcp_probe(primary.port, timeout=0.3) or "")
    primary.fence()
    assert pgsql.tcp_probe(primary.port) == "connection refused"
    assert pgsql.try_write(primary) is not None
