"""Probes over real loopback sockets (no PostgreSQL), saved labs read and stopped by PID, client strings."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from failover import pgsql
from failover.lab import Lab, PgNode, multi_host_conninfo
from failover.saved_lab import LabDown, load_lab, read_lab_file, stop_saved_lab
from failover.types import FailoverUsage
from opskit.ports import free_port


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, int]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    try:
        yield sock, int(sock.getsockname()[1])
    finally:
        sock.close()


def answer_once(sock: socket.socket, reply: bytes) -> threading.Thread:
    def serve() -> None:
        conn, _ = sock.accept()
        with conn:
            conn.recv(8)
            conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_a_postmaster_answering_the_ssl_request_is_alive(listener: tuple[socket.socket, int]) -> None:
    sock, port = listener
    answer_once(sock, b"N")
    assert pgsql.tcp_probe(port, 2.0) is None


def test_a_stranger_on_the_port_is_not_postgres(listener: tuple[socket.socket, int]) -> None:
    sock, port = listener
    answer_once(sock, b"HTTP/1.1 400\r\n")
    assert pgsql.tcp_probe(port, 2.0) == "unexpected answer b'H'"


def test_a_hung_server_completes_the_handshake_but_never_answers(listener: tuple[socket.socket, int]) -> None:
    _, port = listener  # listening, never accepting: the kernel completes the handshake, nobody reads
    assert pgsql.tcp_probe(port, 0.2) == "no answer within 0.2 s"


def test_a_closed_port_is_refused() -> None:
    assert pgsql.tcp_probe(free_port(), 0.5) == "connection refused"


def test_the_postmaster_pid_comes_from_its_pid_file(tmp_path: Path) -> None:
    assert pgsql.postmaster_pid(tmp_path) is None
    (tmp_path / "postmaster.pid").write_text("4242\n/data\n")
    assert pgsql.postmaster_pid(tmp_path) == 4242
    (tmp_path / "postmaster.pid").write_text("garbage")
    assert pgsql.postmaster_pid(tmp_path) is None


def test_clients_find_the_writable_member_among_every_port_and_give_up_on_a_cut_one_fast() -> None:
    conninfo = multi_host_conninfo([5501, 5502])
    assert conninfo.startswith("host=127.0.0.1,127.0.0.1 port=5501,5502 user=postgres dbname=postgres "
                               "target_session_attrs=read-write connect_timeout=2")
    assert "keepalives_idle=1" in conninfo and "tcp_user_timeout=3000" in conninfo
    lab = Lab(Path("/x"), [PgNode("a", 5501, Path("/x/a")), PgNode("b", 5502, Path("/x/b"))])
    assert lab.client_url("erp").startswith(
        "postgresql+psycopg://postgres@/erp?host=127.0.0.1:5501&host=127.0.0.1:5502&target_session_attrs=read-write")


def save(tmp_path: Path, nodes: list[dict[str, object]], **extra: object) -> Path:
    (tmp_path / "lab.json").write_text(json.dumps({"base": str(tmp_path), "nodes": nodes, **extra}))
    return tmp_path


def test_a_saved_lab_is_read_from_its_directory_or_its_file(tmp_path: Path) -> None:
    save(tmp_path, [{"name": "node1", "port": 5501, "datadir": str(tmp_path / "node1"), "pid": 1}])
    for path in (tmp_path, tmp_path / "lab.json"):
        lab = load_lab(path)
        assert lab.base == tmp_path and [(n.name, n.port, n.proc) for n in lab.nodes] == [("node1", 5501, None)]


@pytest.mark.parametrize(("content", "message"), [
    (None, "no lab at {path} (FileNotFoundError)"),
    ("{not json", "no lab at {path} (JSONDecodeError)"),
    ('{"base": "/x"}', "{path}/lab.json is not a lab description (no `nodes` list)"),
])
def test_a_missing_or_broken_lab_is_a_usage_error(tmp_path: Path, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / "lab.json").write_text(content)
    with pytest.raises(FailoverUsage) as caught:
        read_lab_file(tmp_path)
    assert caught.value.message.startswith(message.format(path=tmp_path))
    assert caught.value.exit_code == 2


def test_lab_down_stops_agents_by_pid_skips_dead_postmasters_and_removes_the_lab(tmp_path: Path) -> None:
    agent = subprocess.Popen(["sleep", "60"])
    base = tmp_path / "lab"
    (base / "node1").mkdir(parents=True)
    (base / "node1" / "postmaster.pid").write_text(f"{os.getpid()}\n")  # not a postgres process: left alone
    save(base, [{"name": "node1", "port": 5501, "datadir": str(base / "node1"), "pid": 1}], agents=[agent.pid])
    down = stop_saved_lab(base, timeout=5)
    assert agent.wait(5) == -15  # SIGTERM, as Patroni is asked to stop its PostgreSQL
    assert down == LabDown(base, [agent.pid])
    assert down.reason == f"stopped {agent.pid}; removed {base}"
    assert not base.exists()
    assert LabDown(base).reason == f"stopped (none running); removed {base}"
