"""Business RTO of failover on this machine: erpops' engines beside pg_auto_failover's defaults, same run.

Rows (each `repeats` drills under the built-in writer, RPO must stay 0):
- node crash (kill -9 of PostgreSQL and its agent): pg_auto_failover with its defaults (the baseline),
  pg_auto_failover tuned, Patroni with the configuration erpops generates, and the manual runbook;
- PostgreSQL-only crash: Patroni, and the manual runbook tuned and with the timers of a hand-written script;
- hang: the manual runbook, tuned and with script timers;
- isolation (nftables cut of the primary's ports): Patroni (its PostgreSQL, REST API and own etcd client
  port cut) and the manual runbook; the "iso ack" column (acks from the isolated node) must stay 0.

    .venv/bin/python -m bench.failover_rto [repeats]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from failover.cleanup import LabGuard
from failover.drill import DrillConfig, run_drill, summarize_drills
from failover.engines.base import HaEngine
from failover.types import Fault


def manual(tuned: bool, base: Path) -> HaEngine:
    from failover.engines.manual import ManualEngine, ManualPolicy
    from failover.lab import create_pair

    policy = ManualPolicy() if tuned else ManualPolicy(probe_interval=1.0, probe_timeout=2.0, failure_threshold=3)
    return ManualEngine(create_pair(base), policy)


def patroni(base: Path) -> HaEngine:
    from failover.engines.patroni import PatroniEngine
    from failover.patroni_lab import create_patroni_lab

    return PatroniEngine(create_patroni_lab(base=base))


def auto_failover(tuned: bool, base: Path) -> HaEngine:
    from failover.autofailover_lab import create_autofailover_lab
    from failover.engines.pg_auto_failover import AutoFailoverEngine

    return AutoFailoverEngine(create_autofailover_lab(tuned=tuned, base=base))


ROWS: list[tuple[str, Fault, Callable[[Path], HaEngine]]] = [
    ("pg_auto_failover defaults", Fault.CRASH, lambda base: auto_failover(False, base)),
    ("pg_auto_failover tuned", Fault.CRASH, lambda base: auto_failover(True, base)),
    ("patroni (erpops config)", Fault.CRASH, patroni),
    ("patroni (erpops config)", Fault.KILL, patroni),
    ("patroni (erpops config)", Fault.ISOLATE, patroni),
    ("manual (erpops runbook)", Fault.CRASH, lambda base: manual(True, base)),
    ("manual, script timers", Fault.KILL, lambda base: manual(False, base)),
    ("manual (erpops runbook)", Fault.KILL, lambda base: manual(True, base)),
    ("manual, script timers", Fault.HANG, lambda base: manual(False, base)),
    ("manual (erpops runbook)", Fault.HANG, lambda base: manual(True, base)),
    ("manual (erpops runbook)", Fault.ISOLATE, lambda base: manual(True, base)),
]


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    started = time.monotonic()
    config = DrillConfig(clients=4, warmup=0.5, settle=0.3, recover_timeout=120, rejoin_timeout=120, rto_target=120)
    print(f"failover business RTO, {repeats} drills per row (seconds from the fault)")
    print(f"{'fault':<6} {'engine':<27} {'rto p50':>8} {'rto p95':>8} {'in sync p50':>12} {'lost':>5} {'iso ack':>7} {'passed':>7}")
    baseline: float | None = None
    for label, fault, factory in ROWS:
        with LabGuard() as guard:  # every lab stopped and removed, also on Ctrl-C
            engine = guard.adopt(factory(guard.base))
            results = [run_drill(engine, replace(config, fault=fault)) for _ in range(repeats)]
        summary = summarize_drills(results)
        rto, sync = summary["seconds"]["business_rto"], summary["seconds"]["back_in_sync"]
        baseline = baseline or rto["p50"]
        ratio = f"  x{baseline / rto['p50']:.1f} faster than the baseline" if rto["p50"] and baseline else ""
        print(f"{fault:<6} {label:<27} {rto['p50']!s:>8} {rto['p95']!s:>8} {sync['p50']!s:>12} "
              f"{summary['lost_acknowledged']:>5} {sum(r.attempts.get('acked_by_isolated', 0) for r in results):>7} "
              f"{summary['passed']:>4}/{summary['drills']}{ratio}", flush=True)
    print(f"baseline: pg_auto_failover defaults, node crash, measured above; bench wall time "
          f"{time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    from opskit.signals import sigterm_unwinds

    with sigterm_unwinds():  # SIGTERM stops the bench as Ctrl-C does: every lab cleaned up
        main()
