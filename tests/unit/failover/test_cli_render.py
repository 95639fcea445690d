"""`erpops failover` renders what its engines return: tables for people, JSON for machines, progress on stderr,
and the one exit-code table (0 ok, 1 failed, 2 usage), with the engines swapped for fakes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from erpops.cli import main
from failover import campaign, isolation, promote, saved_lab
from failover.engines import ENGINES
from failover.engines.base import HaEngine, Member
from failover.engines.fake import FakeCluster, FakeEngine, FakeLoad
from failover.promote import PromoteResult
from failover.saved_lab import LabDown, LabUp
from failover.settings import FailoverSettings
from failover.types import EngineName, FailoverFailed, Role


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeCluster:
    (tmp_path / "erpops.toml").write_text("")
    monkeypatch.setenv("ERPOPS_CONFIG", str(tmp_path / "erpops.toml"))
    monkeypatch.setenv("ERPOPS_FAILOVER__WARMUP_SECONDS", "0")
    monkeypatch.setenv("ERPOPS_FAILOVER__SETTLE_SECONDS", "0")
    monkeypatch.setenv("ERPOPS_FAILOVER__REPORT_DIR", str(tmp_path / "reports"))
    cluster = FakeCluster()

    def build(settings: FailoverSettings, skip_checkpoint: bool, base: Path) -> HaEngine:
        return FakeEngine(cluster)

    monkeypatch.setitem(ENGINES, EngineName.MANUAL, build)
    monkeypatch.setattr(campaign, "builtin_writer", lambda conninfo, run, n: FakeLoad(cluster, n))
    monkeypatch.setattr(isolation, "lift_leftovers", list)
    monkeypatch.setattr(campaign, "raise_alert", lambda results: f"{len(results)} alert event(s) raised (fake)")
    return cluster


def test_a_passing_drill_prints_its_timeline_and_summary_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["failover", "drill", "--no-erp-check"], capsys)
    assert code == 0, err
    assert "drill 1: kill a → b — ok" in out
    assert "summary over 1 drills (seconds after the fault)" in out
    assert "acknowledged 12, lost 0, in doubt 1; 1 of 1 drills passed their targets" in out
    assert "lab: starting the manual lab in" in err and "  promotion: fake promotion" in err


def test_json_is_one_document_on_stdout_and_quiet_silences_the_progress(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["failover", "drill", "--no-erp-check", "--repeat", "2", "--json", "--quiet"], capsys)
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert doc["ok"] is True and doc["reason"] == "2 of 2 drills passed their targets"
    assert doc["summary"]["drills"] == 2 and len(doc["reports"]) == 2
    assert doc["alert"] == "no alert: every drill passed" and doc["lifted_leftovers"] == []


def test_a_failed_drill_exits_1_with_its_reason_and_says_what_happened_to_the_alert(
    quick: FakeCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    quick.split_brain = "a accepted a write after fencing"
    code, out, err = run(["failover", "drill", "--no-erp-check", "--json"], capsys)
    assert code == 1
    assert json.loads(out)["drills"][0]["failures"] == ["split brain: a accepted a write after fencing"]
    assert err.splitlines()[-2:] == ["1 alert event(s) raised (fake)", "error: 1 of 1 drills failed their targets"]


@pytest.mark.parametrize("argv", [
    ["failover", "drill", "--repeat", "0"],
    ["failover", "drill", "--fault", "meteor"],
    ["failover", "drill", "--engine", "heartbeat"],
    ["failover", "drill", "--clients", "0"],
    ["failover", "status"],
    ["failover", "promote", "--member", "node2"],
    ["failover", "init", "--engine", "manual"],
])
def test_usage_errors_exit_2_without_a_traceback(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert "Traceback" not in err


def test_promote_prints_each_step_then_the_verdict(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    done = PromoteResult("node2", 5502, "lab x", 2, 0.4, ["node2 answers [in recovery]", "promoted"],
                         "node2 is the primary on timeline 2 (0.40 s)")
    monkeypatch.setattr(promote, "lab_target", lambda lab, member: ("target", lab, member))
    monkeypatch.setattr(promote, "promote", lambda target, force, strict, timeout: done)
    code, out, _ = run(["failover", "promote", "--lab", str(tmp_path)], capsys)
    assert code == 0
    # brackets in reasons are text, not rich markup
    assert out.splitlines() == ["  node2 answers [in recovery]", "  promoted", done.reason]
    code, out, _ = run(["failover", "promote", "--lab", str(tmp_path), "--json"], capsys)
    assert json.loads(out) == {"member": "node2", "port": 5502, "source": "lab x", "timeline": 2, "seconds": 0.4,
                               "steps": done.steps, "reason": done.reason}


def test_a_refused_promotion_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def refuse(target: object, force: bool, strict: bool, timeout: float) -> PromoteResult:
        raise FailoverFailed("nothing to promote: node2 already accepts writes (it is not in recovery)")

    monkeypatch.setattr(promote, "lab_target", lambda lab, member: None)
    monkeypatch.setattr(promote, "promote", refuse)
    code, out, err = run(["failover", "promote", "--lab", str(tmp_path)], capsys)
    assert (code, out) == (1, "")
    assert err == "error: nothing to promote: node2 already accepts writes (it is not in recovery)\n"


def test_status_lab_up_and_lab_down_render_their_results(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    members = [Member("node1", 5501, Role.PRIMARY, 11, 1, None, None, "answers"),
               Member("node2", 5502, Role.STANDBY, 12, 1, "sync", 0, "streaming, sync")]
    monkeypatch.setattr(saved_lab, "lab_status", lambda lab: members)
    monkeypatch.setattr(saved_lab, "lab_up", lambda parent: LabUp(tmp_path / "lab.json", "host=x", []))
    monkeypatch.setattr(saved_lab, "stop_saved_lab", lambda lab: LabDown(tmp_path, [11, 12]))
    code, out, _ = run(["failover", "status", "--lab", str(tmp_path)], capsys)
    assert code == 0 and "failover topology" in out and "streaming, sync" in out
    code, out, _ = run(["failover", "status", "--lab", str(tmp_path), "--json"], capsys)
    assert [m["sync_state"] for m in json.loads(out)["members"]] == [None, "sync"]
    code, out, _ = run(["failover", "lab", "up"], capsys)
    assert out == f"lab ready: {tmp_path / 'lab.json'}\nclients: host=x\n"
    code, out, _ = run(["failover", "lab", "down", "--lab", str(tmp_path)], capsys)
    assert out == f"stopped 11, 12; removed {tmp_path}\n"
