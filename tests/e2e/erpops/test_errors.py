"""A new user's natural mistakes, fed to the real `erpops` process: one `error:` line, the documented exit code
(`opskit.exitcodes`), no traceback, and nothing started (issue 12, item 5)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from opskit.exitcodes import ExitCode
from opskit.ports import free_port
from tests.dbhelpers import pg_url


@dataclass(frozen=True)
class Mistake:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    code: int = ExitCode.USAGE
    says: str = ""  # a phrase the error line must contain
    files: dict[str, str] = field(default_factory=dict)  # written into the working folder first
    never_says: str = ""  # e.g. a password that must not be echoed


NO_SERVER = "postgresql://postgres@127.0.0.1:{port}/test"  # a port nothing listens on
MISTAKES = {
    "db upgrade as a database user that does not exist": Mistake(
        ["db", "upgrade"], {"ERPOPS_DATABASE_URL": "postgresql://erpops_no_such_user@127.0.0.1:5432/test"},
        ExitCode.UNAVAILABLE, 'role "erpops_no_such_user" does not exist'),
    "db upgrade with no server at the URL": Mistake(
        ["db", "upgrade"], {"ERPOPS_DATABASE_URL": NO_SERVER}, ExitCode.UNAVAILABLE, "cannot use the database"),
    "check with no server at the URL": Mistake(
        ["check"], {"ERPOPS_DATABASE_URL": NO_SERVER}, ExitCode.UNAVAILABLE, "cannot use the database"),
    "a mysql:// URL": Mistake(
        ["db", "upgrade"], {"ERPOPS_DATABASE_URL": "mysql://app:pw@db/erp"}, says="mysql:// is not supported"),
    "a URL without a scheme": Mistake(
        ["check"], {"ERPOPS_DATABASE_URL": "var/erpops.sqlite"}, says="not a URL"),
    "a URL whose port is not a number": Mistake(
        ["seed", "--years", "1"], {"ERPOPS_DATABASE_URL": "postgresql://app:s3cret@db:five/erp"},
        says="port is not a number", never_says="s3cret"),
    "a bad environment value given to check": Mistake(
        ["check"], {"ERPOPS_POOL_SIZE": "many"}, says="pool_size"),
    "a bad nested environment value given to serve": Mistake(
        ["serve"], {"ERPOPS_API__PORT": "99999"}, says="api.port"),
    "a broken erpops.toml given to check": Mistake(
        ["check"], {"ERPOPS_CONFIG": "erpops.toml"}, says="erpops.toml is not valid TOML",
        files={"erpops.toml": "[matching\nprice_tolerance = 0.05\n"}),
    "erpops.toml with a wrong value given to check": Mistake(
        ["check"], {}, says="matching.price_tolerance", files={"erpops.toml": '[matching]\nprice_tolerance = "lots"\n'}),
    "ERPOPS_CONFIG naming a missing file, check": Mistake(
        ["check"], {"ERPOPS_CONFIG": "/nonexistent/erpops.toml"}, says="ERPOPS_CONFIG names /nonexistent/erpops.toml"),
    "ERPOPS_CONFIG naming a missing file, config validate": Mistake(
        ["config", "validate"], {"ERPOPS_CONFIG": "missing.toml"}, says="missing.toml, which does not exist"),
    "ERPOPS_CONFIG naming a folder": Mistake(
        ["config", "validate", "--json"], {"ERPOPS_CONFIG": "/tmp"}, says="which is a directory"),
    "serve --port 99999": Mistake(["serve", "--port", "99999"], says="--port"),
    "serve on a host that is not this machine's": Mistake(
        ["serve", "--host", "host.invalid", "--port", "0"], says="cannot listen on host.invalid:0"),
    "db upgrade to a revision that does not exist": Mistake(
        ["db", "upgrade", "nosuch"], {"ERPOPS_DATABASE_URL": "sqlite:///{tmp}/erp.sqlite"},
        says="cannot upgrade to 'nosuch': Can't locate revision identified by 'nosuch'"),
    "an option that does not exist": Mistake(["report", "stock-valuation", "--bogus"], says="--bogus"),
}


def run_erpops(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python -m erpops ARGV` in `cwd`, with the environment of the test run less any ERPOPS_ setting."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("ERPOPS_")}
    return subprocess.run([sys.executable, "-m", "erpops", *argv], cwd=cwd, env={**base, **env}, capture_output=True,
                          text=True, timeout=timeout, check=False)


def assert_one_error_line(done: subprocess.CompletedProcess[str], code: int, says: str) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert says in lines[0], lines[0]
    assert done.returncode == code, (done.returncode, done.stderr)
    return lines[0]


@pytest.mark.parametrize("name", list(MISTAKES))
def test_a_mistake_is_one_error_line_and_its_exit_code(name: str, tmp_path: Path) -> None:
    mistake = MISTAKES[name]
    if "does not exist" in mistake.says and "role" in mistake.says and pg_url() is None:
        if os.environ.get("CI"):
            pytest.fail("no PostgreSQL on 127.0.0.1:5432 to refuse the unknown user")
        pytest.skip("no PostgreSQL on 127.0.0.1:5432 to refuse the unknown user")
    for relative, text in mistake.files.items():
        (tmp_path / relative).write_text(text)
    env = {k: v.format(port=free_port(), tmp=tmp_path / "elsewhere") for k, v in mistake.env.items()}
    done = run_erpops(mistake.argv, tmp_path, env)
    line = assert_one_error_line(done, mistake.code, mistake.says)
    if mistake.never_says:
        assert mistake.never_says not in done.stdout + line
    assert "API on" not in done.stderr
    assert not (tmp_path / "var").exists(), "a refused command must not create the default database"


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_port_in_use_exits_4_before_anything_is_written(command: str, tmp_path: Path) -> None:
    """Exit 4 (UNAVAILABLE), not 2 (USAGE): the arguments are right, and the same command works once the port is
    free. The demo says so before it seeds, so nothing was written for nothing."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_erpops([command, "--port", str(port)], tmp_path, {})
    assert_one_error_line(done, ExitCode.UNAVAILABLE, f"cannot listen on 127.0.0.1:{port}: the port is in use")
    assert "API on" not in done.stderr and "seeding" not in done.stderr
    assert not (tmp_path / "var").exists()


def test_serve_shows_its_banner_only_once_the_port_takes_connections(tmp_path: Path) -> None:
    port = free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("ERPOPS_")}
    env = {**base, "ERPOPS_DATABASE_URL": f"sqlite:///{tmp_path}/erp.sqlite"}
    proc = subprocess.Popen([sys.executable, "-m", "erpops", "serve", "--port", str(port), "--no-access-log"],
                            cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 60
        line = ""
        while "API on" not in line and time.monotonic() < deadline and proc.poll() is None:
            line = proc.stderr.readline()
        assert f"erpops API on http://127.0.0.1:{port}/api/v1/docs" in line, line
        with socket.create_connection(("127.0.0.1", port), timeout=5):  # refused if the banner came first
            pass
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
        if proc.stderr is not None:
            proc.stderr.close()
    assert code == ExitCode.TERMINATED
