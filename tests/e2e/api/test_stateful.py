"""Random sequences of API actions — create, approve, ship, invoice, receive, pay, cancel, retry with the same
key — on both engines, with `erpops check` after every step: no sequence may leak money or stock.

The default run is short (a few sequences); `ERPOPS_STATEFUL_EXAMPLES=200 pytest -m slow ...` runs it longer.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from erpcore.check import run_check
from tests.e2e.api.conftest import Api
from tests.factories import uid

EXAMPLES = int(os.environ.get("ERPOPS_STATEFUL_EXAMPLES", "4"))
ALLOWED = {200, 201, 409, 422}


def machine_for(api: Api, check_every: int = 1) -> type[RuleBasedStateMachine]:
    """The machine; `erpops check` runs after every `check_every`-th step and at the end of each sequence."""

    class ErpActions(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.steps = 0
            self.w = api.world(price="10.05", cost="1.005")
            self.orders: list[int] = []
            self.shipments: list[int] = []
            self.invoices: list[int] = []
            self.pos: list[int] = []
            self.bills: list[int] = []
            self.last: tuple[str, Any, str, Any] | None = None  # path, body, key, first response

        def send(self, path: str, body: Any = None) -> Any:
            key = uid("key")
            response = api.post(path, body, key=key)
            assert response.status_code in ALLOWED, (path, body, response.status_code, response.text)
            self.last = (path, body, key, (response.status_code, response.text))
            return response.json() if response.status_code in (200, 201) else None

        @rule(qty=st.integers(1, 6), discount=st.sampled_from(["0", "10", "12.5"]))
        def create_order(self, qty: int, discount: str) -> None:
            made = self.send("/sales-orders", {"customer_id": self.w["customer_id"], "lines": [
                {"item_id": self.w["item_id"], "quantity": str(qty), "discount_percent": discount}]})
            if made:
                self.orders.append(made["id"])

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def approve(self, data: st.DataObject) -> None:
            self.send(f"/sales-orders/{data.draw(st.sampled_from(self.orders))}/approve")

        @precondition(lambda self: self.orders)
        @rule(data=st.data(), qty=st.none() | st.integers(1, 3))
        def ship(self, data: st.DataObject, qty: int | None) -> None:
            body = None if qty is None else {"lines": [{"line_no": 1, "quantity": str(qty)}]}
            made = self.send(f"/sales-orders/{data.draw(st.sampled_from(self.orders))}/ship", body)
            if made:
                self.shipments.append(made["id"])

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def invoice(self, data: st.DataObject) -> None:
            made = self.send(f"/sales-orders/{data.draw(st.sampled_from(self.orders))}/invoice")
            if made:
                self.invoices.append(made["id"])

        @precondition(lambda self: self.invoices)
        @rule(data=st.data(), cents=st.none() | st.integers(1, 5000))
        def receive_payment(self, data: st.DataObject, cents: int | None) -> None:
            body = None if cents is None else {"amount": str(Decimal(cents) / 100)}
            self.send(f"/customer-invoices/{data.draw(st.sampled_from(self.invoices))}/receipts", body)

        @precondition(lambda self: self.shipments)
        @rule(data=st.data())
        def cancel_shipment(self, data: st.DataObject) -> None:
            self.send(f"/shipments/{data.draw(st.sampled_from(self.shipments))}/cancel")

        @precondition(lambda self: self.invoices)
        @rule(data=st.data())
        def cancel_invoice(self, data: st.DataObject) -> None:
            self.send(f"/customer-invoices/{data.draw(st.sampled_from(self.invoices))}/cancel")

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def cancel_order(self, data: st.DataObject) -> None:
            self.send(f"/sales-orders/{data.draw(st.sampled_from(self.orders))}/cancel")

        @rule(qty=st.integers(1, 12))
        def buy(self, qty: int) -> None:
            po = self.send("/purchase-orders", {"supplier_id": self.w["supplier_id"], "lines": [
                {"item_id": self.w["item_id"], "quantity": str(qty), "unit_price": "1.005"}]})
            self.send(f"/purchase-orders/{po['id']}/approve")
            self.pos.append(po["id"])

        @precondition(lambda self: self.pos)
        @rule(data=st.data(), qty=st.none() | st.integers(1, 4))
        def receive_goods(self, data: st.DataObject, qty: int | None) -> None:
            body = None if qty is None else {"lines": [{"line_no": 1, "quantity": str(qty)}]}
            self.send(f"/purchase-orders/{data.draw(st.sampled_from(self.pos))}/receive", body)

        @precondition(lambda self: self.pos)
        @rule(data=st.data(), lines=st.lists(st.integers(1, 6), min_size=1, max_size=2),
              price=st.sampled_from(["1.005", "1.00", "1.02"]))
        def bill(self, data: st.DataObject, lines: list[int], price: str) -> None:
            made = self.send("/supplier-invoices", {
                "purchase_order_id": data.draw(st.sampled_from(self.pos)), "supplier_ref": uid("REF"),
                "lines": [{"line_no": 1, "quantity": str(q), "unit_price": price} for q in lines]})
            if made:
                self.bills.append(made["id"])

        @precondition(lambda self: self.bills)
        @rule(data=st.data())
        def pay_bill(self, data: st.DataObject) -> None:
            self.send(f"/supplier-invoices/{data.draw(st.sampled_from(self.bills))}/pay")

        @precondition(lambda self: self.bills)
        @rule(data=st.data())
        def cancel_bill(self, data: st.DataObject) -> None:
            self.send(f"/supplier-invoices/{data.draw(st.sampled_from(self.bills))}/cancel")

        @precondition(lambda self: self.last is not None)
        @rule()
        def retry_last(self) -> None:
            """A client that got an answer retries with the same key: it gets the same answer, nothing runs twice."""
            assert self.last is not None
            path, body, key, (status, text) = self.last
            again = api.post(path, body, key=key)
            assert (again.status_code, again.text) == (status, text)

        @invariant()
        def books_balance(self) -> None:
            self.steps += 1
            if self.steps % check_every == 0:
                self.teardown()

        def teardown(self) -> None:
            report = run_check(api.erp.engine)
            assert report.ok, [v.message for v in report.violations]

    return ErpActions


def test_random_api_sequences_never_break_an_invariant(api: Api) -> None:
    run_state_machine_as_test(machine_for(api), settings=settings(
        max_examples=EXAMPLES, stateful_step_count=12, deadline=None, derandomize=EXAMPLES <= 4,
        suppress_health_check=list(HealthCheck)))


@pytest.mark.slow
def test_longer_random_sequences(api: Api) -> None:
    """Fifty sequences of 25 steps, checked every fifth step and at the end of each. Checked after every step,
    this was the suite's slowest test (204 s on PostgreSQL in a full two-worker run: the database grows with
    each sequence, and so does each check); now 52 s alone."""
    run_state_machine_as_test(machine_for(api, check_every=5), settings=settings(
        max_examples=max(EXAMPLES, 50), stateful_step_count=25, deadline=None,
        suppress_health_check=list(HealthCheck)))
