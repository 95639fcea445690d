"""50 HTTP clients race to reserve three times the supply on PostgreSQL through a real uvicorn server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest
import uvicorn

from erpcore.api.app import create_app
from erpcore.models import StockBalance
from erpcore.services.bootstrap import Erp
from opskit.ports import free_port
from tests.e2e.api.conftest import V1, Api

CLIENTS = 50
EACH = 3
SUPPLY = 51  # 17 whole orders: about a third of the 150 demanded, and exactly reservable



@pytest.fixture
def server(erp: Erp) -> Iterator[str]:
    """A real uvicorn server on a free loopback port, in a background thread."""
    config = uvicorn.Config(create_app(erp), host="127.0.0.1", port=free_port(), log_level="warning",
                            lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{config.port}"
    srv.should_exit = True
    thread.join(10)


@pytest.mark.pg
def test_fifty_clients_reserve_exactly_the_supply(backend: str, request: pytest.FixtureRequest) -> None:
    api: Api = request.getfixturevalue("api")
    server: str = request.getfixturevalue("server")
    w = api.world()
    api.stock_up(w["supplier_id"], w["item_id"], str(SUPPLY))
    orders = [api.ok(api.post("/sales-orders", {"customer_id": w["customer_id"], "backorder_allowed": False,
                                                "lines": [{"item_id": w["item_id"], "quantity": str(EACH)}]}), 201)["id"]
              for _ in range(CLIENTS)]
    headers = api.headers("sales")
    barrier = threading.Barrier(CLIENTS)

    def approve(order_id: int) -> httpx.Response:
        with httpx.Client(base_url=server + V1, headers=headers, timeout=60) as client:
            barrier.wait()
            return client.post(f"/sales-orders/{order_id}/approve")

    with ThreadPoolExecutor(CLIENTS) as pool:
        responses = list(pool.map(approve, orders))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * (SUPPLY // EACH) + [409] * (CLIENTS - SUPPLY // EACH), statuses
    for loser in (r for r in responses if r.status_code == 409):
        assert loser.headers["content-type"] == "application/problem+json"
        assert loser.json()["code"] == "insufficient_stock"
    with api.erp.session_factory() as s:
        balance = s.get(StockBalance, (w["item_id"], 1))
    assert balance is not None and balance.reserved == Decimal(SUPPLY) and balance.on_hand == Decimal(SUPPLY)
