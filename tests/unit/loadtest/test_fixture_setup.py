"""The run's data setup over HTTP, against an in-process fake API (httpx.MockTransport): what it creates and
how a refusal or an unreachable API becomes `SetupFailed`."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import partial
from typing import Any

import httpx
import pytest

from loadtest import fixture
from loadtest.fixture import MANUFACTURED, STAFF, STOCK_PER_ITEM, SetupFailed, create_fixture


class FakeApi:
    """Answers every setup call with a fresh id; records what was posted; can refuse one path."""

    def __init__(self, refuse: str = "", status: int = 422, body: str = "") -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.answered: list[tuple[str, int]] = []  # (path, id given)
        self.auth: set[str] = set()
        self.refuse, self.status, self.body = refuse, status, body
        self.next_id = 100

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v1")
        self.auth.add(request.headers.get("authorization", ""))
        self.posts.append((path, json.loads(request.content) if request.content else {}))
        if path == self.refuse:
            return httpx.Response(self.status, text=self.body)
        self.next_id += 1
        self.answered.append((path, self.next_id))
        return httpx.Response(200 if path.endswith("/approve") else 201, json={"id": self.next_id})

    def posted(self, path: str) -> list[dict[str, Any]]:
        return [body for p, body in self.posts if p == path]


def _serve(monkeypatch: pytest.MonkeyPatch, handler: Any) -> None:
    """Every httpx.Client the setup opens answers from `handler` (the real one is bound before patching)."""
    monkeypatch.setattr(httpx, "Client", partial(httpx.Client, transport=httpx.MockTransport(handler)))


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    fake = FakeApi()
    _serve(monkeypatch, fake)
    return fake


def test_setup_creates_run_scoped_master_data_with_the_admin_token(api: FakeApi) -> None:
    made = create_fixture("http://erp.test/", {"admin": "tok-a", "sales": "tok-s"}, items=5, customers=2,
                          suppliers=2, seed=7, run_id="r1")
    assert api.auth == {"Bearer tok-a"}
    assert [b["code"] for b in api.posted("/suppliers")] == ["LT-r1-S0", "LT-r1-S1"]
    assert [b["code"] for b in api.posted("/customers")] == ["LT-r1-C0", "LT-r1-C1"]
    skus = [b["sku"] for b in api.posted("/items")]
    assert skus[:5] == [f"LT-r1-I{n}" for n in range(5)]
    assert skus[5:] == [f"LT-r1-M{n}" for n in range(MANUFACTURED)]
    assert made.suppliers == [101, 102] and made.customers == [103, 104]
    assert made.tokens == {"admin": "tok-a", "sales": "tok-s"}
    item_ids = [i for p, i in api.answered if p == "/items"]
    assert made.items == item_ids[:5]
    # two or three components each (2 + n % 2), all distinct purchased items
    assert made.extra == {"manufactured": {str(item_ids[5]): 2, str(item_ids[6]): 3}, "employees": STAFF}
    boms = api.posted("/boms")
    assert [b["item_id"] for b in boms] == item_ids[5:]
    for bom in boms:
        parts = [line["component_id"] for line in bom["lines"]]
        assert len(set(parts)) == len(parts) and set(parts) <= set(made.items)
    assert [e["code"] for e in api.posted("/employees")] == [f"LT-r1-E{n}" for n in range(STAFF)]
    assert {e["department"] for e in api.posted("/employees")} == {"LT-r1-D"}


def test_items_alternate_between_suppliers_and_cost_sixty_percent_of_their_price(api: FakeApi) -> None:
    made = create_fixture("http://erp.test", {"admin": "t"}, items=5, suppliers=2, customers=1, seed=1, run_id="r")
    for n, item in enumerate(made.items):
        price, cost = Decimal(made.prices[str(item)]), Decimal(made.costs[str(item)])
        assert Decimal("10.00") <= price < Decimal("200.00") and price == price.quantize(Decimal("0.01"))
        assert cost == (price * Decimal("0.6")).quantize(Decimal("0.01"))
        assert made.item_supplier[str(item)] == made.suppliers[n % 2]


def test_each_supplier_gets_one_order_for_its_own_items_approved_and_received(api: FakeApi) -> None:
    made = create_fixture("http://erp.test", {"admin": "t"}, items=5, suppliers=2, customers=1, seed=1, run_id="r")
    orders = api.posted("/purchase-orders")
    assert [o["supplier_id"] for o in orders] == made.suppliers
    first = [line["item_id"] for line in orders[0]["lines"]]
    assert first == made.items[0::2] and [line["item_id"] for line in orders[1]["lines"]] == made.items[1::2]
    line = orders[0]["lines"][0]
    assert line["quantity"] == str(STOCK_PER_ITEM) and line["unit_price"] == made.costs[str(line["item_id"])]
    steps = [p for p, _ in api.posts if p.startswith("/purchase-orders/")]
    assert len(steps) == 4 and steps[0].endswith("/approve") and steps[1].endswith("/receive")


def test_the_same_seed_gives_the_same_prices(api: FakeApi) -> None:
    one = create_fixture("http://erp.test", {"admin": "t"}, items=4, suppliers=1, customers=1, seed=42, run_id="r")
    two = create_fixture("http://erp.test", {"admin": "t"}, items=4, suppliers=1, customers=1, seed=42, run_id="r")
    assert list(one.prices.values()) == list(two.prices.values())


def test_a_refused_step_fails_setup_naming_the_step_status_and_a_cut_body(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeApi(refuse="/customers", status=422, body="x" * 400)
    _serve(monkeypatch, fake)
    with pytest.raises(SetupFailed) as raised:
        create_fixture("http://erp.test", {"admin": "t"}, items=1, suppliers=1, customers=3, run_id="r")
    assert raised.value.message == "setup: create customer answered 422: " + "x" * 300
    assert fake.posted("/items") == []  # nothing after the refused step


def test_approval_must_answer_200_not_201(monkeypatch: pytest.MonkeyPatch) -> None:
    class Created(FakeApi):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            super().__call__(request)
            return httpx.Response(201, json={"id": self.next_id})

    _serve(monkeypatch, Created())
    with pytest.raises(SetupFailed, match="^setup: approve purchase order answered 201: "):
        create_fixture("http://erp.test", {"admin": "t"}, items=1, suppliers=1, customers=1, run_id="r")


def test_an_unreachable_api_fails_setup_with_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    _serve(monkeypatch, refuse)
    with pytest.raises(SetupFailed, match="^setup: cannot reach the API at http://erp.test: connection refused$"):
        create_fixture("http://erp.test", {"admin": "t"}, run_id="r")
    assert SetupFailed.code == "setup_failed"


def test_a_fixture_round_trips_through_json() -> None:
    made = fixture.Fixture({"admin": "t"}, [1], [2], [3], {"3": "10.00"}, {"3": "6.00"}, {"3": 2},
                           "2026-12-01", "2026-12-03", 0.1, {"employees": 3})
    assert fixture.Fixture.from_json(json.loads(json.dumps(made.to_json()))) == made
