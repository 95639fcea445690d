"""The README's commands, as written, in order, on a scratch copy of this folder: each exits 0 (issue 12).

The commands are read from the README's ```bash blocks, so this test follows the README when it changes. They
run once on the embedded default (SQLite, `var/erpops.sqlite`, no URL set) and once more with
`ERPOPS_DATABASE_URL` naming a fresh PostgreSQL database. `.venv/bin/...` in the copy are shims that run this
checkout's erpops with the test's interpreter (the copy's venv stamps are fresh, so `make demo` installs nothing).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from opskit.ports import free_port
from opskit.proc import answers

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "README.md"

# Commands this test does not run, by the start of the command as written, each with its reason. The core's
# commands (make demo, db, seed, check, token, report, config, serve) are never here.
NOT_RUN = {
    "make test": "the whole suite, this test included",
    ".venv/bin/erpops monitor run --duration 60": "runs 60 s by design; tests/e2e/monitor runs it for a short time",
    ".venv/bin/erpops loadtest run": "a 60 s Locust run against a live API; tests/e2e/loadtest runs the suites",
    ".venv/bin/erpops loadtest worker": "joins a master that this README does not start",
    ".venv/bin/erpops backup": "needs a PostgreSQL cluster with WAL archiving and sites; tests/e2e/backup makes one",
    ".venv/bin/erpops failover drill": "builds lab clusters for minutes; tests/e2e/failover runs the drills",
    ".venv/bin/erpops failover promote": "needs a standby to promote; tests/e2e/failover/test_promote.py makes one",
    ".venv/bin/erpops advisor": "needs PostgreSQL with hypopg and a workload.sql the README does not ship; "
                                "tests/e2e/advisor runs the commands",
}
# Blocks of the README that another test runs as written, in their own setting, by the comment that opens them.
NOT_RUN_BLOCKS = {
    "# archive-commands": "tests/e2e/archive/test_readme.py runs it on a fresh database of its own: its "
                          "`seed` refuses the demo's database, which already holds history",
}
# Tests send traffic to this machine only: a command naming any other address (an IP literal that is not
# loopback, a `host=`/`--*host` value or a URL's host other than localhost) is never run, whatever the README
# says.
LOCAL_HOSTS = ("localhost", "")


def remote_target(line: str) -> str | None:
    """The first address `line` names that is not this machine's loopback, else None."""
    import ipaddress

    candidates: list[str] = re.findall(r"\b\d{1,3}(?:\.\d{1,3}){3}\b", line)
    candidates += re.findall(r"(?:\bhost=|--[a-z-]*host[= ])([^\s\"',]+)", line)
    candidates += re.findall(r"://(?:[^/@\s]*@)?([^/:?\s]*)", line)
    for candidate in candidates:
        host = candidate.strip("[]")
        try:
            if not ipaddress.ip_address(host).is_loopback:
                return candidate
        except ValueError:
            if host not in LOCAL_HOSTS:
                return candidate
    return None


# Commands that start the API and stay up: started, asked over HTTP, then stopped with SIGTERM.
SERVERS = ("make demo", ".venv/bin/erpops serve")
CORE = ("make demo", ".venv/bin/erpops --help", ".venv/bin/erpops db upgrade", ".venv/bin/erpops seed",
        ".venv/bin/erpops check", ".venv/bin/erpops token create", ".venv/bin/erpops report trial-balance",
        ".venv/bin/erpops report stock-valuation", ".venv/bin/erpops config show",
        ".venv/bin/erpops config validate", ".venv/bin/erpops serve")
COMMAND_TIMEOUT_S = 300


def readme_lines(with_excluded_blocks: bool = False) -> list[str]:
    """Every command line of the README's bash blocks, in order; comment-only lines are left out, and so are the
    blocks of NOT_RUN_BLOCKS unless asked for."""
    lines: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.DOTALL):
        if not with_excluded_blocks and any(block.lstrip().startswith(marker) for marker in NOT_RUN_BLOCKS):
            continue
        lines += [line.strip() for line in block.splitlines() if shlex.split(line, comments=True)]
    return lines


def command_of(line: str) -> str:
    """The line without its comment and environment assignments, words single-spaced: what classifies it."""
    words = shlex.split(line, comments=True)
    while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
        words.pop(0)
    return " ".join(words)


def _starts(command: str, prefix: str) -> bool:
    return command == prefix or command.startswith(prefix + " ")


def not_run_reason(line: str) -> str | None:
    remote = remote_target(line.split(" #")[0])
    if remote is not None:
        return f"names {remote}, not this machine: tests never send traffic there"
    return next((why for prefix, why in NOT_RUN.items() if _starts(command_of(line), prefix)), None)


@pytest.mark.parametrize(("line", "remote"), [
    ('.venv/bin/erpops failover promote --standby "host=10.0.0.6 port=5432 user=postgres" --json', "10.0.0.6"),
    (".venv/bin/erpops loadtest worker --master-host 10.0.0.5 --master-port 5557", "10.0.0.5"),
    (".venv/bin/erpops loadtest run --master-bind-host 0.0.0.0", "0.0.0.0"),
    ("ERPOPS_DATABASE_URL=postgresql://app@db.example/erp .venv/bin/erpops check", "db.example"),
    (".venv/bin/erpops serve --host 192.168.1.4", "192.168.1.4"),
    ("ERPOPS_DATABASE_URL=sqlite:///var/big.sqlite .venv/bin/erpops seed --years 1", None),
    ("curl -s http://127.0.0.1:8000/healthz", None),
    (".venv/bin/erpops serve --host localhost", None),
])
def test_a_command_naming_another_machine_is_never_run(line: str, remote: str | None) -> None:
    assert remote_target(line) == remote
    assert (not_run_reason(line) is not None) is (remote is not None)


def is_server(line: str) -> bool:
    return any(command_of(line) == prefix for prefix in SERVERS)


def test_the_readme_shows_the_core_commands_and_runs_them_all() -> None:
    commands = [command_of(line) for line in readme_lines()]
    for core in CORE:
        assert any(_starts(c, core) for c in commands), f"the README no longer shows `{core}`"
        assert not any(_starts(core, prefix) for prefix in NOT_RUN), f"`{core}` must run, not be excluded"
    for prefix in NOT_RUN:
        assert any(_starts(c, prefix) for c in commands), f"NOT_RUN names `{prefix}`, which the README no longer shows"
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.DOTALL)
    for marker in NOT_RUN_BLOCKS:
        assert any(b.lstrip().startswith(marker) for b in blocks), f"no README block opens with `{marker}`"
    assert len(readme_lines()) < len(readme_lines(with_excluded_blocks=True)) or not NOT_RUN_BLOCKS


def test_the_readme_writes_no_optional_part_in_brackets() -> None:
    """`check [--json]` pasted into a shell passes `[--json]`: the README writes each variant out instead."""
    for line in readme_lines():
        assert not re.search(r"\s\[--", line.split("#")[0]), line


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A copy of this folder without its venv, databases or local config, with shims as its `.venv/bin`."""
    dest = tmp_path / "erpops"
    shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(
        ".git", ".venv", "var", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "erpops.toml",
        "*.sqlite*", "rules.yml"))
    bin_dir = dest / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, body in (("python", f'exec {sys.executable} "$@"'), ("erpops", f'exec {sys.executable} -m erpops "$@"')):
        shim = bin_dir / name
        shim.write_text(f"#!/bin/sh\n{body}\n")
        shim.chmod(0o755)
    for stamp in (".installed-runtime", ".installed-dev"):
        (dest / ".venv" / stamp).touch()  # newer than pyproject.toml: make installs nothing
    return dest


def _env(workdir: Path, port: int, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ERPOPS_", "MAKE", "MFLAGS"))}
    env.update({"PYTHONPATH": str(workdir), "ERPOPS_API__PORT": str(port), "COLUMNS": "200"})
    if database_url is not None:
        env["ERPOPS_DATABASE_URL"] = database_url
    return env


def _run(line: str, workdir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["bash", "-c", line], cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=COMMAND_TIMEOUT_S, check=False)
    assert done.returncode == 0, f"`{line}` exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr, done.stderr
    return done


def _serve(line: str, workdir: Path, env: dict[str, str], port: int) -> None:
    """Start a command that serves the API, wait until it answers (docs page included), stop it, leave nothing."""
    log = workdir / f"server-{uuid.uuid4().hex[:6]}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(["bash", "-c", line], cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + COMMAND_TIMEOUT_S
        while not answers(f"{base}/healthz") and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.3)
        assert proc.poll() is None, f"`{line}` exited {proc.returncode}:\n{log.read_text()[-3000:]}"
        assert answers(f"{base}/healthz"), f"`{line}` did not answer:\n{log.read_text()[-3000:]}"
        assert answers(f"{base}/api/v1/docs")
    finally:
        _stop_group(proc)
    assert "Traceback" not in log.read_text()


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    for _ in range(100):  # the server itself (a grandchild) unwinds after the shell is gone: at most 10 s
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail(f"processes of {proc.args!r} were still running 10 s after SIGTERM")


def run_readme(workdir: Path, database_url: str | None) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every README command in order; returns the finished ones by command."""
    port = free_port()
    env = _env(workdir, port, database_url)
    finished: dict[str, subprocess.CompletedProcess[str]] = {}
    for line in readme_lines():
        if not_run_reason(line) is not None:
            continue
        if command_of(line).startswith("export "):  # the lines after it run with it, as in one shell
            for word in shlex.split(line, comments=True)[1:]:
                name, _, value = word.partition("=")
                env[name] = value
            continue
        if is_server(line):
            _serve(line, workdir, env, port)
        else:
            finished[command_of(line)] = _run(line, workdir, env)
    return finished


def _assert_the_demo_data_is_what_they_see(finished: dict[str, subprocess.CompletedProcess[str]]) -> None:
    valuation = json.loads(finished[".venv/bin/erpops report stock-valuation --json"].stdout)
    assert valuation["rows"], "the everyday commands did not see the demo's history"
    check = json.loads(finished[".venv/bin/erpops check --json"].stdout)
    assert check["ok"] is True and len(check["checked"]) > 10


def test_the_readme_commands_run_as_written_on_the_default_sqlite(workdir: Path) -> None:
    finished = run_readme(workdir, database_url=None)
    _assert_the_demo_data_is_what_they_see(finished)
    assert (workdir / "var" / "erpops.sqlite").is_file(), "the demo did not write the default database"
    assert not (workdir / "var" / "demo.sqlite").exists()
    assert (workdir / "var" / "big.sqlite").is_file()


def test_the_readme_commands_run_as_written_on_postgresql(workdir: Path, pg_schema_url: str) -> None:
    finished = run_readme(workdir, database_url=pg_schema_url)
    _assert_the_demo_data_is_what_they_see(finished)
    assert not (workdir / "var" / "erpops.sqlite").exists(), "ERPOPS_DATABASE_URL must win over the default"
