"""Drills under the o2c load: sales orders through the real ERP API on the lab's multi-host URL."""

from __future__ import annotations

import psutil
import pytest

from failover.drill import DrillConfig, run_drill
from failover.engines.manual import ManualEngine
from failover.lab import Lab
from failover.o2c import ApiLoad, o2c_factory
from failover.types import Fault

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


def test_isolation_under_the_erp_api_keeps_every_201_order_and_stops_the_api(lab: Lab) -> None:
    engine = ManualEngine(lab)
    loads: list[ApiLoad] = []
    factory = o2c_factory(engine)

    def make(conninfo: str, run: str, clients: int) -> ApiLoad:
        loads.append(factory(conninfo, run, clients))  # type: ignore[arg-type]
        return loads[-1]

    config = DrillConfig(fault=Fault.ISOLATE, clients=3, warmup=1.0, settle=0.5, erp_check=True)
    result = run_drill(engine, config, make)
    assert result.ok, result.failures
    assert result.rpo == 0 and result.attempts["acked"] > 20
    # Every 201 was looked up on the new primary by its idempotency key and its order id.
    load = loads[0]
    acked = {(a.client, a.seq) for a in load.attempts if a.outcome == "acked"}
    assert acked and acked <= load.committed(
        f"postgresql+psycopg://postgres@127.0.0.1:{lab.node(result.new_primary).port}/postgres"
    )
    assert len(load.orders) == len(acked)
    assert result.attempts["in_doubt_committed"] <= result.attempts["in_doubt"]
    assert result.seconds["business_rto"] < 15
    assert result.check is not None and result.check["ok"]
    assert result.rejoin is not None and result.rejoin.ok
    assert load.pid is None and len(load.api_pids) == 1  # stopped by its PID in the drill's finally block
    assert not psutil.pid_exists(load.api_pids[0])
