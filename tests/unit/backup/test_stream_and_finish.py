"""Pushing finished WAL from the streamer's spool, and how a backup's per-site states become its manifest
and verdict; both on in-memory sites (no pg_receivewal, no database)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backup.create import _finish
from backup.errors import BackupError
from backup.fanout import FanOutResult, SiteWrite
from backup.manifest import FileEntry, Manifest, manifest_key
from backup.settings import BackupSettings
from backup.sites.memory import MemorySite
from backup.walarchive import WAL_LAST
from backup.walstream import FINISHED, WalStreamer

SEG1, SEG2 = "000000010000000000000001", "000000010000000000000002"


@pytest.mark.parametrize(("name", "finished"), [
    (SEG1, True), ("00000002.history", True),
    (SEG1 + ".partial", False),  # still being written by pg_receivewal
    ("000000010000000000000001.tmp", False), ("00000001000000000000000a", False),  # lower-case hex is not WAL
    ("0000000100000000000001", False), ("00000002.history.tmp", False),
])
def test_only_whole_segments_and_history_files_count_as_finished(name: str, finished: bool) -> None:
    assert (FINISHED.match(name) is not None) is finished


def _streamer(tmp_path: Path, *sites: MemorySite) -> WalStreamer:
    spool = tmp_path / "spool"
    spool.mkdir()
    return WalStreamer("postgresql://u@h/db", sites, spool, bin_dir=tmp_path)


def test_finished_files_are_pushed_oldest_first_and_leave_the_spool(tmp_path: Path) -> None:
    a, b = MemorySite("a"), MemorySite("b")
    streamer = _streamer(tmp_path, a, b)
    for name in (SEG2, SEG1, SEG2 + ".partial"):
        (streamer.spool / name).write_bytes(name.encode())
    assert streamer.push_finished() == [SEG1, SEG2]
    assert streamer.stats.pushed == [SEG1, SEG2] and streamer.stats.degraded == []
    assert [p.name for p in streamer.spool.iterdir()] == [SEG2 + ".partial"]
    for site in (a, b):
        assert sum(k.startswith("wal/") for k in site.objects) == 2
        assert json.loads(site.objects[WAL_LAST])["segment"] == SEG2  # the RPO clock names the newest
    assert streamer.push_finished() == []  # nothing new: nothing pushed again


def test_a_file_one_site_missed_is_pushed_degraded_and_still_leaves_the_spool(tmp_path: Path) -> None:
    a, b = MemorySite("a"), MemorySite("b")
    b.down = True
    streamer = _streamer(tmp_path, a, b)
    (streamer.spool / SEG1).write_bytes(b"wal")
    assert streamer.push_finished() == [SEG1]
    [result] = streamer.stats.degraded
    assert result.ok_sites == ["a"] and list(result.failed) == ["b"]
    assert not (streamer.spool / SEG1).exists()
    assert WAL_LAST not in b.objects


def test_a_file_no_site_took_stays_and_stops_the_pass(tmp_path: Path) -> None:
    a = MemorySite("a")
    a.down = True
    streamer = _streamer(tmp_path, a)
    for name in (SEG1, SEG2):
        (streamer.spool / name).write_bytes(b"wal")
    assert streamer.push_finished() == []
    assert streamer.stats.errors == [f"WAL {SEG1} reached no site: {{'a': 'site a: unreachable'}}"]
    assert sorted(p.name for p in streamer.spool.iterdir()) == [SEG1, SEG2]  # order kept: SEG2 not pushed first
    a.down = False
    assert streamer.push_finished() == [SEG1, SEG2]


def test_a_sigterm_while_the_stream_starts_is_the_normal_stop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    """pg_receivewal is running and the pusher not yet started when SIGTERM comes: the stream stops as it does
    later on, with no error, and stops pg_receivewal (it raised past its clean-up before)."""
    import subprocess
    import sys

    from backup import walstream
    from opskit.signals import Terminated

    started: list[subprocess.Popen[bytes]] = []

    def start(self: WalStreamer) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        started.append(self.proc)
        raise Terminated()

    monkeypatch.setattr(WalStreamer, "start", start)
    monkeypatch.setattr(walstream, "pg_bin_dir", lambda given: tmp_path)
    stats = walstream.stream("postgresql://x@127.0.0.1:1/x", [MemorySite("a")], tmp_path / "spool", None)
    assert stats.stopped_by == "SIGTERM" and stats.errors == []
    assert started and started[0].poll() is not None  # stopped, not left running


def test_log_tail_joins_the_last_four_lines_or_says_there_is_none(tmp_path: Path) -> None:
    streamer = _streamer(tmp_path, MemorySite("a"))
    assert streamer.log_tail() == "(no log)"
    (tmp_path / "spool.log").write_text("one\ntwo\nthree\nfour\nfive\n")
    assert streamer.log_tail() == "two | three | four | five"


FIELDS: dict[str, object] = {"backup_id": "20261203T091500Z", "engine": "sqlite", "started_at": "2026-12-03T09:15:00",
                             "finished_at": "2026-12-03T09:15:01", "integrity": {}}
ENTRY = FileEntry("db.sqlite", 10, "0" * 64, "none", False)


def _write(sites: list[str], failed: dict[str, str]) -> FanOutResult:
    """One file's fan-out: ok on `sites` except those `failed` names, with their errors."""
    return FanOutResult("k", 1, "x", tuple(SiteWrite(s, s not in failed, 1, 0.0, failed.get(s)) for s in sites))


def _settings() -> BackupSettings:
    return BackupSettings.model_construct(compression="zstd", encryption_key=None)


def test_a_backup_on_every_site_is_good_and_its_manifest_goes_to_each() -> None:
    a, b = MemorySite("a"), MemorySite("b")
    result = _finish(_settings(), [a, b], [_write(["a", "b"], {})], [ENTRY, ENTRY], dict(FIELDS), 0.0)
    assert result.reason == "backup 20261203T091500Z written to all 2 sites"
    assert not result.degraded and result.ok_sites == ["a", "b"] and result.size == 20
    assert result.manifest.compression == "none"  # only a PostgreSQL base backup is compressed
    for site in (a, b):
        assert Manifest.from_json(site.objects[manifest_key("20261203T091500Z")]).sites == {
            "a": "ok", "b": "ok"}


def test_a_site_that_failed_a_file_gets_no_manifest_and_keeps_its_first_error() -> None:
    a, b, c = MemorySite("a"), MemorySite("b"), MemorySite("c")
    writes = [_write(["a", "b", "c"], {"b": "disk full"}), _write(["a", "b", "c"], {"b": "later error", "c": "timeout"})]
    result = _finish(_settings(), [a, b, c], writes, [ENTRY], dict(FIELDS), 0.0)
    assert result.manifest.sites == {"a": "ok", "b": "failed: disk full", "c": "failed: timeout"}
    assert result.reason == "backup 20261203T091500Z degraded: 2 of 3 sites failed (b, c)"
    assert manifest_key("20261203T091500Z") in a.objects
    assert b.objects == {} and c.objects == {}


def test_a_site_that_loses_the_manifest_is_failed_too() -> None:
    a, b = MemorySite("a"), MemorySite("b")
    b.fail_after_bytes = 0  # took the files (written elsewhere), refuses the manifest
    result = _finish(_settings(), [a, b], [_write(["a", "b"], {})], [ENTRY], dict(FIELDS), 0.0)
    assert result.degraded and result.ok_sites == ["a"]
    assert result.manifest.sites["b"].startswith("failed: manifest: site b: connection lost")


def test_a_backup_no_site_took_raises_with_every_state() -> None:
    with pytest.raises(BackupError, match=r"^backup 20261203T091500Z failed on every site: "
                                          r"\{'a': 'failed: down'\}$"):
        _finish(_settings(), [MemorySite("a")], [_write(["a"], {"a": "down"})], [ENTRY], dict(FIELDS), 0.0)
