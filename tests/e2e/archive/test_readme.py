"""The README's archive block runs as written (with this checkout's erpops for `.venv/bin/erpops`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def readme_block() -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"```bash\n# archive-commands[^\n]*\n(.*?)```", text, re.DOTALL)
    assert match, "the README has no archive-commands block"
    return match.group(1)


@pytest.mark.slow
def test_readme_archive_commands_run_as_written(tmp_path: Path) -> None:
    if shutil.which("sqlite3") is None:
        pytest.skip("the README block uses the sqlite3 shell")
    shim = tmp_path / ".venv" / "bin"
    shim.mkdir(parents=True)
    (shim / "erpops").write_text(f"#!/bin/sh\nexec {sys.executable} -m erpops \"$@\"\n")
    (shim / "erpops").chmod(0o755)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ERPOPS_CONFIG": str(tmp_path / "none.toml")}
    env.pop("ERPOPS_DATABASE_URL", None)
    script = "set -euo pipefail\n" + readme_block()
    proc = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "archive verified" in proc.stdout
    assert "restored " in proc.stdout
    assert any((tmp_path / "var" / "archive-parquet").glob("batch-*/manifest.json"))
