"""Business rules as plain functions: which approvals a document needs, and the controls every write passes
(budget, price below cost, discount limit, credit limit, tax data, segregation of duties).

Each control returns `Finding`s naming the rule and saying why, never raises for a finding: the service decides
with `verdict` what a finding in `stop` mode refuses (`RuleBlocked`, 409, or `TaxDataInvalid`, 422) and what in
`warn` mode only alerts. Rules and settings arrive as data (the `approval_rule` and `control_setting` rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from erpcore.domain.money import ZERO, show_money, show_qty, to_cents
from erpcore.exceptions import (
    CreditLimitExceeded,
    ErpError,
    RuleBlocked,
    SegregationOfDuties,
    TaxDataInvalid,
    ValidationFailed,
)


class Mode(StrEnum):
    STOP = "stop"
    WARN = "warn"
    OFF = "off"


DOCUMENT_TYPES = ("purchase_order", "sales_order")
CONDITIONS = ("amount_over", "supplier", "customer", "item_category", "discount_over", "department")
CONTROLS = ("budget", "price_below_cost", "discount_limit", "credit_limit", "tax_data")
# Two permissions one role should never hold together: (first, second, why).
CONFLICTING_PERMISSIONS: tuple[tuple[str, str, str], ...] = (
    ("purchase.invoice.post", "purchase.payment.post", "enters supplier invoices and pays them"),
    ("master.supplier.write", "purchase.payment.post", "creates suppliers (bank accounts) and pays them"),
    ("purchase.order.create", "warehouse.receipt.post", "orders goods and confirms their receipt"),
    ("sales.order.create", "sales.receipt.post", "takes orders and records the money received for them"),
    ("rules.write", "purchase.order.approve", "writes the approval rules and approves under them"),
    ("finance.budget.write", "purchase.order.create", "sets budgets and spends them"),
)


@dataclass(frozen=True)
class Control:
    """A control's configured mode and parameters (`control_setting` row, or the default)."""

    name: str
    mode: Mode
    params: Mapping[str, Any] = field(default_factory=dict)

    def decimal(self, key: str) -> Decimal | None:
        value = self.params.get(key)
        return None if value is None else Decimal(str(value))


DEFAULT_CONTROLS: dict[str, Control] = {
    "budget": Control("budget", Mode.STOP),
    "price_below_cost": Control("price_below_cost", Mode.STOP),
    "discount_limit": Control("discount_limit", Mode.STOP),
    "credit_limit": Control("credit_limit", Mode.STOP),
    "tax_data": Control("tax_data", Mode.STOP),
}


@dataclass(frozen=True)
class Finding:
    """A rule that fired: its name (`budget`, `tax_data`, ...), the sentence, and the mode it fired in."""

    rule: str
    message: str
    mode: Mode


def _fired(control: Control, message: str) -> list[Finding]:
    return [] if control.mode is Mode.OFF else [Finding(control.name, message, control.mode)]


def verdict(findings: Sequence[Finding]) -> list[Finding]:
    """The warnings to record; raises when any finding is in stop mode (tax data 422, the others 409)."""
    stops = [f for f in findings if f.mode is Mode.STOP]
    if stops:
        first = stops[0]
        error: type[ErpError] = {"tax_data": TaxDataInvalid, "credit_limit": CreditLimitExceeded}.get(
            first.rule, RuleBlocked)
        message = f"rule {first.rule}: {first.message}" + (
            f" (and {len(stops) - 1} more)" if len(stops) > 1 else "")
        raise error(message, rule=first.rule, findings=[{"rule": f.rule, "message": f.message} for f in stops])
    return [f for f in findings if f.mode is Mode.WARN]


# --- approval rules -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """Approvers of one stage: `required` distinct people holding any of `roles` (n of m); stages run in order."""

    roles: tuple[str, ...]
    required: int = 1

    def as_data(self) -> dict[str, Any]:
        return {"roles": list(self.roles), "required": self.required}


@dataclass(frozen=True)
class Rule:
    code: str
    document_type: str
    conditions: Mapping[str, Any]
    steps: tuple[Step, ...]
    priority: int = 100


@dataclass(frozen=True)
class Facts:
    """What approval rules look at in a document."""

    document_type: str
    amount: Decimal
    supplier: str | None = None
    customer: str | None = None
    department: str | None = None
    categories: frozenset[str] = frozenset()
    max_discount: Decimal = ZERO


def parse_steps(raw: object, roles: Sequence[str]) -> tuple[Step, ...]:
    """Steps from data (`[{"roles": [...], "required": n}]`), refusing (422) unknown roles or impossible counts."""
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed("steps: a rule needs a list of at least one step")
    steps = []
    for n, item in enumerate(raw, 1):
        if not isinstance(item, dict) or not isinstance(item.get("roles"), list) or not item["roles"]:
            raise ValidationFailed(f"steps[{n}]: a step needs `roles`, a non-empty list of role names")
        unknown = sorted({str(r) for r in item["roles"]} - set(roles))
        if unknown:
            raise ValidationFailed(f"steps[{n}]: unknown role(s) {', '.join(unknown)}; one of: {', '.join(roles)}")
        extra = sorted(set(item) - {"roles", "required"})
        if extra:
            raise ValidationFailed(f"steps[{n}]: unknown key(s) {', '.join(extra)}; a step has roles and required")
        required = item.get("required", 1)
        if not isinstance(required, int) or isinstance(required, bool) or not 1 <= required <= 10:
            raise ValidationFailed(f"steps[{n}]: required must be a whole number from 1 to 10 (got {required!r})")
        steps.append(Step(tuple(str(r) for r in item["roles"]), required))
    return tuple(steps)


def parse_conditions(raw: object) -> dict[str, Any]:
    """Conditions from data, normalised (amounts as decimal strings, lists of codes), refusing unknown keys."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValidationFailed("conditions: a mapping of condition to value")
    unknown = sorted(set(raw) - set(CONDITIONS))
    if unknown:
        raise ValidationFailed(f"conditions: unknown {', '.join(unknown)}; one of: {', '.join(CONDITIONS)}")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("amount_over", "discount_over"):
            out[key] = str(_decimal(f"conditions.{key}", value))
        else:
            values = value if isinstance(value, list) else [value]
            if not values or not all(isinstance(v, str | int) and str(v).strip() for v in values):
                raise ValidationFailed(f"conditions.{key}: a code or a list of codes")
            out[key] = sorted(str(v) for v in values)
    return out


def _decimal(what: str, value: object) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(f"{what}: not a number ({value!r})") from None
    if not number.is_finite() or number < 0:
        raise ValidationFailed(f"{what}: must be a non-negative number (got {value!r})")
    return number


def matches(rule: Rule, facts: Facts) -> bool:
    """Whether every condition of `rule` holds for the document (a rule without conditions always matches)."""
    if rule.document_type != facts.document_type:
        return False
    c = rule.conditions
    checks = (
        "amount_over" not in c or facts.amount > Decimal(c["amount_over"]),
        "discount_over" not in c or facts.max_discount > Decimal(c["discount_over"]),
        "supplier" not in c or facts.supplier in c["supplier"],
        "customer" not in c or facts.customer in c["customer"],
        "department" not in c or facts.department in c["department"],
        "item_category" not in c or bool(facts.categories & set(c["item_category"])),
    )
    return all(checks)


def required_approvals(rules: Sequence[Rule], facts: Facts) -> tuple[list[str], list[Step]]:
    """The codes of the rules the document matches (by priority, then code) and their steps, in that order."""
    chosen = sorted((r for r in rules if matches(r, facts)), key=lambda r: (r.priority, r.code))
    return [r.code for r in chosen], [step for r in chosen for step in r.steps]


@dataclass(frozen=True)
class Decision:
    step_no: int
    actor: str
    role: str
    decision: str  # approve | reject


@dataclass(frozen=True)
class Progress:
    """Where an approval request stands: `done` (all steps met), `rejected`, or waiting on `step_no` (1-based)."""

    step_no: int | None
    done: bool
    rejected: bool
    reason: str


def progress(steps: Sequence[Step], decisions: Sequence[Decision]) -> Progress:
    """Walk the steps in order, counting distinct approvers of each; a rejection ends the request."""
    if any(d.decision == "reject" for d in decisions):
        who = next(d for d in decisions if d.decision == "reject")
        return Progress(None, False, True, f"rejected by {who.actor} at step {who.step_no}")
    for n, step in enumerate(steps, 1):
        got = {d.actor for d in decisions if d.step_no == n}
        if len(got) < step.required:
            return Progress(n, False, False, f"step {n} waits for {step.required - len(got)} more approver(s) "
                                             f"with role {' or '.join(step.roles)}")
    return Progress(None, True, False, "every step is approved")


def check_decision(steps: Sequence[Step], decisions: Sequence[Decision], actor: str, role: str,
                   creator: str | None, document: str) -> int:
    """The step an approver's decision counts for; refuses (409) the document's creator, someone who already
    decided on it, a role the waiting step does not name (admins may stand in), and a finished request."""
    if creator is not None and actor == creator:
        raise SegregationOfDuties(f"rule sod.creator_approves: {actor} created {document} and may not approve it",
                                  rule="sod.creator_approves")
    state = progress(steps, decisions)
    if state.step_no is None:
        raise RuleBlocked(f"{document} has no approval waiting ({state.reason})", rule="approval")
    if any(d.actor == actor for d in decisions):
        raise SegregationOfDuties(f"rule sod.distinct_approvers: {actor} has already decided on {document}",
                                  rule="sod.distinct_approvers")
    step = steps[state.step_no - 1]
    if role not in step.roles and role != "admin":
        raise RuleBlocked(f"rule approval: step {state.step_no} of {document} needs role "
                          f"{' or '.join(step.roles)}, not {role}", rule="approval")
    return state.step_no


def check_not_creator(action: str, creator: str | None, actor: str, document: str) -> None:
    """Refuse (409) `actor` doing `action` on a document they entered themselves (a system actor is nobody)."""
    if creator is not None and creator == actor and actor != "system":
        raise SegregationOfDuties(f"rule sod.creator_{action}: {actor} entered {document} and may not {action} it",
                                  rule=f"sod.creator_{action}")


def conflicting_permissions(grants: Mapping[str, set[str]],
                            pairs: Sequence[tuple[str, str, str]] = CONFLICTING_PERMISSIONS
                            ) -> list[dict[str, str]]:
    """Each role holding both permissions of a conflicting pair: `grants` maps role to its permissions."""
    found = []
    for role, held in sorted(grants.items()):
        for first, second, why in pairs:
            if first in held and second in held:
                found.append({"role": role, "permissions": f"{first} + {second}", "conflict": f"one person {why}"})
    return found


# --- controls -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BudgetPosition:
    """A department's budget for a period, and what is already spoken for: committed (approved, not invoiced)
    and actual (invoiced, from the ledger)."""

    department: str
    period: str
    budget: Decimal | None  # None: no budget set, the period is not controlled
    committed: Decimal
    actual: Decimal

    @property
    def remaining(self) -> Decimal:
        return (self.budget or ZERO) - self.committed - self.actual


def check_budget(control: Control, document: str, amount: Decimal, position: BudgetPosition) -> list[Finding]:
    """A purchase over the remaining budget of its department and period (committed + actual count)."""
    if position.budget is None or amount <= position.remaining:
        return []
    return _fired(control, f"{document} of {show_money(amount)} exceeds the remaining budget of department "
                           f"{position.department} for {position.period}: {show_money(position.remaining)} "
                           f"(budget {show_money(position.budget)}, committed {show_money(position.committed)}, "
                           f"actual {show_money(position.actual)})")


@dataclass(frozen=True)
class SalesLineFacts:
    line_no: int
    unit_price: Decimal
    discount_percent: Decimal
    cost: Decimal  # the item's moving-average cost in the order's warehouse (standard cost without stock)
    list_price: Decimal


def check_prices(price_control: Control, discount_control: Control, document: str,
                 lines: Sequence[SalesLineFacts]) -> list[Finding]:
    """Sales lines whose net unit price is below the item's cost, or whose discount passes the configured limit
    (`discount_limit.max_percent`; no limit configured, no finding)."""
    findings: list[Finding] = []
    limit = discount_control.decimal("max_percent")
    for line in lines:
        net = line.unit_price * (1 - line.discount_percent / 100)
        if net < line.cost:
            findings += _fired(price_control, f"{document} line {line.line_no}: net price {show_money(to_cents(net))}"
                                              f" is below cost {show_money(line.cost)} (list price "
                                              f"{show_money(line.list_price)})")
        if limit is not None and line.discount_percent > limit:
            findings += _fired(discount_control, f"{document} line {line.line_no}: discount "
                                                 f"{show_qty(line.discount_percent)}% is over the limit "
                                                 f"{show_qty(limit)}%")
    return findings


def check_credit(control: Control, customer: str, limit: Decimal, open_receivable: Decimal,
                 uninvoiced_orders: Decimal, order_total: Decimal) -> list[Finding]:
    """An order taking the customer past a non-zero credit limit, counting open invoices and the approved
    orders not yet invoiced."""
    exposure = open_receivable + uninvoiced_orders + order_total
    if limit <= 0 or exposure <= limit:
        return []
    return _fired(control, f"customer {customer} credit limit {show_money(limit)} exceeded: open invoices "
                           f"{show_money(open_receivable)} + approved orders not invoiced "
                           f"{show_money(uninvoiced_orders)} + this order {show_money(order_total)}")


@dataclass(frozen=True)
class TaxLineFacts:
    line_no: int
    net: Decimal
    tax: Decimal
    rate: Decimal
    item_rate: Decimal  # the rate of the item's tax code


def check_tax(control: Control, document: str, lines: Sequence[TaxLineFacts], total: Decimal,
              partner_tax_id: str | None) -> list[Finding]:
    """Tax data errors: a line's rate not its item's tax code, tax not the rounded net x rate, a zero-rated
    line to a partner without tax id (`zero_rate_needs_tax_id`), no tax id above `tax_id_required_above`."""
    findings: list[Finding] = []
    for line in lines:
        if line.rate != line.item_rate:
            findings += _fired(control, f"{document} line {line.line_no}: tax rate {show_qty(line.rate)} is not "
                                        f"its item's tax code rate {show_qty(line.item_rate)}")
        if line.tax != to_cents(line.net * line.rate):
            findings += _fired(control, f"{document} line {line.line_no}: tax {show_money(line.tax)} is not "
                                        f"{show_money(line.net)} x {show_qty(line.rate)} rounded "
                                        f"({show_money(to_cents(line.net * line.rate))})")
        if line.rate == 0 and control.params.get("zero_rate_needs_tax_id") and not partner_tax_id:
            findings += _fired(control, f"{document} line {line.line_no}: zero-rated, but the partner has no tax id")
    above = control.decimal("tax_id_required_above")
    if above is not None and total > above and not partner_tax_id:
        findings += _fired(control, f"{document} total {show_money(total)} is over {show_money(above)} and the "
                                    "partner has no tax id")
    return findings
