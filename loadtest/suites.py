"""The Locust suites: business flows as tasks over the real API, each checking the content it gets back.

Imported only inside Locust processes (Locust monkey-patches with gevent on import). Every request is
named by its endpoint template (`POST /sales-orders/[id]/approve`); every content check is logged as a
`CHECK` entry of the same name (failed when the content is wrong, with no response time); every whole
flow as a `TASK` entry (`order_to_cash`) timed from its first request to its last.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from locust import FastHttpUser, between, constant_pacing

from loadtest.fixture import API, ENV, SHAPE_ENV, Fixture
from loadtest.metrics import CHECK, TASK
from loadtest.shapes import ShapeKind, ShapeSpec

LINES = 5
BAD_TOKEN = "erp_injected-error-not-a-token"


class CheckFailed(Exception):
    """A response arrived with the wrong content."""


class FlowBroken(Exception):
    """A step of a business flow failed; the rest of the flow is skipped."""


def _setting(environment: Any, name: str, env: str) -> str:
    """A custom argument of the run (on a worker, as the master sent it), else its environment variable."""
    value = getattr(getattr(environment, "parsed_options", None), name, None)
    return str(value) if value else os.environ.get(env, "")


def _fixture(environment: Any) -> Fixture:
    raw = _setting(environment, "erpops_fixture", ENV)
    if not raw:
        raise RuntimeError(f"{ENV} is not set: run the suites through `erpops loadtest run`")
    return Fixture.from_json(json.loads(raw))


_THINK = between(0.05, 0.3)


def _wait_time(environment: Any) -> Callable[[Any], float]:
    raw = _setting(environment, "erpops_shape", SHAPE_ENV)
    spec = ShapeSpec.from_json(json.loads(raw)) if raw else None
    if spec is not None and spec.kind is ShapeKind.ARRIVAL:
        return constant_pacing(spec.pace_s)
    return _THINK


class ErpUser(FastHttpUser):
    """A clerk of the business: calls the API with the token of the role each step needs."""

    abstract = True
    fixture: Fixture
    _wait: Callable[[Any], float] | None = None

    def wait_time(self) -> float:  # decided per user: a worker learns the shape from the master's first spawn
        return (self._wait or _THINK)(self)

    def on_start(self) -> None:
        self.fixture = _fixture(self.environment)
        self._wait = _wait_time(self.environment)
        self.rng = random.Random()

    def check(self, name: str, ok: bool, message: str) -> bool:
        """Log one content check as a CHECK entry named like its request."""
        self.environment.events.request.fire(request_type=CHECK, name=name, response_time=None, response_length=0,
                                             exception=None if ok else CheckFailed(message), context={})
        return ok

    def call(self, method: str, path: str, name: str, role: str, body: Any = None, expect: int = 200) -> Any:
        """One request, logged under the template in `name` (`POST /x/[id]`); another status than `expect`
        fails it and breaks the flow."""
        token = self.fixture.tokens[role]
        if self.fixture.inject_errors and self.rng.random() < self.fixture.inject_errors:
            token = BAD_TOKEN
        headers = {"Authorization": f"Bearer {token}"}
        with self.client.request(method, API + path, name=name.split(" ", 1)[-1], json=body, headers=headers,
                                 catch_response=True) as response:
            if response.status_code != expect:
                response.failure(f"{response.status_code} (wanted {expect}): {(response.text or '')[:200]}")
                raise FlowBroken(name)
            try:
                data = response.json()
            except ValueError:
                response.failure("the body is not JSON")
                raise FlowBroken(name) from None
            response.success()
            return data

    def flow(self, name: str, steps: Callable[[], None]) -> None:
        """Run a whole business flow, logged as one TASK entry (failed when any step or check failed)."""
        started = time.perf_counter()
        error: Exception | None = None
        try:
            steps()
        except FlowBroken as exc:
            error = exc
        self.environment.events.request.fire(request_type=TASK, name=name, response_length=0, context={},
                                             response_time=(time.perf_counter() - started) * 1000,
                                             exception=error)

    def expect(self, name: str, ok: bool, message: str) -> None:
        """A check whose failure also breaks the flow (the next step would make no sense)."""
        if not self.check(name, ok, message):
            raise FlowBroken(f"{name}: {message}")


def order_to_cash(user: ErpUser) -> None:
    """Create a five-line order, approve (reserve), ship, invoice and collect it; the order ends closed."""
    fx = user.fixture

    def steps() -> None:
        items = user.rng.sample(fx.items, min(LINES, len(fx.items)))
        quantities = {i: user.rng.randint(1, 3) for i in items}
        lines = [{"item_id": i, "quantity": str(q)} for i, q in quantities.items()]
        net = sum((q * Decimal(fx.prices[str(i)]) for i, q in quantities.items()), Decimal(0))
        name = "POST /sales-orders"
        so = user.call("POST", "/sales-orders", name, "sales",
                       {"customer_id": user.rng.choice(fx.customers), "lines": lines}, 201)
        user.expect(name, so["status"] == "draft" and len(so["lines"]) == len(lines)
                    and Decimal(so["net_amount"]) == net, f"order {so.get('id')} is not the draft sent")
        order = so["id"]
        name = "POST /sales-orders/[id]/approve"
        approved = user.call("POST", f"/sales-orders/{order}/approve", name, "sales")
        user.expect(name, approved["status"] == "approved" and all(
            Decimal(x["qty_reserved"]) == Decimal(x["quantity"]) for x in approved["lines"]),
            f"order {order} is not approved and fully reserved")
        name = "POST /sales-orders/[id]/ship"
        shipment = user.call("POST", f"/sales-orders/{order}/ship", name, "warehouse", None, 201)
        user.expect(name, shipment["sales_order_id"] == order and shipment["status"] == "posted"
                    and len(shipment["lines"]) == len(lines), f"the shipment of order {order} is not complete")
        name = "POST /sales-orders/[id]/invoice"
        invoice = user.call("POST", f"/sales-orders/{order}/invoice", name, "finance", None, 201)
        total = Decimal(invoice["total_amount"])
        user.expect(name, Decimal(invoice["net_amount"]) == net and total == net + Decimal(invoice["tax_amount"])
                    and invoice["status"] == "posted", f"the invoice of order {order} does not add up")
        name = "POST /customer-invoices/[id]/receipts"
        receipt = user.call("POST", f"/customer-invoices/{invoice['id']}/receipts", name, "finance", None, 201)
        user.expect(name, Decimal(receipt["amount"]) == total, f"the receipt for order {order} is not the total")
        name = "GET /sales-orders/[id]"
        final = user.call("GET", f"/sales-orders/{order}", name, "viewer")
        user.check(name, final["status"] == "closed", f"order {order} is {final['status']}, not closed")

    user.flow("order_to_cash", steps)


def procure_to_pay(user: ErpUser) -> None:
    """Raise a requisition, order it, approve, receive, register the matching invoice and pay it."""
    fx = user.fixture

    def steps() -> None:
        item = user.rng.choice(fx.items)
        qty = str(user.rng.randint(5, 50))
        name = "POST /purchase-requisitions"
        req = user.call("POST", "/purchase-requisitions", name, "purchasing", {"item_id": item, "quantity": qty}, 201)
        user.expect(name, req["status"] == "open" and Decimal(req["quantity"]) == Decimal(qty),
                    f"requisition {req.get('id')} is not open for {qty}")
        name = "POST /purchase-orders"
        cost = fx.costs[str(item)]
        po = user.call("POST", "/purchase-orders", name, "purchasing", {
            "supplier_id": fx.item_supplier[str(item)],
            "lines": [{"item_id": item, "quantity": qty, "unit_price": cost, "requisition_id": req["id"]}]}, 201)
        user.expect(name, po["status"] == "draft" and po["lines"][0]["requisition_id"] == req["id"],
                    f"purchase order {po.get('id')} does not consume requisition {req['id']}")
        name = "POST /purchase-orders/[id]/approve"
        approved = user.call("POST", f"/purchase-orders/{po['id']}/approve", name, "purchasing")
        user.expect(name, approved["status"] == "approved", f"purchase order {po['id']} is {approved['status']}")
        name = "POST /purchase-orders/[id]/receive"
        receipt = user.call("POST", f"/purchase-orders/{po['id']}/receive", name, "warehouse", None, 201)
        user.expect(name, Decimal(receipt["lines"][0]["quantity"]) == Decimal(qty),
                    f"goods receipt {receipt.get('id')} is not for {qty}")
        name = "POST /supplier-invoices"
        invoice = user.call("POST", "/supplier-invoices", name, "purchasing", {  # entered by purchasing, paid by finance (SoD)
            "purchase_order_id": po["id"], "supplier_ref": f"LT-{po['id']}-{user.rng.getrandbits(32):x}",
            "lines": [{"line_no": 1, "quantity": qty, "unit_price": cost}]}, 201)
        user.expect(name, invoice["status"] == "matched", f"invoice for PO {po['id']} is {invoice['status']}: "
                                                          f"{invoice.get('reason')}")
        name = "POST /supplier-invoices/[id]/pay"
        payment = user.call("POST", f"/supplier-invoices/{invoice['id']}/pay", name, "finance", None, 201)
        user.check(name, Decimal(payment["amount"]) == Decimal(invoice["total_amount"]),
                   f"payment {payment.get('id')} is not the invoice's total")

    user.flow("procure_to_pay", steps)


def browse(user: ErpUser) -> None:
    """Page through orders, open one, look up items, a customer and paid invoices."""
    fx = user.fixture

    def steps() -> None:
        name = "GET /sales-orders"
        page = user.call("GET", "/sales-orders?limit=20", name, "viewer")
        user.expect(name, isinstance(page["items"], list) and len(page["items"]) <= 20
                    and "next" in page, "the order list is not a page of at most 20")
        if page["items"]:
            wanted = user.rng.choice(page["items"])["id"]
            name = "GET /sales-orders/[id]"
            order = user.call("GET", f"/sales-orders/{wanted}", name, "viewer")
            user.check(name, order["id"] == wanted and len(order["lines"]) >= 1, f"order {wanted} came back wrong")
        name = "GET /items"
        items = user.call("GET", "/items?limit=50", name, "viewer")
        user.check(name, len(items["items"]) >= 1 and all("sku" in x for x in items["items"]), "no items listed")
        customer = user.rng.choice(fx.customers)
        name = "GET /customers/[id]"
        party = user.call("GET", f"/customers/{customer}", name, "viewer")
        user.check(name, party["id"] == customer, f"customer {customer} came back as {party.get('id')}")
        name = "GET /customer-invoices"
        paid = user.call("GET", "/customer-invoices?status=paid&limit=20", name, "viewer")
        user.check(name, all(x["status"] == "paid" for x in paid["items"]), "the paid filter let others through")

    user.flow("browse", steps)


def reports(user: ErpUser) -> None:
    """The month's trial balance (balanced) and the stock valuation (rows add up to the total)."""
    fx = user.fixture

    def steps() -> None:
        name = "GET /reports/trial-balance"
        tb = user.call("GET", f"/reports/trial-balance?date_from={fx.period_from}&date_to={fx.period_to}", name,
                       "finance")
        t = tb["totals"]
        user.check(name, Decimal(t["debit"]) == Decimal(t["credit"]) and Decimal(t["closing"]) == 0,
                   f"the trial balance does not balance: {t}")
        name = "GET /reports/stock-valuation"
        sv = user.call("GET", "/reports/stock-valuation", name, "finance")
        rows_value = sum((Decimal(r["value"]) for r in sv["rows"]), Decimal(0))
        user.check(name, len(sv["rows"]) >= 1 and abs(rows_value - Decimal(sv["total_value"])) < Decimal("0.01")
                   * len(sv["rows"]), "stock valuation rows do not add up to the total")

    user.flow("reports", steps)


def plan_to_produce(user: ErpUser) -> None:
    """Plan a work order for a manufactured item, release (reserve), issue, receive and close it: its finished
    goods take every cent it issued, so it closes without variance."""
    fx = user.fixture

    def steps() -> None:
        made = fx.extra.get("manufactured") or {}
        user.expect("production fixture", bool(made), "the fixture has no manufactured item")
        item = user.rng.choice(sorted(made))
        qty = str(user.rng.randint(1, 5))
        name = "POST /work-orders"
        wo = user.call("POST", "/work-orders", name, "warehouse", {"item_id": int(item), "quantity": qty}, 201)
        user.expect(name, wo["status"] == "planned" and len(wo["lines"]) == made[item]
                    and Decimal(wo["quantity"]) == Decimal(qty), f"work order {wo.get('id')} is not the plan sent")
        path = f"/work-orders/{wo['id']}"
        name = "POST /work-orders/[id]/release"
        released = user.call("POST", f"{path}/release", name, "warehouse")
        user.expect(name, released["status"] == "released" and all(
            Decimal(x["qty_reserved"]) == Decimal(x["quantity"]) for x in released["lines"]),
            f"work order {wo['id']} is not released with every component reserved")
        name = "POST /work-orders/[id]/issue"
        issued = user.call("POST", f"{path}/issue", name, "warehouse")
        cost = Decimal(issued["issued_cost"])
        user.expect(name, issued["status"] == "issued" and cost > 0 and cost == sum(
            (Decimal(x["issued_cost"]) for x in issued["lines"]), Decimal(0)),
            f"work order {wo['id']}'s issued cost is not its lines'")
        name = "POST /work-orders/[id]/receive"
        received = user.call("POST", f"{path}/receive", name, "warehouse")
        user.expect(name, Decimal(received["received_cost"]) == cost, f"work order {wo['id']} received "
                                                                      f"{received['received_cost']}, issued {cost}")
        name = "POST /work-orders/[id]/close"
        closed = user.call("POST", f"{path}/close", name, "warehouse")
        user.check(name, closed["status"] == "closed" and Decimal(closed["variance_amount"]) == 0,
                   f"work order {wo['id']} closed with a variance of {closed['variance_amount']}")

    user.flow("plan_to_produce", steps)


def payroll_close(user: ErpUser) -> None:
    """The month's payroll at the close: run it (a month runs once; a second call answers with that run), pay
    it, and read the payroll summary, whose departments add up to the run."""
    fx = user.fixture
    period = fx.period_from[:7]

    def steps() -> None:
        user.expect("payroll fixture", bool(fx.extra.get("employees")), "the fixture hired nobody")
        name = "POST /payroll/runs/[period]"
        run = user.call("POST", f"/payroll/runs/{period}", name, "finance", None, 201)
        user.expect(name, run["period"] == period and run["headcount"] >= 1 and Decimal(run["gross_amount"]) ==
                    Decimal(run["deduction_amount"]) + Decimal(run["net_amount"]),
                    f"the {period} run does not add up: {run}")
        name = "POST /payroll/runs/[period]/pay"
        paid = user.call("POST", f"/payroll/runs/{period}/pay", name, "finance")
        user.expect(name, paid["status"] == "paid" and paid["id"] == run["id"], f"the {period} run is not paid")
        name = "GET /reports/payroll-summary"
        summary = user.call("GET", f"/reports/payroll-summary?period={period}", name, "finance")
        nets = sum((Decimal(r["net"]) for r in summary["rows"]), Decimal(0))
        user.check(name, nets == Decimal(summary["total"]["net"]) == Decimal(paid["net_amount"]),
                   f"the summary's departments ({nets}) do not add up to the run's net {paid['net_amount']}")

    user.flow("payroll_close", steps)


class OrderToCashUser(ErpUser):
    tasks = [order_to_cash]  # noqa: RUF012  (Locust's own class attribute)


class ProcureToPayUser(ErpUser):
    tasks = [procure_to_pay]  # noqa: RUF012


class BrowseUser(ErpUser):
    tasks = [browse]  # noqa: RUF012


class ReportsUser(ErpUser):
    tasks = [reports]  # noqa: RUF012


class ProductionUser(ErpUser):
    tasks = [plan_to_produce]  # noqa: RUF012


class BusinessDayUser(ErpUser):
    """A day weighted like the business: mostly looking things up, selling twice as often as buying."""

    tasks = {browse: 5, order_to_cash: 3, procure_to_pay: 1, reports: 1}  # type: ignore[assignment]  # noqa: RUF012


class MonthEndUser(ErpUser):
    """The close: reports, the last postings and the month's payroll crowd out browsing."""

    tasks = {reports: 4, order_to_cash: 2, procure_to_pay: 2, payroll_close: 1, browse: 1}  # type: ignore[assignment]  # noqa: RUF012


SUITES: dict[str, type[ErpUser]] = {
    "o2c": OrderToCashUser, "p2p": ProcureToPayUser, "browse": BrowseUser, "reports": ReportsUser,
    "day": BusinessDayUser, "month-end": MonthEndUser, "production": ProductionUser,
}
