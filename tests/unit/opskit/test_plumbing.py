"""Exit codes, ports, PostgreSQL binaries, server processes and SIGTERM: each exists once, here."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from opskit.errors import ClusterError, OpsError, Unavailable, UsageError
from opskit.exitcodes import ExitCode, table_text
from opskit.pg import pg_bin_dir
from opskit.ports import free_port
from opskit.proc import answers, start_http_server


def test_exit_codes_are_distinct_and_documented() -> None:
    assert len({int(c) for c in ExitCode}) == len(ExitCode)
    assert (ExitCode.OK, ExitCode.FAILED, ExitCode.USAGE) == (0, 1, 2)
    text = table_text()
    for code in ExitCode:
        assert f"{int(code)} " in text


def test_errors_carry_their_exit_codes() -> None:
    assert OpsError("x").exit_code == ExitCode.FAILED
    assert UsageError("x").exit_code == ExitCode.USAGE
    assert Unavailable("x").exit_code == ExitCode.UNAVAILABLE
    assert issubclass(ClusterError, Unavailable)


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_pg_bin_dir_prefers_the_configured_one(tmp_path: Path) -> None:
    assert pg_bin_dir(tmp_path) == tmp_path
    assert (pg_bin_dir() / "pg_ctl").exists()


def test_start_http_server_waits_then_stops(tmp_path: Path) -> None:
    port = free_port()
    server = start_http_server([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                "--directory", str(tmp_path)], f"http://127.0.0.1:{port}", tmp_path / "log",
                               health_path="/", wait_s=20)
    try:
        assert answers(server.url + "/")
    finally:
        server.stop()
    assert server.process.poll() is not None
    assert not answers(server.url + "/", timeout=0.5)


def test_a_server_that_exits_is_unavailable_with_its_log(tmp_path: Path) -> None:
    with pytest.raises(Unavailable, match="exited with 3"):
        start_http_server([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"],
                          f"http://127.0.0.1:{free_port()}", tmp_path / "log", wait_s=10)


def test_sigterm_unwinds_through_finally(tmp_path: Path) -> None:
    """SIGTERM runs the same clean-up as a failure: the `finally` of the running command executes."""
    marker = tmp_path / "cleaned"
    script = textwrap.dedent(f"""
        import time
        from opskit.signals import Terminated, sigterm_unwinds
        try:
            with sigterm_unwinds():
                try:
                    print("ready", flush=True)
                    time.sleep(30)
                finally:
                    open({str(marker)!r}, "w").write("yes")
        except Terminated:
            raise SystemExit(143)
    """)
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        proc.terminate()
        assert proc.wait(10) == 143
    assert marker.read_text() == "yes"
