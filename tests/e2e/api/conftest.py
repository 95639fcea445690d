"""An HTTP client over the API on each backend, with one token per role made on demand."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from erpcore.access import create_token, lookup
from erpcore.api.app import create_app
from erpcore.api.owner import OwnerLock
from erpcore.services.bootstrap import Erp
from tests.asgi import Client
from tests.factories import uid

V1 = "/api/v1"


@dataclass
class Api:
    """An in-process client plus tokens: `api.post("/items", {...}, role="admin")`."""

    client: Client
    erp: Erp
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, role: str) -> str:
        if role not in self.tokens:
            self.tokens[role] = create_token(self.erp, role, f"test-{role}")
        return self.tokens[role]

    def headers(self, role: str | None, key: str | None = None) -> dict[str, str]:
        headers = {} if role is None else {"Authorization": f"Bearer {self.token(role)}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def post(self, path: str, body: Any = None, role: str | None = "admin", key: str | None = None) -> httpx.Response:
        return self.client.post(V1 + path, json=body, headers=self.headers(role, key))

    def get(self, path: str, role: str | None = "admin", **params: Any) -> httpx.Response:
        return self.client.get(V1 + path, params=params, headers=self.headers(role))

    def ok(self, response: httpx.Response, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    def world(self, price: str = "10.00", cost: str = "6.00") -> dict[str, int]:
        """A supplier, a customer and an item, created over HTTP."""
        sup = self.ok(self.post("/suppliers", {"code": uid("SUP"), "name": "Supplier"}), 201)["id"]
        cus = self.ok(self.post("/customers", {"code": uid("CUS"), "name": "Customer"}), 201)["id"]
        item = self.ok(self.post("/items", {"sku": uid("SKU"), "name": "Widget", "standard_cost": cost,
                                            "list_price": price, "default_supplier_id": sup}), 201)["id"]
        return {"supplier_id": sup, "customer_id": cus, "item_id": item}

    def token_id(self, role: str = "admin") -> int:
        actor = lookup(self.erp.engine, self.token(role))
        assert actor is not None and actor.token_id is not None
        return actor.token_id

    @contextmanager
    def live_owner(self, key: str, role: str = "admin") -> Iterator[None]:
        """The owner of an in-flight `key`, alive: on PostgreSQL a session holding the key's advisory lock
        (on SQLite an in-flight key is its owner's for `keystore.STALE_AFTER`); the session dies on exit."""
        if self.erp.engine.dialect.name != "postgresql":
            yield
            return
        conn = self.erp.engine.connect()
        try:
            conn.execute(text(f"SELECT pg_advisory_lock({OwnerLock.SQL})"),
                         {"key": key, "token_id": self.token_id(role)})
            conn.commit()
            yield
        finally:
            conn.invalidate()  # the session ends, and its locks with it
            conn.close()

    def stock_up(self, supplier_id: int, item_id: int, qty: str, price: str = "6.00") -> int:
        """Buy and receive `qty` over HTTP; returns the purchase order id."""
        po = self.ok(self.post("/purchase-orders", {"supplier_id": supplier_id, "lines": [
            {"item_id": item_id, "quantity": qty, "unit_price": price}]}), 201)["id"]
        self.ok(self.post(f"/purchase-orders/{po}/approve"))
        self.ok(self.post(f"/purchase-orders/{po}/receive"), 201)
        return int(po)


@pytest.fixture
def api(erp: Erp) -> Api:
    """The API over a fresh database of each backend; server errors come back as 500 responses."""
    return Api(Client(create_app(erp)), erp)
