"""Master data: items, customers, suppliers, warehouses (create, get, list)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from erpcore.api import queries as q
from erpcore.api.auth import Principal, require
from erpcore.api.deps import ErpDep, IdPath, ListDep, offloaded, page
from erpcore.api.schemas import ItemIn, ItemOut, Page, PartyIn, PartyOut, WarehouseIn, WarehouseOut
from erpcore.models import Customer, Item, Supplier, Warehouse
from erpcore.services import master

router = APIRouter(tags=["master data"])
Reader = Depends(require("master:read"))


@router.post("/items", status_code=201, response_model=ItemOut)
@offloaded
def create_item(body: ItemIn, erp: ErpDep,
                who: Annotated[Principal, Depends(require("items:write"))]) -> dict[str, Any]:
    """Create an item."""
    new_id = master.create_item(erp.uow(who.name), **body.model_dump())
    return q.one(erp.engine, Item, new_id, "item")


@router.get("/items/{item_id}", response_model=ItemOut, dependencies=[Reader])
def get_item(item_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One item."""
    return q.one(erp.engine, Item, item_id, "item")


@router.get("/items", response_model=Page[ItemOut], dependencies=[Reader])
def list_items(request: Request, erp: ErpDep, params: ListDep) -> dict[str, Any]:
    """Items by id."""
    return page(request, q.listing(erp.engine, Item, params, None), params)


@router.post("/customers", status_code=201, response_model=PartyOut)
@offloaded
def create_customer(body: PartyIn, erp: ErpDep,
                    who: Annotated[Principal, Depends(require("customers:write"))]) -> dict[str, Any]:
    """Create a customer; a credit limit of 0 means none is enforced."""
    new_id = master.create_customer(erp.uow(who.name), **body.model_dump())
    return q.one(erp.engine, Customer, new_id, "customer")


@router.get("/customers/{customer_id}", response_model=PartyOut, dependencies=[Reader])
def get_customer(customer_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One customer."""
    return q.one(erp.engine, Customer, customer_id, "customer")


@router.get("/customers", response_model=Page[PartyOut], dependencies=[Reader])
def list_customers(request: Request, erp: ErpDep, params: ListDep) -> dict[str, Any]:
    """Customers by id."""
    return page(request, q.listing(erp.engine, Customer, params, None), params)


@router.post("/suppliers", status_code=201, response_model=PartyOut)
@offloaded
def create_supplier(body: PartyIn, erp: ErpDep,
                    who: Annotated[Principal, Depends(require("suppliers:write"))]) -> dict[str, Any]:
    """Create a supplier."""
    new_id = master.create_supplier(erp.uow(who.name), **body.model_dump())
    return q.one(erp.engine, Supplier, new_id, "supplier")


@router.get("/suppliers/{supplier_id}", response_model=PartyOut, dependencies=[Reader])
def get_supplier(supplier_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One supplier."""
    return q.one(erp.engine, Supplier, supplier_id, "supplier")


@router.get("/suppliers", response_model=Page[PartyOut], dependencies=[Reader])
def list_suppliers(request: Request, erp: ErpDep, params: ListDep) -> dict[str, Any]:
    """Suppliers by id."""
    return page(request, q.listing(erp.engine, Supplier, params, None), params)


@router.post("/warehouses", status_code=201, response_model=WarehouseOut)
@offloaded
def create_warehouse(body: WarehouseIn, erp: ErpDep,
                     who: Annotated[Principal, Depends(require("warehouses:write"))]) -> dict[str, Any]:
    """Create a warehouse."""
    new_id = master.create_warehouse(erp.uow(who.name), body.code, body.name)
    return q.one(erp.engine, Warehouse, new_id, "warehouse")


@router.get("/warehouses/{warehouse_id}", response_model=WarehouseOut, dependencies=[Reader])
def get_warehouse(warehouse_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One warehouse."""
    return q.one(erp.engine, Warehouse, warehouse_id, "warehouse")


@router.get("/warehouses", response_model=Page[WarehouseOut], dependencies=[Reader])
def list_warehouses(request: Request, erp: ErpDep, params: ListDep) -> dict[str, Any]:
    """Warehouses by id."""
    return page(request, q.listing(erp.engine, Warehouse, params, None), params)
