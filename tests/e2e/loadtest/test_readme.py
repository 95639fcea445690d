"""The README's load test, copied from the README as written and run from the repository root without --out.

The README's run was 50 users for 60 s (75-90 s here, the server saturated from about 27 users); it is 20 users
for 30 s so that CI runs it as written beside other tests. It exited 2 ("Locust exited with 0 and wrote no statistics") while every other test passed an absolute
--out: Locust ran inside the default `var/loadtest/<time>` but was given paths relative to the root.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from loadtest.tokens import ROLES
from tests.e2e.loadtest.conftest import ERPOPS, PROGRESS, tokens

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]


def readme_command() -> list[str]:
    """The README's `erpops loadtest run --suite o2c ...` line, as argv."""
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith(".venv/bin/erpops loadtest run --suite o2c "):
            return shlex.split(line, comments=True)
    raise AssertionError("the README shows no `.venv/bin/erpops loadtest run --suite o2c ...` line")


def test_the_readme_command_is_the_documented_one() -> None:
    argv = readme_command()
    assert argv[1:] == ["loadtest", "run", "--suite", "o2c", "--shape", "ramp", "--users", "20", "--run-time", "30s",
                        "--slo", "loadtest/slo.yaml"]
    assert (ROOT / argv[-1]).is_file()  # the example it names ships with the repository


def test_the_readme_load_test_passes_as_written_from_the_repository_root(tmp_path: Path) -> None:
    argv = readme_command()
    database_url = f"sqlite:///{tmp_path / 'erp.sqlite'}"
    env = {**os.environ, "ERPOPS_DATABASE_URL": database_url}  # the configured database, as erpops.toml would say
    runs = ROOT / "var" / "loadtest"
    before = set(runs.glob("*"))
    try:
        done = subprocess.run([str(ERPOPS), *argv[1:]], cwd=ROOT, env=env, capture_output=True, text=True,
                              check=False, timeout=300)
        assert done.returncode == 0, done.stderr + done.stdout
        found = re.search(r"verdict: (\S+/verdict\.json)", done.stdout)
        assert found, done.stdout
        folder = Path(found[1]).parent
        assert folder.parent == runs.resolve() and re.fullmatch(r"\d{8}-\d{6}(-\d+)?", folder.name)  # the default
        verdict = json.loads((folder / "verdict.json").read_text())
        assert verdict["outcome"] == "pass" and verdict["requests"] > 0 and verdict["check_failures"] == 0
        assert [t["expression"] for t in verdict["thresholds"]] == [
            "p(95) < 2s", "rate(errors) < 1%", "rate(checks) > 0.99", "p(99) < 5s", "p(95) < 10s"]
        assert all(t["ok"] for t in verdict["thresholds"]) and verdict["database_check"]["ok"] is True
        assert (folder / "stats.json").is_file() and (folder / "report.html").is_file()
        assert not (folder / "var").exists()  # no nested copy of the statistics
        assert len(PROGRESS.findall(done.stderr)) >= 4, done.stderr  # every 5 s over 30 s, on stderr
        assert "users 20 " in done.stderr and not PROGRESS.search(done.stdout)
        run_id = verdict["run_id"]
        assert tokens(database_url) == {f"loadtest-{run_id}-{role}": False for role in ROLES}
    finally:
        for folder in set(runs.glob("*")) - before:
            shutil.rmtree(folder, ignore_errors=True)
