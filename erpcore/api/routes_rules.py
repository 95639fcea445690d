"""Controls as data over HTTP: the rulebook (approval rules, control settings), budgets and the budget report,
approvers' decisions on documents pending approval, and the record of blocked writes."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from erpcore.api.auth import require
from erpcore.api.deps import ErpDep, IdPath, offloaded, writer
from erpcore.api.schemas import Amount, Code, In, PurchaseOrderOut, SalesOrderOut, Timestamp
from erpcore.api.strict import StrictJsonRoute
from erpcore.reports_budget import budget_report
from erpcore.services import approvals, budgets, purchasing, rulebook, sales
from erpcore.services.unit_of_work import UnitOfWork

router = APIRouter(tags=["controls"], route_class=StrictJsonRoute)
RulesReader = [Depends(require("rules.read"))]
BudgetReader = [Depends(require("finance.budget.read"))]
ForLoadRulebook = Annotated[UnitOfWork, Depends(writer(rulebook.load_rulebook, None))]
ForSetRule = Annotated[UnitOfWork, Depends(writer(rulebook.set_rule, None))]
ForDeleteRule = Annotated[UnitOfWork, Depends(writer(rulebook.delete_rule, None))]
ForSetControl = Annotated[UnitOfWork, Depends(writer(rulebook.set_control, None))]
ForSetBudget = Annotated[UnitOfWork, Depends(writer(budgets.set_budget, None))]
ForDecidePurchaseOrder = Annotated[UnitOfWork, Depends(writer(purchasing.decide_purchase_order, None))]
ForDecideSalesOrder = Annotated[UnitOfWork, Depends(writer(sales.decide_sales_order, None))]
RuleCode = Annotated[str, Path(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9._-]+$")]
ControlName = Literal["budget", "price_below_cost", "discount_limit", "credit_limit", "tax_data"]
DocumentType = Literal["purchase_order", "sales_order"]
Period = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="a month, YYYY-MM")]


class StepIn(In):
    roles: Annotated[list[Code], Field(min_length=1, max_length=20)]
    required: Annotated[int, Field(ge=1, le=10, strict=True)] = 1


class ConditionsIn(In):
    amount_over: Amount | None = None
    discount_over: Annotated[Decimal, Field(ge=0, le=100)] | None = None
    supplier: Annotated[list[Code], Field(min_length=1, max_length=200)] | None = None
    customer: Annotated[list[Code], Field(min_length=1, max_length=200)] | None = None
    item_category: Annotated[list[Code], Field(min_length=1, max_length=200)] | None = None
    department: Annotated[list[Code], Field(min_length=1, max_length=200)] | None = None


class RuleIn(In):
    document_type: DocumentType
    conditions: ConditionsIn = ConditionsIn()
    steps: Annotated[list[StepIn], Field(min_length=1, max_length=10)]
    priority: Annotated[int, Field(ge=0, le=10_000, strict=True)] = 100
    description: Annotated[str, Field(max_length=200)] = ""


class RuleOut(BaseModel):
    id: int
    code: str
    document_type: str
    priority: int
    conditions: dict[str, Any]
    steps: list[dict[str, Any]]
    description: str
    version: int
    updated_at: Timestamp
    updated_by: str


class ControlIn(In):
    mode: Literal["stop", "warn", "off"]
    account: Code | None = None
    max_percent: Annotated[Decimal, Field(ge=0, le=100)] | None = None
    tax_id_required_above: Amount | None = None
    zero_rate_needs_tax_id: bool | None = None


class ControlOut(BaseModel):
    name: str
    mode: str
    params: dict[str, Any]
    configured: bool
    updated_by: str | None


class RulebookIn(In):
    controls: dict[ControlName, ControlIn] = Field(default_factory=dict)
    approval_rules: list[dict[str, Any]] = Field(default_factory=list, max_length=500)


class RulebookOut(BaseModel):
    controls: list[ControlOut]
    approval_rules: list[RuleOut]


class BudgetIn(In):
    department: Code
    account: Code
    period: Period
    amount: Amount


class BudgetOut(BaseModel):
    id: int
    department: str
    account: str
    period: str
    amount: Decimal
    updated_at: Timestamp
    updated_by: str


class BudgetLineOut(BaseModel):
    department: str
    account: str
    period: str
    budget: Decimal
    committed: Decimal
    actual: Decimal
    remaining: Decimal
    used_percent: Decimal | None


class DecisionIn(In):
    decision: Literal["approve", "reject"]
    comment: Annotated[str, Field(max_length=400)] = ""


class PurchaseOrderDecided(PurchaseOrderOut):
    approval: str = Field(description="where the approval stands after this decision")


class SalesOrderDecided(SalesOrderOut):
    approval: str = Field(description="where the approval stands after this decision")


class RuleBlockOut(BaseModel):
    id: int
    actor: str
    role: str
    action: str
    document_type: str
    document_id: int | None
    rule: str
    outcome: str
    message: str
    created_at: Timestamp


def _control_body(body: ControlIn) -> dict[str, Any]:
    return {k: v for k, v in body.model_dump().items() if v is not None}


@router.get("/rules", response_model=RulebookOut, dependencies=RulesReader)
def get_rulebook(erp: ErpDep, document_type: DocumentType | None = None) -> dict[str, Any]:
    """Every control setting and approval rule in force."""
    with erp.engine.connect() as conn:
        return {"controls": rulebook.list_controls(conn),
                "approval_rules": rulebook.list_rules(conn, document_type)}


@router.post("/rules/load", response_model=RulebookOut)
@offloaded
def load_rulebook(body: RulebookIn, uow: ForLoadRulebook, erp: ErpDep) -> dict[str, Any]:
    """Load a rulebook (`controls` and `approval_rules`, as in `erpcore/rulebook.yaml`) in one transaction."""
    data = {"controls": {k: _control_body(v) for k, v in body.controls.items()},
            "approval_rules": body.approval_rules}
    rulebook.load_rulebook(uow, data)
    return get_rulebook(erp)


@router.get("/rules/approval-rules/{code}", response_model=RuleOut, dependencies=RulesReader)
def get_rule(code: RuleCode, erp: ErpDep) -> dict[str, Any]:
    """One approval rule."""
    with erp.engine.connect() as conn:
        return rulebook.rule_row(conn, code)


@router.put("/rules/approval-rules/{code}", response_model=RuleOut)
@offloaded
def put_rule(code: RuleCode, body: RuleIn, uow: ForSetRule) -> dict[str, Any]:
    """Create or replace an approval rule; documents submitted from now on follow it, no restart needed."""
    raw = {"code": code, **body.model_dump(exclude={"conditions"}),
           "conditions": body.conditions.model_dump(exclude_none=True)}
    return rulebook.set_rule(uow, raw).row


@router.delete("/rules/approval-rules/{code}", response_model=RuleOut)
@offloaded
def delete_rule(code: RuleCode, uow: ForDeleteRule) -> dict[str, Any]:
    """Delete an approval rule (documents already pending keep their steps)."""
    return rulebook.delete_rule(uow, code).row


@router.put("/rules/controls/{name}", response_model=ControlOut)
@offloaded
def put_control(name: ControlName, body: ControlIn, uow: ForSetControl) -> dict[str, Any]:
    """Set a control's mode (stop, warn, off) and parameters."""
    return rulebook.set_control(uow, name, _control_body(body)).row


@router.get("/rule-blocks", response_model=list[RuleBlockOut], dependencies=RulesReader)
def list_rule_blocks(erp: ErpDep, rule: Annotated[str | None, Query(max_length=60)] = None,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
    """Writes the rules blocked (and let through with a warning), newest first."""
    with erp.engine.connect() as conn:
        return rulebook.list_blocks(conn, rule, limit)


@router.put("/budgets", response_model=BudgetOut)
@offloaded
def put_budget(body: BudgetIn, uow: ForSetBudget) -> dict[str, Any]:
    """Set the budget of a department on an account for a month."""
    return budgets.set_budget(uow, body.department, body.account, body.period, body.amount).row


@router.get("/budgets", response_model=list[BudgetOut], dependencies=BudgetReader)
def list_budgets(erp: ErpDep, period: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
                 department: Annotated[str | None, Query(max_length=40)] = None) -> list[dict[str, Any]]:
    """Budgets by period, department and account."""
    with erp.engine.connect() as conn:
        return budgets.list_budgets(conn, period, department)


@router.get("/budgets/report", response_model=list[BudgetLineOut], dependencies=BudgetReader)
def get_budget_report(erp: ErpDep, period: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
                      department: Annotated[str | None, Query(max_length=40)] = None) -> list[dict[str, Any]]:
    """Budget versus actual: budget, committed (approved, not invoiced), actual (ledger) and remaining."""
    with erp.engine.connect() as conn:
        return budget_report(conn, period, department)


@router.post("/purchase-orders/{po_id}/decision", response_model=PurchaseOrderDecided)
@offloaded
def decide_purchase_order(po_id: IdPath, body: DecisionIn, uow: ForDecidePurchaseOrder) -> dict[str, Any]:
    """An approver's decision on a purchase order pending approval (its creator is refused)."""
    return purchasing.decide_purchase_order(uow, po_id, body.decision, body.comment).row


@router.post("/sales-orders/{order_id}/decision", response_model=SalesOrderDecided)
@offloaded
def decide_sales_order(order_id: IdPath, body: DecisionIn, uow: ForDecideSalesOrder) -> dict[str, Any]:
    """An approver's decision on a sales order pending approval (its creator is refused)."""
    return sales.decide_sales_order(uow, order_id, body.decision, body.comment).row


@router.get("/approvals/{document_type}/{document_id}", response_model=list[dict[str, Any]],
            dependencies=RulesReader)
def get_approvals(document_type: DocumentType, document_id: IdPath, erp: ErpDep) -> list[dict[str, Any]]:
    """A document's approval requests with every decision, oldest first."""
    with erp.engine.connect() as conn:
        return approvals.history(conn, document_type, document_id)
