"""The engines the CLI now only calls: recovery targets and their reach, scratch clean-up, verify verdicts."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backup import reach, views
from backup.errors import TargetUnreachable, UsageError
from backup.manifest import FileEntry, Manifest, file_key, manifest_key
from backup.reach import TxEnd, check_reachable, parse_target
from backup.scratch import check_parent, processes_of, reap, scratch_dir
from backup.sites.memory import MemorySite
from backup.verify import verify
from backup.walstream import StreamStats
from opskit.exitcodes import ExitCode

BACKUP_END = dt.datetime(2026, 3, 1, 11, 0, tzinfo=dt.UTC)
LAST = dt.datetime(2026, 3, 1, 12, 0, 0, 500000, tzinfo=dt.UTC)


@pytest.fixture
def shipped(monkeypatch: pytest.MonkeyPatch) -> list[TxEnd]:
    ends = [TxEnd("740", "COMMIT", BACKUP_END + dt.timedelta(minutes=5)), TxEnd("741", "ABORT", LAST)]

    def until_true(spool: Path, bin_dir: Path, until: object = None) -> list[TxEnd]:
        out = []
        for end in ends:  # as the real one: stop after the first record `until` accepts
            out.append(end)
            if callable(until) and until(end):
                break
        return out

    monkeypatch.setattr(reach, "tx_ends", until_true)
    return ends


def test_parse_target_takes_one_point_and_checks_its_form() -> None:
    assert parse_target().kind == "latest"
    assert parse_target(immediate=True).settings() == {"recovery_target": "immediate"}
    assert parse_target(time="2026-03-01T12:00:00+00:00").settings() == {
        "recovery_target_time": "2026-03-01T12:00:00+00:00"
    }
    assert parse_target(xid="740").value == "740" and parse_target(lsn="0/3000060").kind == "lsn"
    assert parse_target(name="before-update").describe() == "name before-update"
    with pytest.raises(UsageError, match="choose one of"):
        parse_target(time="2026-03-01T12:00:00", xid="1")
    with pytest.raises(UsageError, match="choose one of"):
        parse_target(name="x", immediate=True)
    for option, bad in (("time", "noon"), ("xid", "12a"), ("lsn", "0-1")):
        with pytest.raises(UsageError, match=f"--{option} '{bad}' is not a valid {option}"):
            parse_target(**{option: bad})


def test_a_time_before_the_last_shipped_commit_is_reachable(shipped: list[TxEnd]) -> None:
    reason = check_reachable("time", "2026-03-01T11:30:00+00:00", Path("/nowhere"), Path("/bin"), BACKUP_END)
    assert reason.startswith("WAL on the sites reaches 2026-03-01T11:30:00+00:00")


@pytest.mark.parametrize("when", ["2026-03-01T12:00:00.500000+00:00", "2026-03-01T13:00:00+00:00"])
def test_a_time_at_or_past_the_last_shipped_commit_is_not(shipped: list[TxEnd], when: str) -> None:
    # PostgreSQL stops a time target before the first commit stamped after it: at the last commit there is none.
    with pytest.raises(TargetUnreachable) as caught:
        check_reachable("time", when, Path("/nowhere"), Path("/bin"), BACKUP_END)
    message = caught.value.message
    assert "never reached a site" in message
    assert "the newest reachable time is 2026-03-01T12:00:00.499999+00:00" in message
    assert caught.value.exit_code == ExitCode.FAILED


def test_with_no_commit_after_the_backup_the_backup_end_is_all_there_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reach, "tx_ends", lambda spool, bin_dir, until=None: [])
    with pytest.raises(TargetUnreachable, match="restore with --immediate"):
        check_reachable("time", "2026-03-01T11:30:00+00:00", Path("/nowhere"), Path("/bin"), BACKUP_END)


def test_an_xid_target_needs_its_commit_or_abort_shipped(shipped: list[TxEnd]) -> None:
    assert "abort of transaction 741" in check_reachable("xid", "741", Path("/x"), Path("/b"), BACKUP_END)
    with pytest.raises(TargetUnreachable, match="cannot recover to transaction 9: its commit or abort"):
        check_reachable("xid", "9", Path("/x"), Path("/b"), BACKUP_END)


def test_tx_ends_of_an_empty_spool_is_empty(tmp_path: Path) -> None:
    assert reach.tx_ends(tmp_path, Path("/nonexistent")) == []
    assert reach.commit_times(tmp_path / "missing", Path("/nonexistent")) == []


def test_check_parent_refuses_missing_and_file_parents(tmp_path: Path) -> None:
    check_parent(None)
    check_parent(tmp_path)
    with pytest.raises(UsageError, match="no such directory"):
        check_parent(tmp_path / "missing")
    (tmp_path / "f").write_text("x")
    with pytest.raises(UsageError, match="no such directory"):
        check_parent(tmp_path / "f")


def test_scratch_dir_is_gone_after_success_failure_and_interrupt(tmp_path: Path) -> None:
    seen = []
    for problem in (None, RuntimeError("boom"), KeyboardInterrupt()):
        try:
            with scratch_dir("t-", tmp_path) as path:
                (path / "data").mkdir()
                (path / "data" / "file").write_text("x")
                seen.append(path)
                if problem is not None:
                    raise problem
        except (RuntimeError, KeyboardInterrupt):
            pass
    assert len(seen) == 3 and not any(p.exists() for p in seen) and list(tmp_path.iterdir()) == []


def test_reap_stops_every_process_naming_the_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "pgdata"
    code = "import sys, time; time.sleep(60)"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, "-D", str(data_dir)]),
        subprocess.Popen([sys.executable, "-c", code, str(data_dir / "pg_wal")]),
    ]
    other = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "pgdata2")])
    try:
        deadline = time.monotonic() + 10
        while len(processes_of(data_dir)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(processes_of(data_dir)) == sorted(p.pid for p in procs)
        assert reap(data_dir, wait_s=5) == []
        assert all(p.wait(5) == -signal.SIGQUIT for p in procs)  # SIGQUIT was enough
        assert other.poll() is None  # a neighbour's server is left alone
    finally:
        for p in [*procs, other]:
            if p.poll() is None:
                p.kill()
            p.wait(10)


def _sqlite_manifest(backup_id: str) -> Manifest:
    return Manifest(
        backup_id=backup_id,
        engine="sqlite",
        started_at="2026-03-01T10:00:00+00:00",
        finished_at="2026-03-01T10:00:01+00:00",
        files=(FileEntry("database.sqlite", 4, _sha(b"good"), "none", False),),
        compression="none",
        key_id=None,
        integrity={},
        sites={"a": "ok", "b": "ok"},
    )


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _two_sites(bad_on: tuple[str, ...]) -> list[MemorySite]:
    sites = []
    for name in ("a", "b"):
        site = MemorySite(name)
        m = _sqlite_manifest("20260301T100000Z-0001")
        site.objects[manifest_key(m.backup_id)] = m.to_json()
        site.objects[file_key(m.backup_id, "database.sqlite")] = b"rot!" if name in bad_on else b"good"
        sites.append(site)
    return sites


def test_verify_verdicts_ok_degraded_failed_with_plain_reasons() -> None:
    report = verify(_two_sites(()))
    assert report.status == "ok" and report.reason.startswith(
        "all 2 objects intact; 1 of 1 backups restorable"
    )

    report = verify(_two_sites(("b",)))
    assert report.status == "degraded" and not report.ok
    assert "the copy on site b is BAD (backups/20260301T100000Z-0001/database.sqlite" in report.reason
    assert "still restorable from site a" in report.reason

    report = verify(_two_sites(("a", "b")))
    assert report.status == "failed"
    assert "backup 20260301T100000Z-0001 is NOT restorable" in report.reason

    down = _two_sites(())
    down[1].down = True
    report = verify(down)
    assert report.status == "degraded" and "site b unreachable" in report.reason


def test_views_map_statuses_to_the_one_exit_code_table() -> None:
    import typer

    views.exit_with("ok")
    for status, code in (("degraded", ExitCode.DEGRADED), ("failed", ExitCode.FAILED)):
        with pytest.raises(typer.Exit) as caught:
            views.exit_with(status)
        assert caught.value.exit_code == code


def test_wal_stream_stats_say_why_the_stream_stopped() -> None:
    stats = StreamStats(pushed=["000000010000000000000003"], stopped_by="SIGTERM")
    assert stats.reason == "pushed 1 WAL files, 0 degraded, 0 errors; stopped: SIGTERM"
    stats.errors.append("WAL x reached no site")
    assert stats.reason.endswith("last error: WAL x reached no site")


def test_a_signal_right_after_the_scratch_dir_is_made_still_removes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    real = tempfile.mkdtemp

    def mkdtemp_then_ctrl_c(**kwargs: object) -> str:
        made = real(**kwargs)  # type: ignore[call-overload]
        os.kill(os.getpid(), signal.SIGINT)  # arrives before the caller has the name
        time.sleep(0.05)
        return str(made)

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt), scratch_dir("t-", tmp_path):
        pytest.fail("the body must not run: Ctrl-C came first")
    assert list(tmp_path.iterdir()) == []


def test_unpacking_a_corrupt_zstd_stream_puts_zstd_words_in_the_reason_not_on_stderr(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from backup.errors import CorruptObject
    from backup.restore import _untar

    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "PG_VERSION").write_text("15\n" * 50_000)
    packed = subprocess.run(
        f"tar -C {tree} -cf - . | zstd -q -c", shell=True, capture_output=True, check=True
    ).stdout
    middle = len(packed) // 2
    rotten = packed[:middle] + bytes(b ^ 0xFF for b in packed[middle : middle + 64]) + packed[middle + 64 :]
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(CorruptObject) as caught:
        _untar(iter([rotten]), "zstd", target, None)
    assert "decompressor exit" in caught.value.message
    assert "corrupt" in caught.value.message.lower()  # zstd's own words, kept in our reason
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""

    good = tmp_path / "good"
    good.mkdir()
    _untar(iter([packed]), "zstd", good, None)
    assert (good / "PG_VERSION").read_text() == "15\n" * 50_000


def test_restore_into_a_fresh_dir_leaves_nothing_when_it_fails(tmp_path: Path) -> None:
    from backup.restore import _discard

    made = tmp_path / "new"
    (made / "base").mkdir(parents=True)
    _discard(made, made=True)
    assert not made.exists()
    given = tmp_path / "given"
    (given / "base").mkdir(parents=True)
    (given / "PG_VERSION").write_text("15")
    _discard(given, made=False)
    assert given.is_dir() and list(given.iterdir()) == []


def test_fetch_named_and_ship_on_fake_sites(tmp_path: Path) -> None:
    from backup.errors import NoUsableCopy
    from backup.walarchive import WAL_LAST, fetch_named, ship

    sites = [MemorySite("a"), MemorySite("b")]
    segment = tmp_path / "000000010000000000000009"
    segment.write_bytes(os.urandom(4096))
    result = ship(sites, segment, None)
    assert result.ok_sites == ["a", "b"] and result.reason == "WAL 000000010000000000000009 on 2 of 2 sites"
    assert all(WAL_LAST in s.objects for s in sites)  # the RPO clock moved on both
    sites[1].down = True
    result = ship(sites, tmp_path / segment.name, None)
    assert result.ok_sites == ["a"] and "failed: b" in result.reason
    sites[1].down = False
    dest = tmp_path / "RECOVERYXLOG"
    site, skipped = fetch_named(sites, segment.name, dest, None)
    assert dest.read_bytes() == segment.read_bytes() and site == "a" and skipped == {}
    with pytest.raises(NoUsableCopy, match="WAL 00000001000000000000000A is on no site"):
        fetch_named(sites, "00000001000000000000000A", dest, None)


def test_a_restore_point_target_needs_the_point_shipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        reach, "restore_points", lambda spool, bin_dir, until=None: ["erpops-20260301T100000Z-0001", "before"]
    )
    assert check_reachable("name", "before", Path("/x"), Path("/b"), BACKUP_END) == (
        "WAL on the sites holds restore point 'before'"
    )
    with pytest.raises(
        TargetUnreachable,
        match="cannot recover to restore point 'after'.*the newest there: "
        "erpops-20260301T100000Z-0001, before",
    ):
        check_reachable("name", "after", Path("/x"), Path("/b"), BACKUP_END)
