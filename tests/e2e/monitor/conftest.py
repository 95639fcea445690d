"""The real API (create_app, which mounts monitor through its `erpops.api` entry point) with a token per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from erpcore.access import create_token
from erpcore.api.app import create_app
from erpcore.services.bootstrap import Erp
from tests.asgi import Client
from tests.dbhelpers import sqlite_engine


@dataclass
class OpsApi:
    """`ops.get("/api/monitor/silences", role="viewer")`; role None sends no token."""

    app: FastAPI
    client: Client
    erp: Erp
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, role: str | None) -> dict[str, str]:
        if role is None:
            return {}
        if role not in self.tokens:
            self.tokens[role] = create_token(self.erp, role, f"test-{role}")
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def request(self, method: str, path: str, role: str | None = "admin", **kw: Any) -> httpx.Response:
        headers = {**self.headers(role), **kw.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kw)

    def get(self, path: str, role: str | None = "admin", **kw: Any) -> httpx.Response:
        return self.request("GET", path, role, **kw)

    def post(self, path: str, body: Any, role: str | None = "admin") -> httpx.Response:
        return self.request("POST", path, role, json=body)

    def delete(self, path: str, role: str | None = "admin") -> httpx.Response:
        return self.request("DELETE", path, role)


def make_ops(engine: Engine) -> OpsApi:
    app = create_app(engine)
    return OpsApi(app, Client(app), app.state.erp)


@pytest.fixture
def monitor_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ERPOPS_MONITOR__STATE_DIR", str(tmp_path / "monitor"))
    (tmp_path / "erpops.toml").write_text("")
    monkeypatch.setenv("ERPOPS_CONFIG", str(tmp_path / "erpops.toml"))
    monkeypatch.setenv("ERPOPS_MONITOR__API_URL", "http://erp.example:8000")
    return tmp_path


@pytest.fixture
def ops(monitor_env: Path) -> Iterator[OpsApi]:
    with sqlite_engine(monitor_env) as engine:
        yield make_ops(engine)
