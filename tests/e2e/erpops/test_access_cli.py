"""`erpops token|roles|audit` as a user runs them, each command its own process, on both engines: a named CLI
actor whose writes are guarded and audited, custom roles, token lifetimes, and `audit verify` failing (exit 1,
naming the broken link) once an entry is edited in the database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from opskit.exitcodes import ExitCode
from tests.factories import tamper

ROOT = str(Path(__file__).resolve().parents[3])  # this checkout, whatever the working directory


@pytest.fixture
def database_url(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 request: pytest.FixtureRequest) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ERPOPS_CONFIG", "")
    monkeypatch.setenv("ERPOPS_USER", "alice")
    url = f"sqlite:///{tmp_path}/erp.sqlite" if backend == "sqlite" else str(request.getfixturevalue("pg_schema_url"))
    monkeypatch.setenv("ERPOPS_DATABASE_URL", url)
    return url


def run(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "erpops", *argv], capture_output=True, text=True, timeout=300,
                          check=False, env={**os.environ, "PYTHONPATH": ROOT, **env})


def erpops(argv: list[str], code: int = ExitCode.OK, **env: str) -> Any:
    done = run([*argv, "--json"], **env)
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


def test_roles_tokens_and_the_audit_trail_from_the_shell(database_url: str) -> None:
    assert run(["db", "upgrade"]).returncode == 0
    made = run(["token", "create", "--role", "ap_clerk", "--name", "ap-desk", "--ttl", "30d"])
    assert made.returncode == 0 and made.stdout.startswith("erp_")
    token = made.stdout.strip()
    assert token not in made.stderr and "30 days" in made.stderr
    listed = erpops(["token", "list"])
    assert [(t["name"], t["role"]) for t in listed] == [("ap-desk", "ap_clerk")] and listed[0]["expires_at"]
    bad_ttl = run(["token", "create", "--role", "viewer", "--name", "x", "--ttl", "forever"])
    assert bad_ttl.returncode == ExitCode.USAGE and "--ttl" in bad_ttl.stderr

    created = erpops(["roles", "create", "credit_desk", "sales.order.read", "sales.invoice.read"])
    assert created["permissions"] == ["sales.invoice.read", "sales.order.read"]
    assert erpops(["roles", "grant", "credit_desk", "sales.receipt.post"])["permissions"][-1] == "sales.receipt.post"
    assert erpops(["roles", "show", "credit_desk"])["builtin"] is False
    shown = erpops(["roles", "show", "ap_clerk"])
    assert "purchase.invoice.post" in shown["permissions"] and "purchase.payment.post" not in shown["permissions"]
    names = {r["name"]: r for r in erpops(["roles", "list"])}
    assert {"sales_clerk", "controller", "auditor", "credit_desk"} <= names.keys()

    refused = run(["roles", "revoke", "credit_desk", "sales.order.read"], ERPOPS_ROLE="viewer")
    assert refused.returncode == ExitCode.FAILED and "needs admin.roles" in refused.stderr
    unknown = run(["roles", "grant", "credit_desk", "sales.everything"])
    assert unknown.returncode == ExitCode.FAILED and "unknown permission" in unknown.stderr

    history = erpops(["audit", "show", "--entity", "credit_desk"])
    assert [(h["actor"], h["action"], h["outcome"]) for h in history] == [
        ("cli:alice", "admin.roles", "done"), ("cli:alice", "admin.roles", "done"),
        ("cli:alice", "admin.roles", "denied")]
    assert run(["audit", "verify"], ERPOPS_ROLE="viewer").returncode == ExitCode.FAILED  # the trail is not a viewer's
    verdict = erpops(["audit", "verify"], ERPOPS_ROLE="auditor")
    assert verdict["ok"] is True and verdict["checked"] == 4  # token, role, grant, the denied revoke

    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    tamper(engine, "UPDATE audit_event SET actor = 'mallory' WHERE actor = 'cli:alice' AND outcome = 'denied'")
    engine.dispose()
    broken = erpops(["audit", "verify"], code=ExitCode.FAILED)
    assert broken["ok"] is False and "edited" in broken["reason"] and len(broken["breaks"]) == 1
    table = run(["audit", "verify"])
    assert table.returncode == ExitCode.FAILED and "the audit trail is broken at chain" in table.stderr
