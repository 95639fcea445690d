"""Master data: tax codes, chart of accounts, departments, warehouses, items, customers, suppliers."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from erpcore.models.base import Base, BigId, Timestamped, code, intpk, money, qty


class TaxCode(Base):
    __tablename__ = "tax_code"
    __table_args__ = (CheckConstraint("rate >= 0 AND rate < 1", name="rate_range"),)

    id: Mapped[intpk]
    code: Mapped[code]
    name: Mapped[str]
    rate: Mapped[Decimal]


class Account(Base):
    __tablename__ = "account"
    __table_args__ = (
        CheckConstraint(
            "type IN ('asset','liability','equity','income','expense')", name="type_known"
        ),
    )

    id: Mapped[intpk]
    code: Mapped[code]
    name: Mapped[str]
    type: Mapped[str] = mapped_column(String(16))
    role: Mapped[str | None] = mapped_column(String(40), unique=True)


class Department(Base):
    """An organisational unit: employees belong to one, budgets and purchases are kept per department, and its
    cost centre is where its salaries and spend are booked."""

    __tablename__ = "department"

    id: Mapped[intpk]
    code: Mapped[code]
    name: Mapped[str]
    cost_centre: Mapped[str] = mapped_column(String(20))


class Warehouse(Base):
    __tablename__ = "warehouse"

    id: Mapped[intpk]
    code: Mapped[code]
    name: Mapped[str]


class Customer(Timestamped, Base):
    __tablename__ = "customer"
    __table_args__ = (CheckConstraint("credit_limit >= 0", name="credit_limit_positive"),)

    id: Mapped[intpk]
    code: Mapped[code]
    name: Mapped[str]
    email: Mapped[str | None]
    tax_id: Mapped[str | None] = mapped_column(String(400))  # encrypted at rest when a key is set
    credit_limit: Mapped[money]
    payment_terms_days: Mapped[int] = mapped_column(default=30)


class Supplier(Timestamped, Base):
    __tablename__ = "supplier"
    __table_args__ = (CheckConstraint("credit_limit >= 0", name="credit_limit_positive"),)

    id: Mapped[intpk]
    code: Mapped[code]
    name: Mapped[str]
    email: Mapped[str | None]
    bank_account: Mapped[str | None] = mapped_column(String(400))  # encrypted at rest when a key is set
    tax_id: Mapped[str | None] = mapped_column(String(400))  # encrypted at rest when a key is set
    credit_limit: Mapped[money]
    payment_terms_days: Mapped[int] = mapped_column(default=30)


class Item(Timestamped, Base):
    __tablename__ = "item"
    __table_args__ = (
        CheckConstraint("standard_cost >= 0 AND list_price >= 0", name="prices_positive"),
        CheckConstraint("safety_stock >= 0 AND reorder_qty >= 0", name="planning_positive"),
        CheckConstraint("procurement IN ('purchased','manufactured')", name="procurement_known"),
    )

    id: Mapped[intpk]
    sku: Mapped[code]
    name: Mapped[str]
    unit: Mapped[str] = mapped_column(String(12), default="pcs")
    standard_cost: Mapped[money]
    list_price: Mapped[money]
    tax_code_id: Mapped[int] = mapped_column(BigId, ForeignKey("tax_code.id"))
    safety_stock: Mapped[qty]
    reorder_qty: Mapped[qty]
    default_supplier_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("supplier.id"))
    procurement: Mapped[str] = mapped_column(String(16), default="purchased")
    category: Mapped[str | None] = mapped_column(String(40))  # what approval rules match on
