"""Data setup for a run, through the HTTP API: parties, items and stock, and a token per role.

The fixture travels to the master (and local workers) as JSON in `ERPOPS_LOADTEST_FIXTURE`, which
`loadtest.locust_shape` reads into the Locust custom argument `--erpops-fixture`; Locust sends custom
arguments from the master to every worker, so a remote worker needs nothing but erpops installed.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from loadtest.tokens import RunTokens, new_run_id
from opskit.errors import Unavailable

ENV = "ERPOPS_LOADTEST_FIXTURE"
SUITE_ENV = "ERPOPS_LOADTEST_SUITE"  # the shipped locustfile's user class
SHAPE_ENV = "ERPOPS_LOADTEST_SHAPE"  # a `loadtest.shapes.ShapeSpec` as JSON
LIVE_ENV = "ERPOPS_LOADTEST_LIVE"  # where the master writes its statistics every second
STOP_ENV = "ERPOPS_LOADTEST_STOP"  # a file whose existence ends the shape (and so the run) early
WORKERS_ENV = "ERPOPS_LOADTEST_WORKERS"  # where the master writes what each worker reported
WORKER_NAME_ENV = "ERPOPS_LOADTEST_WORKER_NAME"  # a worker's name in the verdict (`worker-1`, a remote's own)
WORKER_STATUS_ENV = "ERPOPS_LOADTEST_WORKER_STATUS"  # where a worker writes its run's shape and its own counts
ALL_SUITES = "all"  # the SUITE_ENV of a remote worker: every suite class, the master picks which runs
API = "/api/v1"
STOCK_PER_ITEM = Decimal(1_000_000)


class SetupFailed(Unavailable):
    """The API refused the data setup: the run cannot start (a harness failure, exit 4)."""

    code = "setup_failed"


@dataclass(frozen=True)
class Fixture:
    """What the suites need: tokens by role, master data ids, item prices and the reporting period."""

    tokens: dict[str, str]
    customers: list[int]
    suppliers: list[int]
    items: list[int]
    prices: dict[str, str]  # item id -> list price
    costs: dict[str, str]  # item id -> standard cost (the price suppliers invoice)
    item_supplier: dict[str, int]
    period_from: str
    period_to: str
    inject_errors: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fixture:
        return cls(**data)


def tokens_from_database(database_url: str, run_id: str) -> dict[str, str]:
    """One fresh token per role, created directly in the database the server uses (never revoked: a run
    uses `loadtest.tokens.RunTokens`, which revokes them when it ends)."""
    return RunTokens(database_url, run_id).create()


def _ok(response: httpx.Response, status: int, what: str) -> Any:
    if response.status_code != status:
        raise SetupFailed(f"setup: {what} answered {response.status_code}: {response.text[:300]}")
    return response.json()


def create_fixture(host: str, tokens: dict[str, str], *, items: int = 20, customers: int = 10,
                   suppliers: int = 3, seed: int | None = None, inject_errors: float = 0.0,
                   timeout: float = 60.0, run_id: str | None = None) -> Fixture:
    """Create suppliers, customers and items over HTTP, then buy and receive plenty of every item.

    Their codes carry the run id (`LT-<run id>-C0`), so a run's data is told apart from any other's.
    """
    rng = random.Random(seed)
    run = run_id or new_run_id()
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    try:
        with httpx.Client(base_url=host.rstrip("/") + API, headers=admin, timeout=timeout) as client:
            sup_ids = [_ok(client.post("/suppliers", json={"code": f"LT-{run}-S{n}", "name": f"Load supplier {n}"}),
                           201, "create supplier")["id"] for n in range(suppliers)]
            cus_ids = [_ok(client.post("/customers", json={"code": f"LT-{run}-C{n}", "name": f"Load customer {n}"}),
                           201, "create customer")["id"] for n in range(customers)]
            prices, costs, item_supplier, item_ids = {}, {}, {}, []
            for n in range(items):
                price = Decimal(rng.randrange(1000, 20000)) / 100
                cost = (price * Decimal("0.6")).quantize(Decimal("0.01"))
                supplier = sup_ids[n % len(sup_ids)]
                item = _ok(client.post("/items", json={
                    "sku": f"LT-{run}-I{n}", "name": f"Load item {n}", "standard_cost": str(cost),
                    "list_price": str(price), "default_supplier_id": supplier}), 201, "create item")["id"]
                item_ids.append(item)
                prices[str(item)], costs[str(item)], item_supplier[str(item)] = str(price), str(cost), supplier
            for supplier in sup_ids:
                lines = [{"item_id": i, "quantity": str(STOCK_PER_ITEM), "unit_price": costs[str(i)]}
                         for i in item_ids if item_supplier[str(i)] == supplier]
                po = _ok(client.post("/purchase-orders", json={"supplier_id": supplier, "lines": lines}), 201,
                         "create purchase order")["id"]
                _approved(client, tokens, po)
                _ok(client.post(f"/purchase-orders/{po}/receive"), 201, "receive goods")
            extra = {"manufactured": _manufactured(client, run, item_ids, rng),
                     "employees": _staff(client, run, rng)}
    except httpx.HTTPError as exc:
        raise SetupFailed(f"setup: cannot reach the API at {host}: {exc}") from exc
    today = dt.date.today()
    return Fixture(tokens, cus_ids, sup_ids, item_ids, prices, costs, item_supplier,
                   today.replace(day=1).isoformat(), today.isoformat(), inject_errors, extra)


def _approved(client: httpx.Client, tokens: dict[str, str], po: int) -> None:
    """Approve a stock-up purchase order; where the rulebook holds it for approval (a seeded database loads the
    default one), the run's other tokens decide it, step after step, as approvers other than its creator (admin)
    would, until it is approved or a round decides nothing more."""
    status = _ok(client.post(f"/purchase-orders/{po}/approve"), 200, "approve purchase order").get("status")
    deciders = [token for role, token in tokens.items() if role != "admin"] + [tokens["admin"]]
    progress = True
    while status == "pending_approval" and progress:
        progress = False
        for token in deciders:
            decided = client.post(f"/purchase-orders/{po}/decision", json={"decision": "approve"},
                                  headers={"Authorization": f"Bearer {token}"})
            if decided.status_code == 200:
                status, progress = decided.json()["status"], True
                if status != "pending_approval":
                    break
    if status == "pending_approval":
        raise SetupFailed(f"setup: stock-up purchase order {po} stays {status}: the rulebook's approval rules "
                          "need approvers this run has no token for (see `erpops rules list`)")


MANUFACTURED = 2  # items the production suite makes, each from a few of the purchased ones


def _manufactured(client: httpx.Client, run: str, item_ids: list[int], rng: random.Random) -> dict[str, int]:
    """Manufactured items with a bill of materials of two or three purchased items (in stock by the million);
    returns item id (as text) -> its number of components."""
    made: dict[str, int] = {}
    for n in range(MANUFACTURED):
        item = _ok(client.post("/items", json={
            "sku": f"LT-{run}-M{n}", "name": f"Load product {n}", "standard_cost": "0", "list_price": "100.00",
            "procurement": "manufactured"}), 201, "create manufactured item")["id"]
        parts = rng.sample(item_ids, min(len(item_ids), 2 + n % 2))
        _ok(client.post("/boms", json={"item_id": item, "lines": [
            {"component_id": p, "quantity": str(rng.randint(1, 4)), "scrap_factor": "0.05"} for p in parts]}),
            201, "create bill of materials")
        made[str(item)] = len(parts)
    return made


STAFF = 3  # employees the month-end close pays, in one department of the run's own


def _staff(client: httpx.Client, run: str, rng: random.Random) -> int:
    """A department and a few employees for the month-end payroll step; returns how many were hired."""
    department = f"LT-{run}-D"
    _ok(client.post("/payroll/departments", json={"code": department, "name": "Load department",
                                                  "cost_centre": "LT"}), 201, "create department")
    for n in range(STAFF):
        _ok(client.post("/employees", json={
            "code": f"LT-{run}-E{n}", "name": f"Load employee {n}", "department": department,
            "salary": str(Decimal(rng.randrange(250000, 600000)) / 100),
            "hired_on": dt.date.today().replace(day=1).isoformat()}), 201, "hire employee")
    return STAFF
