"""Business RTO of the manual engine: erpops' tuned runbook against an untuned one, same machine, same run.

The baseline is the same runbook with the timers a hand-written script usually has (a 1 s probe loop,
2 s connect timeouts, 3 failures in a row): it shows what the tuning buys. Both run kill -9 drills
(PostgreSQL only) and hang drills under the built-in writer and must lose no acknowledged commit.

    .venv/bin/python -m bench.failover_rto [repeats]
"""

from __future__ import annotations

import sys
import time

from failover.drill import DrillConfig, DrillResult, run_drill, summarize_drills
from failover.engines.manual import ManualEngine, ManualPolicy
from failover.lab import create_pair
from failover.types import Fault

TUNED = ManualPolicy()
BASELINE = ManualPolicy(probe_interval=1.0, probe_timeout=2.0, failure_threshold=3)


def drills(policy: ManualPolicy, fault: Fault, repeats: int) -> list[DrillResult]:
    engine = ManualEngine(create_pair(), policy)
    try:
        config = DrillConfig(fault=fault, clients=4, warmup=0.5, settle=0.3, rto_target=60)
        return [run_drill(engine, config) for _ in range(repeats)]
    finally:
        engine.close()


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    started = time.monotonic()
    print(f"failover RTO, manual engine, {repeats} drills per row (seconds from fault)")
    print(f"{'fault':<6} {'runbook':<9} {'rto p50':>8} {'rto p95':>8} {'in sync p50':>12} {'lost':>5} {'passed':>7}")
    for fault in (Fault.KILL, Fault.HANG):
        rows = {}
        for label, policy in (("baseline", BASELINE), ("erpops", TUNED)):
            summary = summarize_drills(drills(policy, fault, repeats))
            rto, sync = summary["seconds"]["business_rto"], summary["seconds"]["back_in_sync"]
            rows[label] = rto["p50"] or float("nan")
            print(f"{fault:<6} {label:<9} {rto['p50']:>8} {rto['p95']:>8} {sync['p50']!s:>12} "
                  f"{summary['lost_acknowledged']:>5} {summary['passed']:>4}/{summary['drills']}")
        print(f"{fault:<6} ratio     baseline/erpops business RTO p50 = {rows['baseline'] / rows['erpops']:.1f}x")
    print("pg_auto_failover and Patroni figures: not measured (those engines are not in this build)")
    print(f"bench wall time {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
