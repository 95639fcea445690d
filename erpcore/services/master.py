"""Master data services: items, customers, suppliers, warehouses."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from erpcore.access import guarded
from erpcore.exceptions import Conflict, ValidationFailed
from erpcore.models import Customer, Item, Supplier, TaxCode, Warehouse
from erpcore.services.documents import Doc, written
from erpcore.services.unit_of_work import UnitOfWork


def _require_positive(**values: Decimal) -> None:
    for name, value in values.items():
        if value < 0:
            raise ValidationFailed(f"{name} must not be negative (got {value})")


# Column widths, checked here so every caller (API, CLI, seed) gets a clear error, not a DataError.
MAX_LENGTH = {"code": 40, "sku": 40, "name": 200, "unit": 12, "email": 200}


def _check_lengths(values: dict[str, object]) -> None:
    for field, limit in MAX_LENGTH.items():
        value = values.get(field)
        if isinstance(value, str) and not value.strip():
            raise ValidationFailed(f"{field} must not be empty")
        if isinstance(value, str) and len(value) > limit:
            raise ValidationFailed(f"{field} is {len(value)} characters long; at most {limit} are allowed")


def _insert(uow: UnitOfWork, model: type, values: dict[str, object], what: str) -> Doc:
    """Insert one master-data row in the open unit of work and commit; returns the row as written."""
    _check_lengths(values)
    try:
        row = uow.conn.execute(insert(model).values(**values).returning(*model.__table__.columns)  # type: ignore[attr-defined]
                               ).mappings().one()
        uow.record(model.__tablename__, dict(row))  # type: ignore[attr-defined]
        uow.commit()
    except IntegrityError as exc:
        raise Conflict(f"{what} already exists or references unknown data") from exc
    return written(row)


@guarded("master.item.write")
def create_item(
    uow: UnitOfWork, sku: str, name: str, standard_cost: Decimal, list_price: Decimal,
    tax_code: str = "STD", unit: str = "pcs", safety_stock: Decimal = Decimal(0),
    reorder_qty: Decimal = Decimal(0), default_supplier_id: int | None = None,
    procurement: str = "purchased", category: str | None = None,
) -> Doc:
    """Create an item; its tax code is given by code (STD, RED, ZERO unless more were added); approval rules
    may match its `category`."""
    _require_positive(standard_cost=standard_cost, list_price=list_price, safety_stock=safety_stock,
                      reorder_qty=reorder_qty)
    if procurement not in ("purchased", "manufactured"):
        raise ValidationFailed(f"procurement must be 'purchased' or 'manufactured', not {procurement!r}")
    with uow:
        tax_id = uow.conn.scalar(select(TaxCode.id).where(TaxCode.code == tax_code))
        if tax_id is None:
            raise ValidationFailed(f"unknown tax code {tax_code!r}")
        if default_supplier_id is not None and uow.conn.scalar(
                select(Supplier.id).where(Supplier.id == default_supplier_id)) is None:
            raise ValidationFailed(f"unknown supplier {default_supplier_id}")
        return _insert(uow, Item, {
            "sku": sku, "name": name, "unit": unit, "standard_cost": standard_cost, "list_price": list_price, "tax_code_id": tax_id,
            "safety_stock": safety_stock, "reorder_qty": reorder_qty, "default_supplier_id": default_supplier_id,
            "procurement": procurement, "category": category,
        }, f"item {sku!r}")


@guarded("master.customer.write")
def create_customer(uow: UnitOfWork, code: str, name: str, credit_limit: Decimal = Decimal(0),
                    email: str | None = None, payment_terms_days: int = 30, tax_id: str | None = None) -> Doc:
    """Create a customer; a credit limit of 0 means no limit is enforced. Its tax id is stored sealed."""
    _require_positive(credit_limit=credit_limit)
    with uow:
        return _with_tax_id(_insert(uow, Customer, {
            "code": code, "name": name, "credit_limit": credit_limit, "email": email,
            "payment_terms_days": payment_terms_days, "tax_id": uow.resources.keyring.seal(tax_id, "customer.tax_id"),
        }, f"customer {code!r}"), tax_id)


@guarded("master.supplier.write")
def create_supplier(uow: UnitOfWork, code: str, name: str, credit_limit: Decimal = Decimal(0),
                    email: str | None = None, payment_terms_days: int = 30, tax_id: str | None = None) -> Doc:
    """Create a supplier. Its tax id is stored sealed."""
    _require_positive(credit_limit=credit_limit)
    with uow:
        return _with_tax_id(_insert(uow, Supplier, {
            "code": code, "name": name, "credit_limit": credit_limit, "email": email,
            "payment_terms_days": payment_terms_days, "tax_id": uow.resources.keyring.seal(tax_id, "supplier.tax_id"),
        }, f"supplier {code!r}"), tax_id)


def _with_tax_id(doc: Doc, tax_id: str | None) -> Doc:
    """The written party as its caller gave it: the plain tax id, not the sealed one stored."""
    return Doc(doc.id, {**doc.row, "tax_id": tax_id})


@guarded("master.warehouse.write")
def create_warehouse(uow: UnitOfWork, code: str, name: str) -> Doc:
    """Create a warehouse."""
    with uow:
        return _insert(uow, Warehouse, {"code": code, "name": name}, f"warehouse {code!r}")


def default_warehouse_id(uow: UnitOfWork) -> int:
    """The first warehouse (in the open unit of work), for documents that name none."""
    wid = uow.conn.scalar(select(Warehouse.id).order_by(Warehouse.id).limit(1))
    if wid is None:
        raise ValidationFailed("no warehouse exists; run `erpops db upgrade`")
    return int(wid)
