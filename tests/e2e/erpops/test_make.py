"""`make demo` installs only what erpops runs; `make test` adds the dev extras (two stamps), shown by make's
dry run on a fresh copy (no venv) and on one whose runtime is installed (issue 12, item 7)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DEV_ONLY = ("mypy", "moto", "hypothesis", "py-spy", "pytest")


def dry_run(target: str, folder: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    done = subprocess.run(["make", "-n", target], cwd=folder, env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    if shutil.which("make") is None:
        pytest.fail("make is not installed")
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def _installs(plan: str) -> list[str]:
    return [line for line in plan.splitlines() if "install" in line and " -e " in line]


def test_demo_installs_the_runtime_only_and_runs_the_default_database(fresh: Path) -> None:
    plan = dry_run("demo", fresh)
    installs = _installs(plan)
    assert installs and all(".[dev]" not in line for line in installs), plan
    last = plan.strip().splitlines()[-1]
    assert last == ".venv/bin/erpops demo", "the demo must not override the configured (default) database"
    dev_requirements = (ROOT / "pyproject.toml").read_text().split("[project.optional-dependencies]")[1]
    runtime = (ROOT / "pyproject.toml").read_text().split("[project.optional-dependencies]")[0]
    for package in DEV_ONLY:
        assert package in dev_requirements and f'"{package}' not in runtime, package


def test_test_adds_the_dev_extras_on_top_of_the_runtime(fresh: Path) -> None:
    assert any(".[dev]" in line for line in _installs(dry_run("test", fresh)))
    venv = fresh / ".venv"
    venv.mkdir()
    time.sleep(0.01)
    (venv / ".installed-runtime").touch()  # newer than pyproject.toml: the demo's install is done
    assert _installs(dry_run("demo", fresh)) == []
    installs = _installs(dry_run("test", fresh))
    assert len(installs) == 1 and ".[dev]" in installs[0], installs
