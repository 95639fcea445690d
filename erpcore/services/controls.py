"""The business rules at work inside a unit of work: read the rules and settings in the writing transaction (an
edit applies to the next write, no restart), ask `erpcore.domain.rules`, let warnings through with an alert, and
refuse what a rule stops, recording the refusal in a short transaction of its own once the write has rolled back.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, and_, case, func, insert, literal, select

from erpcore.access import Actor
from erpcore.alerts import raise_alert
from erpcore.domain import rules
from erpcore.domain.accounts import Role
from erpcore.domain.money import ZERO, to_cents
from erpcore.domain.rules import BudgetPosition, Control, Finding, Mode
from erpcore.domain.status import PurchaseOrderStatus as PO
from erpcore.exceptions import CreditLimitExceeded, RuleBlocked, SegregationOfDuties, TaxDataInvalid
from erpcore.models import (
    Account,
    ApprovalRule,
    Budget,
    ControlSetting,
    Department,
    JournalEntry,
    JournalLine,
    PurchaseOrder,
    PurchaseOrderLine,
    RuleBlock,
    RulebookVersion,
    SupplierInvoice,
)
from erpcore.services.sql import Query
from erpcore.services.unit_of_work import UnitOfWork

BLOCKED_ALERT = "BusinessRuleBlocked"
WARNED_ALERT = "BusinessRuleWarning"
REFUSALS = (RuleBlocked, SegregationOfDuties, TaxDataInvalid, CreditLimitExceeded)
# Purchase orders past approval and not closed or cancelled: what they have not been invoiced for is committed.
COMMITTING = (PO.APPROVED, PO.PARTLY_RECEIVED, PO.RECEIVED)


SETTINGS = Query(select(ControlSetting.name, ControlSetting.mode, ControlSetting.params))
RULES = Query(select(ApprovalRule.code, ApprovalRule.document_type, ApprovalRule.conditions, ApprovalRule.steps,
                     ApprovalRule.priority))
VERSION = Query(select(RulebookVersion.epoch, RulebookVersion.version).where(RulebookVersion.id == 1))
# Columns a hot-path statement adds so that one round trip also tells the rulebook's version.
EPOCH_COLUMN = select(RulebookVersion.epoch).where(RulebookVersion.id == 1).scalar_subquery().label("rb_epoch")
VERSION_COLUMN = select(RulebookVersion.version).where(RulebookVersion.id == 1).scalar_subquery().label("rb_version")
Stamp = tuple[str, int]


@dataclass(frozen=True)
class Rulebook:
    """The control settings and approval rules as of one version of the rulebook."""

    stamp: Stamp | None
    controls: dict[str, Control]
    approval_rules: tuple[rules.Rule, ...]

    def for_type(self, document_type: str) -> list[rules.Rule]:
        return [r for r in self.approval_rules if r.document_type == document_type]


# Per database URL, the rulebook last read and the version it was read at: a writing transaction reads the
# version (one row, or two columns of a statement it runs anyway) and the rulebook again only when it changed,
# so an edit applies to the very next document in every process.
_cached: dict[str, Rulebook] = {}


def stamp_of(row: Any) -> Stamp | None:
    """The rulebook version a row carrying `EPOCH_COLUMN` and `VERSION_COLUMN` read."""
    return None if row is None or row.rb_version is None else (str(row.rb_epoch), int(row.rb_version))


def rulebook(conn: Connection, stamp: Stamp | None = None) -> Rulebook:
    """The rulebook in force for this transaction: from the cache when `stamp` (read now when not given) is the
    cached one's, else read from the database."""
    if stamp is None:
        row = VERSION.one_or_none(conn)
        stamp = None if row is None else (str(row.epoch), int(row.version))
    key = str(conn.engine.url)
    hit = _cached.get(key)
    if stamp is not None and hit is not None and hit.stamp == stamp:
        return hit
    found = dict(rules.DEFAULT_CONTROLS)
    for row in SETTINGS.rows(conn):
        found[row.name] = Control(row.name, Mode(row.mode), dict(_json(row.params) or {}))
    book = Rulebook(stamp, found, tuple(
        rules.Rule(r.code, r.document_type, dict(_json(r.conditions) or {}),
                   tuple(rules.Step(tuple(s["roles"]), int(s.get("required", 1))) for s in _json(r.steps)), r.priority)
        for r in RULES.rows(conn)))
    if stamp is not None:
        _cached[key] = book
    return book


def settings(conn: Connection) -> dict[str, Control]:
    """Every control's mode and parameters: the `control_setting` rows over the defaults."""
    return rulebook(conn).controls


def _json(value: Any) -> Any:
    """A JSON column's value (a driver that hands back text gets it parsed)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def approval_rules(conn: Connection, document_type: str) -> list[rules.Rule]:
    """The approval rules of one document type, as the domain reads them."""
    return rulebook(conn).for_type(document_type)


def spend_account_id(conn: Connection, control: Control) -> int | None:
    """The account purchases spend budget on: `budget.params.account` (a code), else the inventory account."""
    code = control.params.get("account")
    where = Account.code == str(code) if code else Account.role == Role.INVENTORY.value
    return conn.execute(select(Account.id).where(where)).scalar_one_or_none()


def month_bounds(period: str) -> tuple[dt.date, dt.date]:
    year, month = int(period[:4]), int(period[5:7])
    first = dt.date(year, month, 1)
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def committed(conn: Connection, department_id: int, period: str) -> Decimal:
    """Approved purchase orders of the department dated in the period, for what is not invoiced yet (net)."""
    first, last = month_bounds(period)
    open_net = func.sum(func.round(
        (PurchaseOrderLine.quantity - PurchaseOrderLine.qty_invoiced) * PurchaseOrderLine.unit_price, 2))
    value = conn.execute(select(func.coalesce(open_net, 0)).select_from(PurchaseOrder)
                         .join(PurchaseOrderLine, PurchaseOrderLine.purchase_order_id == PurchaseOrder.id)
                         .where(PurchaseOrder.department_id == department_id,
                                PurchaseOrder.status.in_([s.value for s in COMMITTING]),
                                PurchaseOrder.order_date.between(first, last))).scalar_one()
    return to_cents(Decimal(value))


def actual(conn: Connection, department_id: int, period: str, exclude: Sequence[int]) -> Decimal:
    """Spend booked in the ledger for the department's purchase orders in the period: the net of their supplier
    invoices' entries (cancellations reverse it), every line but input VAT and accounts payable (`exclude`)."""
    first, last = month_bounds(period)
    net = func.sum(case((JournalLine.account_id.in_(exclude), literal(0)),
                        else_=JournalLine.debit - JournalLine.credit))
    value = conn.execute(
        select(func.coalesce(net, 0)).select_from(JournalEntry)
        .join(JournalLine, JournalLine.journal_entry_id == JournalEntry.id)
        .join(SupplierInvoice, and_(JournalEntry.source_type == "supplier_invoice",
                                    JournalEntry.source_id == SupplierInvoice.id))
        .join(PurchaseOrder, PurchaseOrder.id == SupplierInvoice.purchase_order_id)
        .where(PurchaseOrder.department_id == department_id, JournalEntry.entry_date.between(first, last))
    ).scalar_one()
    return to_cents(Decimal(value))


def not_spend_accounts(conn: Connection) -> list[int]:
    """Accounts an invoice posts that are not spend: input VAT and accounts payable."""
    return list(conn.execute(select(Account.id).where(
        Account.role.in_([Role.INPUT_VAT.value, Role.AP.value]))).scalars())


def budget_position(conn: Connection, control: Control, department_id: int, period: str) -> BudgetPosition:
    """The department's budget on the spend account for the period, with what is committed and actual."""
    dept = conn.execute(select(Department.code).where(Department.id == department_id)).scalar_one()
    account = spend_account_id(conn, control)
    amount = conn.execute(select(Budget.amount).where(
        Budget.department_id == department_id, Budget.account_id == account, Budget.period == period)
    ).scalar_one_or_none()
    if amount is None:
        return BudgetPosition(dept, period, None, ZERO, ZERO)
    return BudgetPosition(dept, period, Decimal(amount), committed(conn, department_id, period),
                          actual(conn, department_id, period, not_spend_accounts(conn)))


def enforce(uow: UnitOfWork, action: str, document_type: str, document_id: int | None,
            findings: Sequence[Finding]) -> None:
    """Refuse the write if a finding stops it; record each warning (rule_block `warned` and an alert) in it."""
    try:
        warnings = rules.verdict(findings)
    except REFUSALS as exc:
        exc.details.update(action=action, document_type=document_type, document_id=document_id)
        raise
    for w in warnings:
        _record(uow.conn, uow.actor, action, document_type, document_id, w.rule, "warned", w.message)


def _record(conn: Connection, actor: Actor, action: str, document_type: str, document_id: int | None, rule: str,
            outcome: str, message: str) -> None:
    conn.execute(insert(RuleBlock).values(
        actor=actor.name[:80], role=str(actor.role), action=action, document_type=document_type,
        document_id=document_id, rule=rule, outcome=outcome, message=message[:400],
        created_at=dt.datetime.now(dt.UTC)))
    labels = {"rule": rule, "action": action, "document_type": document_type, "actor": actor.name}
    if document_id is not None:
        labels["document_id"] = str(document_id)
    raise_alert(conn, BLOCKED_ALERT if outcome == "blocked" else WARNED_ALERT, message,
                "warning" if outcome == "blocked" else "info", labels)


def record_refusal(engine: Engine, actor: Actor, action: str, document_type: str, document_id: int | None,
                   exc: Exception) -> None:
    """Record a refused write (rule_block `blocked` and an alert) in its own short transaction."""
    details: dict[str, Any] = getattr(exc, "details", {})
    findings = details.get("findings") or [{"rule": details.get("rule", "unknown"), "message": str(exc)}]
    with engine.begin() as conn:
        for f in findings:
            _record(conn, actor, str(details.get("action") or action),
                    str(details.get("document_type") or document_type),
                    details.get("document_id") or document_id, str(f["rule"]), "blocked", str(f["message"]))


P = ParamSpec("P")
T = TypeVar("T")


def intercepted(action: str, document_type: str, id_argument: bool = True
                ) -> Callable[[Callable[Concatenate[UnitOfWork, P], T]], Callable[Concatenate[UnitOfWork, P], T]]:
    """Record every refusal by a business rule of `service` once its unit of work has rolled back.

    `id_argument`: the service's first argument after the unit of work is the document's id.
    """

    def decorate(service: Callable[Concatenate[UnitOfWork, P], T]) -> Callable[Concatenate[UnitOfWork, P], T]:
        @wraps(service)
        def run(uow: UnitOfWork, /, *args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return service(uow, *args, **kwargs)
            except REFUSALS as exc:
                doc_id = args[0] if id_argument and args and isinstance(args[0], int) else None
                record_refusal(uow.resources.engine, uow.actor, action, document_type, doc_id, exc)
                raise

        return run

    return decorate


def period_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def purchase_findings(uow: UnitOfWork, document: str, department_id: int | None, order_date: dt.date,
                      amount: Decimal, book: Rulebook | None = None) -> list[Finding]:
    """The budget control on a purchase of `amount` for a department (none given: no budget to check)."""
    if department_id is None:
        return []
    control = (book or rulebook(uow.conn)).controls["budget"]
    if control.mode is Mode.OFF:
        return []
    position = budget_position(uow.conn, control, department_id, period_of(order_date))
    return rules.check_budget(control, document, amount, position)
