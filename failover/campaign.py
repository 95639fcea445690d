"""A drill campaign: a fresh lab, `repeat` drills in a row on it, reports written, an alert when one failed.

This is what `erpops failover drill` runs; the CLI only parses, calls `run_campaign` and renders its result.
The lab lives inside a `LabGuard`, so its servers, agents, isolation tables and directory are gone when the
campaign ends, also when SIGTERM (a CI timeout) or Ctrl-C stops it half-way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from failover import isolation
from failover.cleanup import LabGuard
from failover.drill import DrillConfig, DrillResult, LoadFactory, alert_failures, builtin_writer, run_drill
from failover.engines import build_engine
from failover.engines.base import HaEngine
from failover.report import report_document, write_reports
from failover.settings import FailoverSettings
from failover.timeline import Event
from failover.types import EngineName, FailoverUsage, Fault, LoadName, Progress


@dataclass(frozen=True)
class CampaignRequest:
    """What the operator asked for; `None` fields come from the failover settings."""

    engine: EngineName = EngineName.MANUAL
    fault: Fault = Fault.KILL
    repeat: int = 1
    load: LoadName = LoadName.BUILTIN
    clients: int | None = None
    report_dir: Path | None = None
    skip_checkpoint: bool = False
    ballast_rows: int = 0
    erp_check: bool = True
    alert: bool = True


@dataclass
class CampaignResult:
    """Every drill, the report document and its files, and the sentences that say what happened."""

    ok: bool
    reason: str
    results: list[DrillResult]
    document: dict[str, Any]
    reports: tuple[Path, Path]
    alert: str
    lifted_leftovers: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return self.document | {"reason": self.reason, "reports": [str(p) for p in self.reports],
                                "alert": self.alert, "lifted_leftovers": self.lifted_leftovers}


def _quiet(message: str) -> None:
    return None


def drill_config(request: CampaignRequest, settings: FailoverSettings) -> DrillConfig:
    """One drill's fault, load size, timers and targets: the request over the settings."""
    return DrillConfig(
        fault=request.fault, clients=request.clients or settings.clients, warmup=settings.warmup_seconds,
        settle=settings.settle_seconds, recover_timeout=settings.recover_timeout,
        rejoin_timeout=settings.rejoin_timeout, rto_target=settings.rto_target,
        ballast_rows=request.ballast_rows, erp_check=request.erp_check,
    )


def run_campaign(request: CampaignRequest, settings: FailoverSettings, progress: Progress = _quiet) -> CampaignResult:
    """Run the campaign (see the module docstring) and return its verdict with reasons; a failed drill is a
    result (`ok` False), a lab that cannot start raises `LabError`."""
    report_dir = request.report_dir or settings.report_dir
    _writable(report_dir)  # before the lab, not after the drills: a bad --report-dir wastes no drill
    lifted = isolation.lift_leftovers()
    if lifted:
        progress(f"lifted isolation tables left by killed drills: {', '.join(lifted)}")
    config = drill_config(request, settings)
    results: list[DrillResult] = []
    with LabGuard(settings.lab_dir, progress) as guard:
        progress(f"lab: starting the {request.engine} lab in {guard.base}")
        ha = guard.adopt(build_engine(request.engine, settings, request.skip_checkpoint, guard.base))
        progress(f"lab ready: {', '.join(f'{m.name} {m.role} on port {m.port}' for m in ha.members())}")
        load = _load_factory(request.load, ha, report_dir)
        for i in range(request.repeat):
            progress(f"drill {i + 1}/{request.repeat}: {request.fault} on {request.engine}")
            results.append(run_drill(ha, config, load, _marks(progress)))
        progress("drills done: stopping the lab")
    document = report_document(results, {"business_rto_seconds": config.rto_target, "lost_acknowledged": 0})
    stem = f"drill-{request.engine}-{request.fault}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}"
    paths = write_reports(document, report_dir, stem)
    failed = sum(not r.ok for r in results)
    reason = (f"{len(results)} of {len(results)} drills passed their targets" if not failed
              else f"{failed} of {len(results)} drills failed their targets")
    alert = raise_alert(results) if failed and request.alert else "no alert: " + (
        "every drill passed" if not failed else "--no-alert")
    return CampaignResult(not failed, reason, results, document, paths, alert, lifted)


def _writable(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".erpops-write-probe"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise FailoverUsage(f"cannot write reports to {directory}: {exc.strerror or exc}; "
                            "pass a writable --report-dir") from exc


def _load_factory(load: LoadName, ha: HaEngine, report_dir: Path) -> LoadFactory:
    if load is LoadName.O2C:
        from failover.o2c import o2c_factory

        report_dir.mkdir(parents=True, exist_ok=True)
        return o2c_factory(ha, report_dir)
    return builtin_writer


def _marks(progress: Progress) -> Callable[[Event], None]:
    def told(event: Event) -> None:
        progress(f"  {event.mark}: {event.reason}")

    return told


def raise_alert(results: list[DrillResult]) -> str:
    """Raise a `FailoverDrillFailed` event per failed drill in the ERP database; says what happened."""
    from erpcore.db import make_engine

    try:
        target = make_engine()
        try:
            count = alert_failures(target, results)
        finally:
            target.dispose()
    except Exception as exc:
        return f"alert event not recorded: {type(exc).__name__}: {exc}"
    return f"{count} FailoverDrillFailed alert event(s) raised"
