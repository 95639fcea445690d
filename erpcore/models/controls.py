"""Controls as data: budgets, approval rules and the business-rule settings, the approvals a document
collected, and every write a rule blocked (or let through with a warning)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from erpcore.models.base import Base, BigId, Timestamped, intpk, money


class Budget(Base):
    """What a department may spend on an account in a month (`period` is YYYY-MM)."""

    __tablename__ = "budget"
    __table_args__ = (
        UniqueConstraint("department_id", "account_id", "period"),
        CheckConstraint("amount >= 0", name="amount_positive"),
    )

    id: Mapped[intpk]
    department_id: Mapped[int] = mapped_column(BigId, ForeignKey("department.id"))  # led by the unique key
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("account.id"))
    period: Mapped[str] = mapped_column(String(7))
    amount: Mapped[money]
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(80))


class ApprovalRule(Base):
    """Who must approve a document of `document_type` whose facts meet `conditions`: `steps` in sequence, each
    `required` distinct approvers out of its `roles` (n of m). A document matching several rules needs all."""

    __tablename__ = "approval_rule"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(60), unique=True)
    document_type: Mapped[str] = mapped_column(String(24), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON)
    steps: Mapped[list[Any]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(80))


class ControlSetting(Base):
    """One business rule's mode (stop, warn, off) and parameters, e.g. `discount_limit` with `max_percent`."""

    __tablename__ = "control_setting"
    __table_args__ = (CheckConstraint("mode IN ('stop','warn','off')", name="mode_known"),)

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(80))


class RulebookVersion(Base):
    """One row, bumped by every change to the rulebook: a process caches the rulebook and re-reads it only when
    the version its writing transaction reads differs (`epoch` tells databases that share a URL apart)."""

    __tablename__ = "rulebook_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(BigId)


class ApprovalRequest(Timestamped, Base):
    """One submission of a document for approval, with the steps its matching rules required at that moment
    (a rule edited later applies to documents submitted afterwards, never to this one)."""

    __tablename__ = "approval_request"
    __table_args__ = (Index("ix_approval_request_document", "document_type", "document_id"),)

    id: Mapped[intpk]
    document_type: Mapped[str] = mapped_column(String(24))
    document_id: Mapped[int] = mapped_column(BigId)
    rules: Mapped[list[Any]] = mapped_column(JSON)
    steps: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12))  # pending | approved | rejected
    submitted_by: Mapped[str] = mapped_column(String(80))
    decided_at: Mapped[dt.datetime | None]


class Approval(Timestamped, Base):
    """One approver's decision on one step of an approval request."""

    __tablename__ = "approval"
    __table_args__ = (CheckConstraint("decision IN ('approve','reject')", name="decision_known"),)

    id: Mapped[intpk]
    request_id: Mapped[int] = mapped_column(BigId, ForeignKey("approval_request.id"), index=True)
    step_no: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(24))
    decision: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(String(400), default="")


class RuleBlock(Timestamped, Base):
    """A write a business rule refused (`blocked`, committed apart from the refused write) or let through
    with an alert (`warned`, in the write's own transaction): who, what, which rule, when."""

    __tablename__ = "rule_block"
    __table_args__ = (CheckConstraint("outcome IN ('blocked','warned')", name="outcome_known"),)

    id: Mapped[intpk]
    actor: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(24))
    action: Mapped[str] = mapped_column(String(60))
    document_type: Mapped[str] = mapped_column(String(24))
    document_id: Mapped[int | None] = mapped_column(BigId)
    rule: Mapped[str] = mapped_column(String(60), index=True)
    outcome: Mapped[str] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(String(400))
