"""Order-to-cash services: sales order, approval with reservation, shipment, invoice, receipt, cancels."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Numeric, Row, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from erpcore.access import guarded
from erpcore.domain import dates, fulfilment, postings, transitions
from erpcore.domain.events import ReservationFellShort, SalesOrderApproved, StockDecreased
from erpcore.domain.money import ZERO, line_amounts, show_qty
from erpcore.domain.status import InvoiceStatus, PostedStatus, SalesOrderStatus, sales_order_status
from erpcore.domain.stock import Balance, issue_value
from erpcore.exceptions import (
    Conflict,
    InsufficientStock,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from erpcore.models import (
    Customer,
    CustomerInvoice,
    CustomerInvoiceLine,
    CustomerReceipt,
    Item,
    SalesOrder,
    SalesOrderLine,
    Shipment,
    ShipmentLine,
    StockReservation,
    TaxCode,
    Warehouse,
)
from erpcore.services import approvals, controls, numbering, sales_controls, views
from erpcore.services.documents import Doc, written
from erpcore.services.master import default_warehouse_id
from erpcore.services.sql import Query, batch_insert, batch_update, locked
from erpcore.services.steps import journal, production, requisition, returns, stock
from erpcore.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class OrderLineInput:
    item_id: int
    quantity: Decimal
    unit_price: Decimal | None = None  # None: the item's list price
    discount_percent: Decimal = ZERO


# The hot path's statements, built once (see `Query`); parameters are named after what they bind.
LOCK_ORDER = Query(
    select(SalesOrder.id, SalesOrder.status, SalesOrder.customer_id, SalesOrder.warehouse_id,
           SalesOrder.backorder_allowed, SalesOrder.order_date, Customer.credit_limit, Customer.payment_terms_days,
           SalesOrder.number, SalesOrder.created_by)
    .join(Customer, Customer.id == SalesOrder.customer_id).where(SalesOrder.id == bindparam("order_id"))
    .with_for_update(of=SalesOrder.__table__))
PARTIES = Query(select(
    select(Customer.id).where(Customer.id == bindparam("customer_id")).scalar_subquery().label("customer"),
    select(Warehouse.id).where(Warehouse.id == bindparam("warehouse_id")).scalar_subquery().label("warehouse")))
PARTIES_DEFAULT_WAREHOUSE = Query(select(
    select(Customer.id).where(Customer.id == bindparam("customer_id")).scalar_subquery().label("customer"),
    select(Warehouse.id).order_by(Warehouse.id).limit(1).scalar_subquery().label("warehouse")))
_ITEM_PRICES = select(Item.id, Item.list_price, TaxCode.rate).join(TaxCode, Item.tax_code_id == TaxCode.id)
ITEM_PRICES = Query(_ITEM_PRICES.where(Item.id.in_(bindparam("ids", expanding=True))),
                    postgresql=_ITEM_PRICES.where(Item.id == func.any(bindparam("ids", type_=ARRAY(BigInteger)))))
INSERT_ORDER = Query(insert(SalesOrder).values(
    number=bindparam("v_number"), customer_id=bindparam("v_customer_id"), warehouse_id=bindparam("v_warehouse_id"),
    order_date=bindparam("v_order_date"), status=SalesOrderStatus.DRAFT, backorder_allowed=bindparam("v_backorder"),
    net_amount=bindparam("v_net"), tax_amount=bindparam("v_tax"), created_at=bindparam("v_created_at"),
    created_by=bindparam("v_created_by"),
).returning(*SalesOrder.__table__.columns))
APPROVE_LINES = Query(select(*SalesOrderLine.__table__.columns)
                      .where(SalesOrderLine.sales_order_id == bindparam("order_id")).order_by(SalesOrderLine.line_no))
MARK_APPROVED = Query(update(SalesOrder).where(SalesOrder.id == bindparam("order_id")).values(
    status=SalesOrderStatus.APPROVED, approved_at=bindparam("v_approved_at")).returning(*SalesOrder.__table__.columns))
# a reserved quantity at the scale the database stores (quantities are NUMERIC(18, 4)), so that a reply built
# here reads exactly like the document read back
RESERVED_STEP = Decimal("0.0001")
SHIP_LINES = Query(
    select(SalesOrderLine.id, SalesOrderLine.line_no, SalesOrderLine.item_id, SalesOrderLine.quantity,
           SalesOrderLine.qty_shipped, SalesOrderLine.qty_invoiced, StockReservation.id.label("res_id"),
           func.coalesce(StockReservation.quantity, 0).label("res_qty"))
    .outerjoin(StockReservation, StockReservation.sales_order_line_id == SalesOrderLine.id)
    .where(SalesOrderLine.sales_order_id == bindparam("order_id")))
INSERT_SHIPMENT = Query(insert(Shipment).values(
    number=bindparam("v_number"), sales_order_id=bindparam("v_order_id"), warehouse_id=bindparam("v_warehouse_id"),
    ship_date=bindparam("v_ship_date"), status=PostedStatus.POSTED, cost_amount=bindparam("v_cost"),
    created_at=bindparam("v_created_at"),
).returning(*Shipment.__table__.columns))
INVOICEABLE = Query(
    select(ShipmentLine.id, ShipmentLine.sales_order_line_id, ShipmentLine.item_id,
           (ShipmentLine.quantity - ShipmentLine.qty_invoiced).label("qty"),
           SalesOrderLine.unit_price, SalesOrderLine.tax_rate, SalesOrderLine.discount_percent, Shipment.ship_date)
    .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
    .join(SalesOrderLine, SalesOrderLine.id == ShipmentLine.sales_order_line_id)
    .where(Shipment.sales_order_id == bindparam("order_id"), Shipment.status == PostedStatus.POSTED,
           ShipmentLine.quantity > ShipmentLine.qty_invoiced)
    .order_by(ShipmentLine.id))
_INVOICE_COLUMNS = ["customer_id", "sales_order_id", "invoice_date", "due_date", "status", "net_amount", "tax_amount",
                    "total_amount", "amount_paid", "created_at"]
INSERT_INVOICE = Query(insert(CustomerInvoice).values(
    number=bindparam("v_number"), **{c: bindparam(f"v_{c}") for c in _INVOICE_COLUMNS},
).returning(*CustomerInvoice.__table__.columns))
INVOICE_NUMBERED = Query(numbering.numbered_insert("customer_invoice", "customer_invoice", _INVOICE_COLUMNS))
LOCK_INVOICE = Query(locked(select(
    CustomerInvoice.id, CustomerInvoice.number, CustomerInvoice.status, CustomerInvoice.customer_id,
    CustomerInvoice.sales_order_id, CustomerInvoice.total_amount, CustomerInvoice.amount_paid,
    CustomerInvoice.invoice_date,
).where(CustomerInvoice.id == bindparam("invoice_id"))))
INSERT_RECEIPT = Query(insert(CustomerReceipt).values(
    number=bindparam("v_number"), customer_id=bindparam("v_customer_id"), customer_invoice_id=bindparam("v_invoice_id"),
    receipt_date=bindparam("v_receipt_date"), amount=bindparam("v_amount"), status=PostedStatus.POSTED,
    created_at=bindparam("v_created_at"),
).returning(*CustomerReceipt.__table__.columns))
PAY_INVOICE = Query(update(CustomerInvoice).where(CustomerInvoice.id == bindparam("invoice_id")).values(
    amount_paid=bindparam("v_paid"), status=bindparam("v_status")))
ORDER_LINES_AND_UNPAID = Query(select(
    SalesOrderLine.quantity, SalesOrderLine.qty_shipped, SalesOrderLine.qty_invoiced,
    select(func.count()).select_from(CustomerInvoice).where(
        CustomerInvoice.sales_order_id == bindparam("order_id"), CustomerInvoice.status == InvoiceStatus.POSTED,
    ).scalar_subquery().label("unpaid"),
).where(SalesOrderLine.sales_order_id == bindparam("order_id")))
SHIPPED = batch_update(SalesOrderLine, {"k_id": SalesOrderLine.id},
                       lambda p: {"qty_shipped": SalesOrderLine.qty_shipped + p["v_qty"]},
                       {"k_id": BigInteger(), "v_qty": Numeric()})
INVOICED = batch_update(SalesOrderLine, {"k_id": SalesOrderLine.id},
                        lambda p: {"qty_invoiced": SalesOrderLine.qty_invoiced + p["v_qty"]},
                        {"k_id": BigInteger(), "v_qty": Numeric()})
SHIPMENT_INVOICED = batch_update(ShipmentLine, {"k_id": ShipmentLine.id},
                                 lambda p: {"qty_invoiced": ShipmentLine.qty_invoiced + p["v_qty"]},
                                 {"k_id": BigInteger(), "v_qty": Numeric()})
RESERVATION_LEFT = batch_update(StockReservation, {"k_id": StockReservation.id},
                                lambda p: {"quantity": p["v_qty"]}, {"k_id": BigInteger(), "v_qty": Numeric()})
INSERT_RESERVATIONS = batch_insert(StockReservation, "sales_order_line_id", "item_id", "warehouse_id", "quantity",
                                   "created_at")
INSERT_ORDER_LINES = batch_insert(
    SalesOrderLine, "sales_order_id", "line_no", "item_id", "quantity", "unit_price", "tax_rate", "discount_percent",
    "net_amount", "tax_amount", "qty_shipped", "qty_invoiced", returning=True)
INSERT_SHIPMENT_LINES = batch_insert(
    ShipmentLine, "shipment_id", "sales_order_line_id", "reservation_id", "item_id", "quantity", "unit_cost",
    "cost_amount", "qty_invoiced", returning=True)
INSERT_INVOICE_LINES = batch_insert(
    CustomerInvoiceLine, "customer_invoice_id", "shipment_line_id", "sales_order_line_id", "item_id", "quantity",
    "unit_price", "tax_rate", "discount_percent", "net_amount", "tax_amount", returning=True)
SET_ORDER_STATUS = Query(update(SalesOrder).where(SalesOrder.id == bindparam("order_id")).values(
    status=bindparam("v_status")))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _lock_order(uow: UnitOfWork, order_id: int) -> Row[Any]:
    """Lock the order's header (not its customer's) and read the customer terms the actions need with it."""
    row = LOCK_ORDER.one_or_none(uow.conn, {"order_id": order_id})
    if row is None:
        raise NotFound(f"sales order {order_id} does not exist")
    return row  # type: ignore[no-any-return]


@guarded("sales.order.create")
@controls.intercepted("sales_order.create", "sales_order", id_argument=False)
def create_sales_order(
    uow: UnitOfWork, customer_id: int, lines: Sequence[OrderLineInput], warehouse_id: int | None = None,
    order_date: dt.date | None = None, backorder_allowed: bool = True,
) -> Doc:
    """Create a draft sales order; prices default to the items' list prices. Lines below cost, over the discount
    limit or with tax data errors are refused or warned as the rules are configured."""
    if not lines:
        raise ValidationFailed("a sales order needs at least one line")
    for n, line in enumerate(lines, 1):
        if line.quantity <= 0:
            raise ValidationFailed(f"line {n}: quantity must be positive (got {line.quantity})")
        if line.unit_price is not None and line.unit_price < 0:
            raise ValidationFailed(f"line {n}: unit price must not be negative")
        if not ZERO <= line.discount_percent <= uow.resources.max_discount_percent:
            raise ValidationFailed(f"line {n}: discount_percent must be between 0 and "
                                   f"{show_qty(uow.resources.max_discount_percent)} (got {line.discount_percent})")
    order_date = uow.resources.dates.check("order_date", order_date or dt.date.today())
    with uow:
        s = uow.conn
        warehouse_id = _check_parties(uow, customer_id, warehouse_id)
        item_ids = {line.item_id for line in lines}
        items = {r.id: r for r in ITEM_PRICES.rows(s, {"ids": sorted(item_ids)})}
        missing = sorted(item_ids - items.keys())
        if missing:
            raise ValidationFailed(f"unknown item(s): {', '.join(map(str, missing))}")
        rows = []
        for n, line in enumerate(lines, 1):
            item = items[line.item_id]
            price = item.list_price if line.unit_price is None else line.unit_price
            net, tax = line_amounts(line.quantity, price, item.rate, line.discount_percent)
            rows.append({"line_no": n, "item_id": line.item_id, "quantity": line.quantity, "unit_price": price,
                         "tax_rate": item.rate, "discount_percent": line.discount_percent, "net_amount": net,
                         "tax_amount": tax,
                         "qty_shipped": ZERO, "qty_invoiced": ZERO})
        controls.enforce(uow, "sales_order.create", "sales_order", None, sales_controls.order_findings(
            uow, "sales order", customer_id, warehouse_id, rows, {i: items[i].rate for i in item_ids}))
        head = INSERT_ORDER.dicts(s, {
            "v_number": numbering.next_number(uow, "sales_order", order_date.year), "v_customer_id": customer_id,
            "v_warehouse_id": warehouse_id, "v_order_date": order_date, "v_backorder": backorder_allowed,
            "v_net": sum((r["net_amount"] for r in rows), ZERO), "v_tax": sum((r["tax_amount"] for r in rows), ZERO),
            "v_created_at": _now(), "v_created_by": uow.actor.name[:80]})[0]
        order_id = head["id"]
        lines_written = INSERT_ORDER_LINES.many_returning(s, [{**r, "sales_order_id": order_id} for r in rows])
        doc = written(head, [{**line, "qty_reserved": ZERO.quantize(RESERVED_STEP)} for line in lines_written])
        uow.record("sales_order", head)
        uow.commit()
        return doc


def _check_parties(uow: UnitOfWork, customer_id: int, warehouse_id: int | None) -> int:
    """Check the customer and warehouse exist in one round trip; returns the warehouse (default: the first)."""
    found = (PARTIES if warehouse_id else PARTIES_DEFAULT_WAREHOUSE).one(
        uow.conn, {"customer_id": customer_id, "warehouse_id": warehouse_id})
    if found.customer is None:
        raise ValidationFailed(f"unknown customer {customer_id}")
    if found.warehouse is None and not warehouse_id:
        default_warehouse_id(uow)  # raises its "no warehouse exists" error
    if found.warehouse is None:
        raise ValidationFailed(f"unknown warehouse {warehouse_id}")
    return int(found.warehouse)


@guarded("sales.order.approve")
@controls.intercepted("sales_order.approve", "sales_order")
def approve_sales_order(uow: UnitOfWork, order_id: int) -> Doc:
    """Approve a draft order and reserve its stock; what cannot be reserved raises a requisition (a work order
    for a manufactured item), and a shipping instruction hands the order to the warehouse. An order that
    approval rules match waits in `pending_approval` instead, reserving nothing yet.

    An order that does not allow backorders is refused (409) unless all of it can be reserved; so is one that
    takes its customer past the credit limit (approved orders not yet invoiced count).
    Returns the order, each line with its reserved quantity (`qty_reserved`).
    """
    with uow:
        order = _lock_order(uow, order_id)
        transitions.require("sales order", "approve", order.status, order_id)
        facts, book = sales_controls.facts(uow, order_id)
        _check_credit(uow, order, order_id, book)
        if approvals.submit(uow, book.for_type("sales_order"), lambda: facts, order_id):
            SET_ORDER_STATUS.execute(uow.conn, {"order_id": order_id,
                                                "v_status": SalesOrderStatus.PENDING_APPROVAL})
            doc = Doc(order_id, views.sales_order(uow.conn, order_id))
            uow.record("sales_order", doc.row, {"status": order.status})
            uow.commit()
            return doc
        doc = _approve_and_reserve(uow, order, order_id)
        uow.record("sales_order", doc.row, {"status": order.status})
        uow.commit()
        return doc


@guarded("sales.order.approve")
@controls.intercepted("sales_order.decide", "sales_order")
def decide_sales_order(uow: UnitOfWork, order_id: int, decision: str, comment: str = "") -> Doc:
    """Record an approver's decision (`approve` or `reject`) on a sales order pending approval: the last step
    approved approves and reserves it (credit checked again), a rejection returns it to draft. Its creator is
    refused."""
    if decision not in ("approve", "reject"):
        raise ValidationFailed(f"decision must be approve or reject (got {decision!r})")
    with uow:
        order = _lock_order(uow, order_id)
        transitions.require("sales order", "decide", order.status, order_id)
        state = approvals.decide(uow, "sales_order", order_id, f"sales order {order.number}", order.created_by,
                                 decision, comment)
        if state.done:
            _check_credit(uow, order, order_id, controls.rulebook(uow.conn))
            doc = _approve_and_reserve(uow, order, order_id)
        else:
            if state.rejected:
                SET_ORDER_STATUS.execute(uow.conn, {"order_id": order_id, "v_status": SalesOrderStatus.DRAFT})
            doc = Doc(order_id, views.sales_order(uow.conn, order_id))
        doc = Doc(doc.id, {**doc.row, "approval": state.reason})
        uow.record("sales_order", doc.row, {"status": order.status})
        uow.commit()
        return doc


def _approve_and_reserve(uow: UnitOfWork, order: Row[Any], order_id: int) -> Doc:
    """Mark the locked order approved and reserve its lines (see `approve_sales_order`)."""
    s = uow.conn
    lines = APPROVE_LINES.dicts(s, {"order_id": order_id})
    wh = order.warehouse_id
    # The order is locked already; the stock balances, shared with every order of these items, are
    # locked last so that as little as possible waits on them.
    head = MARK_APPROVED.dicts(s, {"order_id": order_id, "v_approved_at": _now()})[0]
    balances = stock.lock_balances(uow, [(line["item_id"], wh) for line in lines])
    plan, balances = fulfilment.plan_reservation(
        f"sales order {order_id}", [fulfilment.LineToReserve(line["line_no"], (line["item_id"], wh),
                                                             line["quantity"]) for line in lines],
        balances, order.backorder_allowed)
    reservations = []
    now = _now()
    for line in lines:
        got = plan.reserved[line["line_no"]]
        line["qty_reserved"] = got.quantize(RESERVED_STEP)
        reservations.append({"sales_order_line_id": line["id"], "item_id": line["item_id"],
                             "warehouse_id": wh, "quantity": got, "created_at": now})
        if line["line_no"] in plan.shortfall:
            uow.emit(ReservationFellShort(line["id"], line["item_id"], wh, plan.shortfall[line["line_no"]]))
        if got > 0:
            uow.emit(StockDecreased(line["item_id"], wh))
    stock.write_balances(uow, balances)
    INSERT_RESERVATIONS.many(s, reservations)
    production.create_shipping_instruction(uow, order_id, wh, [
        (line["line_no"], line["item_id"], line["quantity"]) for line in lines])
    uow.emit(SalesOrderApproved(order_id, head["number"], order.customer_id, head["net_amount"] + head["tax_amount"]))
    return written(head, lines)


def _check_credit(uow: UnitOfWork, order: Row[Any], order_id: int, book: controls.Rulebook) -> None:
    """Refuse (or warn about) an order that takes the customer past a non-zero credit limit."""
    controls.enforce(uow, "sales_order.approve", "sales_order", order_id,
                     sales_controls.credit_findings(uow, order, order_id, book))


@guarded("warehouse.shipment.post")
def ship_sales_order(
    uow: UnitOfWork, order_id: int, lines: dict[int, Decimal] | None = None, ship_date: dt.date | None = None,
) -> Doc:
    """Post a shipment: stock leaves at moving-average cost (Dr COGS / Cr Inventory).

    `lines` maps sales order line numbers to quantities; None ships everything still open.
    """
    ship_date = uow.resources.dates.check("ship_date", ship_date or dt.date.today())
    with uow:
        s = uow.conn
        order = _lock_order(uow, order_id)
        transitions.require("sales order", "ship", order.status, order_id)
        dates.not_before("ship_date", ship_date, f"sales order {order_id}'s date", order.order_date)
        so_lines = {r.line_no: r for r in SHIP_LINES.rows(s, {"order_id": order_id})}
        wanted = fulfilment.quantities_to_move(
            f"sales order {order_id}", {n: fulfilment.OpenLine(r.quantity, r.qty_shipped) for n, r in so_lines.items()},
            lines, fulfilment.SHIPPING)
        wh = order.warehouse_id
        # What does not depend on stock goes first; the balances, shared with every order of these items,
        # are locked as late as possible.
        SHIPPED.many(s, [{"k_id": so_lines[n].id, "v_qty": q} for n, q in wanted.items()])
        # Known without reading back: this shipment leaves some line uninvoiced, so payments cannot matter.
        SET_ORDER_STATUS.execute(s, {"order_id": order_id, "v_status": sales_order_status(
            [(r.quantity, r.qty_shipped + wanted.get(n, ZERO), r.qty_invoiced) for n, r in so_lines.items()],
            fully_paid=False)})
        from_reservation = {n: min(q, Decimal(so_lines[n].res_qty)) for n, q in wanted.items()}
        RESERVATION_LEFT.many(s, [{"k_id": so_lines[n].res_id, "v_qty": Decimal(so_lines[n].res_qty) - taken}
                                  for n, taken in sorted(from_reservation.items()) if taken])
        balances = stock.lock_balances(uow, [(so_lines[n].item_id, wh) for n in wanted])
        ship_rows, moves_pending = [], []
        total_cost = ZERO
        for line_no, qty in sorted(wanted.items()):
            line = so_lines[line_no]
            key = (line.item_id, wh)
            b = balances[key]
            reserved = from_reservation[line_no]
            if qty - reserved > b.available:
                raise InsufficientStock(
                    f"sales order {order_id} line {line_no}: shipping {show_qty(qty)} needs "
                    f"{show_qty(qty - reserved)} free stock beyond its reservation, {show_qty(b.available)} free")
            cost = issue_value(b, qty)
            balances[key] = Balance(b.on_hand - qty, b.reserved - reserved, b.value - cost)
            total_cost += cost
            ship_rows.append({"sales_order_line_id": line.id, "reservation_id": line.res_id,
                              "item_id": line.item_id, "quantity": qty,
                              "unit_cost": (cost / qty).quantize(Decimal("0.0001")), "cost_amount": cost,
                              "qty_invoiced": ZERO})
            moves_pending.append((line.item_id, -qty, -cost))
        stock.write_balances(uow, balances)
        head = INSERT_SHIPMENT.dicts(s, {
            "v_number": numbering.next_number(uow, "shipment", ship_date.year), "v_order_id": order_id,
            "v_warehouse_id": wh, "v_ship_date": ship_date, "v_cost": total_cost, "v_created_at": _now()})[0]
        shipment_id = head["id"]
        ship_lines = INSERT_SHIPMENT_LINES.many_returning(s, [{**r, "shipment_id": shipment_id} for r in ship_rows])
        line_ids = {line["sales_order_line_id"]: line["id"] for line in ship_lines}  # one line per order line
        stock.add_moves(uow, ship_date, "shipment", shipment_id, "post", [
            stock.Move(item, wh, q, v, line_ids[row["sales_order_line_id"]])
            for row, (item, q, v) in zip(ship_rows, moves_pending, strict=True)])
        journal.post(uow, ship_date, "shipment", shipment_id, "post", f"Shipment for sales order {order_id}",
                    postings.shipment(total_cost))
        for item_id, _, _ in moves_pending:
            uow.emit(StockDecreased(item_id, wh))
        uow.record("shipment", head)
        uow.commit()
        return written(head, ship_lines)


@guarded("sales.invoice.post")
def invoice_sales_order(uow: UnitOfWork, order_id: int, invoice_date: dt.date | None = None) -> Doc:
    """Invoice everything shipped and not yet invoiced (Dr AR / Cr Revenue / Cr Output VAT)."""
    invoice_date = uow.resources.dates.check("invoice_date", invoice_date or dt.date.today())
    with uow:
        s = uow.conn
        order = _lock_order(uow, order_id)
        transitions.require("sales order", "invoice", order.status, order_id)
        open_lines = INVOICEABLE.rows(s, {"order_id": order_id})
        if not open_lines:
            raise Conflict(f"sales order {order_id} has no shipped quantity left to invoice")
        dates.not_before("invoice_date", invoice_date, "its latest shipment", max(r.ship_date for r in open_lines))
        rows = []
        for r in open_lines:
            net, tax = line_amounts(r.qty, r.unit_price, r.tax_rate, r.discount_percent)
            rows.append({"shipment_line_id": r.id, "sales_order_line_id": r.sales_order_line_id,
                         "item_id": r.item_id, "quantity": r.qty, "unit_price": r.unit_price,
                         "tax_rate": r.tax_rate, "discount_percent": r.discount_percent, "net_amount": net,
                         "tax_amount": tax})
        net = sum((r["net_amount"] for r in rows), ZERO)
        tax = sum((r["tax_amount"] for r in rows), ZERO)
        SHIPMENT_INVOICED.many(s, [{"k_id": r["shipment_line_id"], "v_qty": r["quantity"]} for r in rows])
        per_order_line: dict[int, Decimal] = {}  # two shipments of one line are invoiced together
        for r in rows:
            per_order_line[r["sales_order_line_id"]] = per_order_line.get(r["sales_order_line_id"], ZERO) + r["quantity"]
        INVOICED.many(s, [{"k_id": k, "v_qty": q} for k, q in per_order_line.items()])
        _refresh_status(uow, order_id, unpaid_pending=1)
        # The invoice is written last: its gap-free number locks the (INV, year) row for every invoicing
        # client until commit, so only its own lines and the journal come after it.
        head = numbering.insert_numbered(uow, "customer_invoice", invoice_date.year, INSERT_INVOICE,
                                         INVOICE_NUMBERED, {
            "v_customer_id": order.customer_id, "v_sales_order_id": order_id, "v_invoice_date": invoice_date,
            "v_due_date": dates.due_date(invoice_date, order.payment_terms_days), "v_status": InvoiceStatus.POSTED,
            "v_net_amount": net, "v_tax_amount": tax, "v_total_amount": net + tax, "v_amount_paid": ZERO,
            "v_created_at": _now()})
        invoice_id = head["id"]
        doc = written(head, INSERT_INVOICE_LINES.many_returning(
            s, [{**r, "customer_invoice_id": invoice_id} for r in rows]))
        journal.post(uow, invoice_date, "customer_invoice", invoice_id, "post",
                    f"Customer invoice for sales order {order_id}",
                    postings.customer_invoice(order.customer_id, net, tax))
        uow.record("customer_invoice", doc.row)
        uow.commit()
        return doc


@guarded("sales.receipt.post")
def record_customer_receipt(uow: UnitOfWork, invoice_id: int, amount: Decimal | None = None,
                            receipt_date: dt.date | None = None) -> Doc:
    """Record money received against an invoice (Dr Bank / Cr AR); None receives the open amount."""
    receipt_date = uow.resources.dates.check("receipt_date", receipt_date or dt.date.today())
    with uow:
        s = uow.conn
        inv = LOCK_INVOICE.one_or_none(s, {"invoice_id": invoice_id})
        if inv is None:
            raise NotFound(f"customer invoice {invoice_id} does not exist")
        transitions.require("customer invoice", "receive", inv.status, invoice_id)
        dates.not_before("receipt_date", receipt_date, f"invoice {inv.number}", inv.invoice_date)
        owed = inv.total_amount - returns.credited(uow, invoice_id)  # credit notes settled part of it
        amount = fulfilment.settlement(f"receipt for invoice {inv.number}", owed - inv.amount_paid, amount)
        head = INSERT_RECEIPT.dicts(s, {
            "v_number": numbering.next_number(uow, "customer_receipt", receipt_date.year),
            "v_customer_id": inv.customer_id, "v_invoice_id": invoice_id, "v_receipt_date": receipt_date,
            "v_amount": amount, "v_created_at": _now()})[0]
        receipt_id = head["id"]
        paid = inv.amount_paid + amount
        PAY_INVOICE.execute(s, {"invoice_id": invoice_id, "v_paid": paid,
                                "v_status": InvoiceStatus.PAID if paid == owed else InvoiceStatus.POSTED})
        _refresh_status(uow, inv.sales_order_id)
        journal.post(uow, receipt_date, "customer_receipt", receipt_id, "post",
                    f"Receipt for invoice {inv.number}", postings.customer_receipt(inv.customer_id, amount))
        uow.record("customer_receipt", head)
        uow.commit()
        return written(head)


@guarded("sales.order.cancel")
def cancel_sales_order(uow: UnitOfWork, order_id: int) -> Doc:
    """Cancel an order that has shipped nothing, releasing its reservations."""
    with uow:
        s = uow.session
        order = _lock_order(uow, order_id)
        transitions.require("sales order", "cancel", order.status, order_id)
        res = s.execute(select(StockReservation.id, StockReservation.item_id, StockReservation.warehouse_id,
                               StockReservation.quantity)
                        .join(SalesOrderLine, SalesOrderLine.id == StockReservation.sales_order_line_id)
                        .where(SalesOrderLine.sales_order_id == order_id, StockReservation.quantity > 0)).all()
        balances = stock.lock_balances(uow, [(r.item_id, r.warehouse_id) for r in res])
        for r in res:
            b = balances[(r.item_id, r.warehouse_id)]
            balances[(r.item_id, r.warehouse_id)] = Balance(b.on_hand, b.reserved - r.quantity, b.value)
        stock.write_balances(uow, balances)
        if res:
            s.execute(update(StockReservation).where(StockReservation.id.in_([r.id for r in res])).values(quantity=0))
        s.execute(update(SalesOrder).where(SalesOrder.id == order_id).values(status=SalesOrderStatus.CANCELLED))
        demand = {r.id: r.quantity for r in s.execute(select(SalesOrderLine.id, SalesOrderLine.quantity).where(
            SalesOrderLine.sales_order_id == order_id))}  # all of it goes: its shortage requisitions go with it
        requisition.withdraw_demand(uow, sorted(demand), demand)
        doc = Doc(order_id, views.sales_order(uow.conn, order_id))
        uow.record("sales_order", doc.row, {"status": order.status})
        uow.commit()
        return doc


@guarded("warehouse.shipment.cancel")
def cancel_shipment(uow: UnitOfWork, shipment_id: int, cancel_date: dt.date | None = None) -> Doc:
    """Reverse an uninvoiced shipment: stock returns at its shipped cost, the journal entry is reversed, and the
    order's reservation is restored (what free stock cannot cover raises a requisition, as approval does)."""
    cancel_date = uow.resources.dates.check("cancel_date", cancel_date or dt.date.today())
    with uow:
        s = uow.session
        found = s.execute(select(Shipment.sales_order_id).where(Shipment.id == shipment_id)).one_or_none()
        if found is None:
            raise NotFound(f"shipment {shipment_id} does not exist")
        _lock_order(uow, found.sales_order_id)
        shp = s.execute(locked(select(Shipment.id, Shipment.sales_order_id, Shipment.status, Shipment.warehouse_id,
                                      Shipment.ship_date).where(Shipment.id == shipment_id))).one()
        transitions.require("shipment", "cancel", shp.status, shipment_id)
        dates.not_before("cancel_date", cancel_date, f"shipment {shipment_id}'s date", shp.ship_date)
        lines = s.execute(select(ShipmentLine).where(ShipmentLine.shipment_id == shipment_id)).scalars().all()
        if any(line.qty_invoiced > 0 for line in lines):
            raise InvalidTransition(f"shipment {shipment_id} is invoiced; cancel the invoice first")
        wh = shp.warehouse_id
        balances = stock.lock_balances(uow, [(line.item_id, wh) for line in lines])
        for line in lines:
            b = balances[(line.item_id, wh)]
            balances[(line.item_id, wh)] = Balance(b.on_hand + line.quantity, b.reserved, b.value + line.cost_amount)
        _restore_reservations(uow, lines, balances, wh)
        stock.write_balances(uow, balances)
        stock.add_moves(uow, cancel_date, "shipment", shipment_id, "cancel", [
            stock.Move(line.item_id, wh, line.quantity, line.cost_amount, line.id) for line in lines])
        s.connection().execute(
            update(SalesOrderLine).where(SalesOrderLine.id == bindparam("k_id"))
            .values(qty_shipped=SalesOrderLine.qty_shipped - bindparam("v_qty")),
            [{"k_id": line.sales_order_line_id, "v_qty": line.quantity} for line in lines])
        s.execute(update(Shipment).where(Shipment.id == shipment_id).values(status=PostedStatus.CANCELLED))
        _refresh_status(uow, shp.sales_order_id)
        journal.post_reversal(uow, cancel_date, "shipment", shipment_id, "post")
        doc = Doc(shipment_id, views.shipment(uow.conn, shipment_id))
        uow.record("shipment", doc.row, {"status": shp.status})
        uow.commit()
        return doc


_RESERVATIONS = (
    select(SalesOrderLine.id, SalesOrderLine.line_no, SalesOrderLine.quantity, SalesOrderLine.qty_shipped,
           StockReservation.id.label("res_id"), func.coalesce(StockReservation.quantity, 0).label("res_qty"))
    .outerjoin(StockReservation, StockReservation.sales_order_line_id == SalesOrderLine.id))
RESERVATIONS_OF = Query(
    _RESERVATIONS.where(SalesOrderLine.id.in_(bindparam("ids", expanding=True))),
    postgresql=_RESERVATIONS.where(SalesOrderLine.id == func.any(bindparam("ids", type_=ARRAY(BigInteger)))))


def _restore_reservations(uow: UnitOfWork, lines: Sequence[ShipmentLine], balances: dict[tuple[int, int], Balance],
                          wh: int) -> None:
    """Reserve again, for each order line a cancelled shipment took from, what the line still needs
    (ordered - shipped without this shipment - still reserved) and free stock covers; `balances` are updated."""
    returned = {line.sales_order_line_id: line for line in lines}
    order_lines = RESERVATIONS_OF.rows(uow.conn, {"ids": sorted(returned)})
    wanted = []
    for r in order_lines:
        need = r.quantity - (r.qty_shipped - returned[r.id].quantity) - Decimal(r.res_qty)
        if need > 0:
            wanted.append(fulfilment.LineToReserve(r.line_no, (returned[r.id].item_id, wh), need))
    if not wanted:
        return
    plan, after = fulfilment.plan_reservation("the cancelled shipment's order", wanted, balances, True)
    balances.update(after)
    now = _now()
    for r in order_lines:
        got = plan.reserved.get(r.line_no, ZERO)
        if got > 0 and r.res_id is not None:
            RESERVATION_LEFT.many(uow.conn, [{"k_id": r.res_id, "v_qty": Decimal(r.res_qty) + got}])
        elif got > 0:
            INSERT_RESERVATIONS.many(uow.conn, [{"sales_order_line_id": r.id, "item_id": returned[r.id].item_id,
                                                 "warehouse_id": wh, "quantity": got, "created_at": now}])
        if r.line_no in plan.shortfall:
            uow.emit(ReservationFellShort(r.id, returned[r.id].item_id, wh, plan.shortfall[r.line_no]))


@guarded("sales.invoice.cancel")
def cancel_customer_invoice(uow: UnitOfWork, invoice_id: int, cancel_date: dt.date | None = None) -> Doc:
    """Reverse an unpaid invoice; its quantities become invoiceable again."""
    cancel_date = uow.resources.dates.check("cancel_date", cancel_date or dt.date.today())
    with uow:
        s = uow.session
        so_id = s.scalar(select(CustomerInvoice.sales_order_id).where(CustomerInvoice.id == invoice_id))
        if so_id is None:
            raise NotFound(f"customer invoice {invoice_id} does not exist")
        _lock_order(uow, so_id)
        inv = s.execute(locked(select(CustomerInvoice).where(CustomerInvoice.id == invoice_id))).scalar_one()
        transitions.require("customer invoice", "cancel", inv.status, invoice_id)
        dates.not_before("cancel_date", cancel_date, f"invoice {inv.number}'s date", inv.invoice_date)
        transitions.require_unpaid("customer invoice", invoice_id, inv.amount_paid)
        returns.refuse_if_credited(uow, invoice_id, inv.number)
        lines = s.execute(select(CustomerInvoiceLine).where(
            CustomerInvoiceLine.customer_invoice_id == invoice_id)).scalars().all()
        conn = s.connection()
        conn.execute(update(ShipmentLine).where(ShipmentLine.id == bindparam("k_id"))
                     .values(qty_invoiced=ShipmentLine.qty_invoiced - bindparam("v_qty")),
                     [{"k_id": line.shipment_line_id, "v_qty": line.quantity} for line in lines])
        conn.execute(update(SalesOrderLine).where(SalesOrderLine.id == bindparam("k_id"))
                     .values(qty_invoiced=SalesOrderLine.qty_invoiced - bindparam("v_qty")),
                     [{"k_id": line.sales_order_line_id, "v_qty": line.quantity} for line in lines])
        s.execute(update(CustomerInvoice).where(CustomerInvoice.id == invoice_id).values(status=InvoiceStatus.CANCELLED))
        _refresh_status(uow, so_id)
        journal.post_reversal(uow, cancel_date, "customer_invoice", invoice_id, "post")
        doc = Doc(invoice_id, views.customer_invoice(uow.conn, invoice_id))
        uow.record("customer_invoice", doc.row, {"status": inv.status})
        uow.commit()
        return doc


def _refresh_status(uow: UnitOfWork, order_id: int, unpaid_pending: int = 0) -> None:
    """Derive the order's status from its lines' linked quantities and its invoices' payments.

    `unpaid_pending` counts unpaid invoices of this transaction not written yet (see `invoice_sales_order`).
    """
    rows = ORDER_LINES_AND_UNPAID.rows(uow.conn, {"order_id": order_id})  # lines and unpaid count in one trip
    lines = [(r.quantity, r.qty_shipped, r.qty_invoiced) for r in rows]
    status = sales_order_status(lines, fully_paid=not rows or rows[0].unpaid + unpaid_pending == 0)
    SET_ORDER_STATUS.execute(uow.conn, {"order_id": order_id, "v_status": status})
