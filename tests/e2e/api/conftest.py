"""An HTTP client over the API on each backend, with one token per role made on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from erpcore.access import create_token
from erpcore.api.app import create_app
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
