"""Run `erpops loadtest run` as CI does: a subprocess against the live API it starts, and its verdict."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ERPOPS = Path(sys.executable).parent / "erpops"


@dataclass
class Outcome:
    exit_code: int
    verdict: dict[str, Any]
    out: Path
    stdout: str
    stderr: str


class LoadTest:
    """`loadtest(*args)`: a short run on a fresh SQLite database (unless --database-url is given)."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.runs = 0

    def __call__(self, *args: str, timeout: float = 150.0) -> Outcome:
        self.runs += 1
        out = self.tmp_path / f"run{self.runs}"
        argv = [str(ERPOPS), "loadtest", "run", "--out", str(out), *args]
        if "--database-url" not in args and "--host" not in args:
            argv += ["--database-url", self.database_url]
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=timeout, cwd=self.tmp_path)
        verdict_path = out / "verdict.json"
        verdict = json.loads(verdict_path.read_text()) if verdict_path.exists() else {}
        return Outcome(done.returncode, verdict, out, done.stdout, done.stderr)

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.tmp_path / 'erp.sqlite'}"

    def slo(self, text: str, name: str = "slo.yaml") -> str:
        path = self.tmp_path / name
        path.write_text(text)
        return str(path)


def tokens(database_url: str) -> dict[str, bool]:
    """Every load-test token in the database by name: True while it is active (not revoked)."""
    from erpcore.access import list_tokens
    from erpcore.db import make_engine
    from erpcore.services.bootstrap import bootstrap

    engine = make_engine(database_url)
    try:
        return {str(t["name"]): t["revoked_at"] is None for t in list_tokens(bootstrap(engine))
                if str(t["name"]).startswith("loadtest-")}
    finally:
        engine.dispose()


PROGRESS = re.compile(r"^loadtest: +\d+s  users \d+  rps \d+\.\d  p95 (\d+ ms|-)  failures \d+ of \d+$", re.MULTILINE)


@pytest.fixture
def loadtest(tmp_path: Path) -> LoadTest:
    return LoadTest(tmp_path)
