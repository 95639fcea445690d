"""Fan-out: one read, identical bytes on every site, a failing site isolated."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from backup.fanout import fan_out
from backup.sites.local import LocalSite
from backup.sites.memory import MemorySite


def chunks(total: int, size: int = 100_000) -> Iterator[bytes]:
    data = os.urandom(total)
    for start in range(0, total, size):
        yield data[start : start + size]


def test_same_bytes_reach_every_site_from_one_read(tmp_path: Path) -> None:
    reads = 0
    data = os.urandom(1_500_000)

    def source() -> Iterator[bytes]:
        nonlocal reads
        for start in range(0, len(data), 250_000):
            reads += 1
            yield data[start : start + 250_000]

    mem = MemorySite("mem")
    local = LocalSite("disk", tmp_path / "disk")
    result = fan_out(source(), "backups/x/base.tar", [mem, local])
    assert reads == 6
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.ok_sites == ["mem", "disk"]
    assert mem.objects["backups/x/base.tar"] == data
    assert (tmp_path / "disk/backups/x/base.tar").read_bytes() == data
    assert local.list_keys("backups/") == {"backups/x/base.tar": len(data)}


def test_failing_site_does_not_fail_the_others() -> None:
    good, flaky, down = MemorySite("good"), MemorySite("flaky"), MemorySite("down")
    flaky.fail_after_bytes = 300_000
    down.down = True
    result = fan_out(chunks(1_000_000), "k", [good, flaky, down])
    assert result.ok_sites == ["good"]
    assert set(result.failed) == {"flaky", "down"}
    assert "connection lost" in result.failed["flaky"]
    assert "unreachable" in result.failed["down"]
    assert len(good.objects["k"]) == 1_000_000
    assert "k" not in flaky.objects


def test_source_failure_commits_nothing(tmp_path: Path) -> None:
    def broken() -> Iterator[bytes]:
        yield b"x" * 1000
        raise RuntimeError("pg_basebackup died")

    mem, local = MemorySite("m"), LocalSite("l", tmp_path)
    with pytest.raises(RuntimeError):
        fan_out(broken(), "backups/b/base.tar", [mem, local])
    assert mem.objects == {}
    assert local.list_keys("") == {}


def test_progress_counts_bytes_per_site() -> None:
    seen: dict[str, int] = {}

    def progress(site: str, n: int) -> None:
        seen[site] = seen.get(site, 0) + n

    fan_out(chunks(500_000), "k", [MemorySite("a"), MemorySite("b")], progress)
    assert seen == {"a": 500_000, "b": 500_000}


def test_site_failing_at_commit_does_not_hang_the_others() -> None:
    from backup.sites.base import ObjectInfo, ObjectWriter

    class CommitFails(MemorySite):
        def writer(self, key: str) -> ObjectWriter:
            inner = super().writer(key)

            class W(ObjectWriter):
                def write(self, chunk: bytes) -> None:
                    inner.write(chunk)

                def commit(self) -> ObjectInfo:
                    raise OSError("store refused the object")

                def abort(self) -> None:
                    inner.abort()

            return W()

    result = fan_out(chunks(300_000), "k", [CommitFails("late"), MemorySite("ok")])
    assert result.failed == {"late": "store refused the object"} and result.ok_sites == ["ok"]
