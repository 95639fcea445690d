"""What the business rules cost a sales order: create + approve cycles with the controls in force against the
same cycles with the controls' reads bypassed, in one process on one database (alternating rounds).

Run: .venv/bin/python -m bench.rules_overhead [--engine sqlite|pg] [--orders 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

from sqlalchemy import Engine

from erpcore.access import AccessRole, Actor
from erpcore.db import make_engine
from erpcore.domain.rules import DEFAULT_CONTROLS
from erpcore.migrate import scratch_schema, upgrade
from erpcore.services import approvals, controls, rulebook, sales, sales_controls
from erpcore.services.bootstrap import Erp, bootstrap
from erpcore.services.sales import OrderLineInput

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
CLERK = Actor("bench-sales", AccessRole.SALES)
EMPTY = controls.Rulebook(None, dict(DEFAULT_CONTROLS), ())


@contextlib.contextmanager
def database(kind: str) -> Iterator[Engine]:
    if kind == "pg":
        with scratch_schema(DEFAULT_PG, "bench_rules") as (engine, _name):
            yield engine
        return
    with tempfile.TemporaryDirectory() as where:
        engine = make_engine(f"sqlite:///{Path(where) / 'bench.sqlite'}")
        upgrade(engine)
        yield engine
        engine.dispose()


@contextlib.contextmanager
def bypassed() -> Iterator[None]:
    """The controls' reads and checks skipped: what the services did before the rules."""
    with mock.patch.object(controls, "enforce", lambda *a, **k: None), \
            mock.patch.object(sales_controls, "order_findings", lambda *a, **k: []), \
            mock.patch.object(sales_controls, "credit_findings", lambda *a, **k: []), \
            mock.patch.object(sales_controls, "facts", lambda *a, **k: (None, EMPTY)), \
            mock.patch.object(approvals, "submit", lambda *a, **k: []):
        yield


def cycles(erp: Erp, customer: int, item: int, orders: int) -> float:
    """Orders per second of create + approve (reserving one unit each)."""
    started = time.perf_counter()
    for _ in range(orders):
        order = sales.create_sales_order(erp.uow(CLERK), customer, [OrderLineInput(item, Decimal(1))])
        sales.approve_sales_order(erp.uow(CLERK), order.id)
    return orders / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "pg"], default="sqlite")
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--credit-limit", default="0", help="the customer's credit limit (0: none, no credit check)")
    args = parser.parse_args(argv)
    with database(args.engine) as engine:
        erp = bootstrap(engine)
        from erpcore.services import master, purchasing
        from erpcore.services.purchasing import PurchaseLineInput

        supplier = master.create_supplier(erp.uow(), "B-SUP", "Supplier").id
        customer = master.create_customer(erp.uow(), "B-CUS", "Customer", Decimal(args.credit_limit)).id
        item = master.create_item(erp.uow(), "B-SKU", "Widget", Decimal(6), Decimal(10)).id
        po = purchasing.create_purchase_order(erp.uow(), supplier, [PurchaseLineInput(item, Decimal(10**6))]).id
        purchasing.approve_purchase_order(erp.uow(), po)
        purchasing.receive_goods(erp.uow(), po)
        rulebook.load_rulebook(erp.uow(), rulebook.read_rulebook(rulebook.DEFAULT_RULEBOOK))
        cycles(erp, customer, item, 20)  # warm up
        results: dict[str, list[float]] = {"rules": [], "bypassed": []}
        for _ in range(args.rounds):
            results["rules"].append(cycles(erp, customer, item, args.orders))
            with bypassed():
                results["bypassed"].append(cycles(erp, customer, item, args.orders))
    med: dict[str, Any] = {k: statistics.median(v) for k, v in results.items()}
    cost = 100 * (1 - med["rules"] / med["bypassed"])
    print(f"{args.engine}: create+approve {med['rules']:.1f}/s with the rules, {med['bypassed']:.1f}/s bypassed "
          f"(median of {args.rounds} x {args.orders}); the rules cost {cost:.1f}%")


if __name__ == "__main__":
    main()
