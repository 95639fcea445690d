"""The test harness's own clean-up: what a killed test process left behind goes with the next run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.dbhelpers import SQLITE_PREFIX, _remove_stray_dirs


def test_a_killed_processs_sqlite_template_folder_goes_and_a_live_ones_stays(tmp_path: Path) -> None:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    gone = tmp_path / f"{SQLITE_PREFIX}{ended.pid}-k2j4"
    gone.mkdir()
    (gone / "migrated.sqlite").write_bytes(b"SQLite format 3\x00")
    live = tmp_path / f"{SQLITE_PREFIX}{os.getpid()}-a8x1"
    live.mkdir()
    unowned = tmp_path / f"{SQLITE_PREFIX}q7w8e9"  # the name before the owner's pid was in it: left alone
    unowned.mkdir()
    _remove_stray_dirs(tmp_path)
    assert not gone.exists()
    assert live.exists() and unowned.exists()
