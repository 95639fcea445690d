"""Master data: items, customers, suppliers, warehouses (create, get, list)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from erpcore.access import Actor
from erpcore.api import queries as q
from erpcore.api import sensitive
from erpcore.api.auth import require
from erpcore.api.deps import ErpDep, IdPath, ListDep, offloaded, page, writer
from erpcore.api.schemas import ItemIn, ItemOut, Page, PartyIn, PartyOut, WarehouseIn, WarehouseOut
from erpcore.api.strict import StrictJsonRoute
from erpcore.models import Customer, Item, Supplier, Warehouse
from erpcore.services import master, views
from erpcore.services.unit_of_work import UnitOfWork

router = APIRouter(tags=["master data"], route_class=StrictJsonRoute)
Reader = Depends(require("master.data.read"))
MasterReader = Annotated[Actor, Reader]
# A unit of work per service, acting as the caller, who must hold the permission the service declares.
ForCreateItem = Annotated[UnitOfWork, Depends(writer(master.create_item, "item"))]
ForCreateCustomer = Annotated[UnitOfWork, Depends(writer(master.create_customer, "customer"))]
ForCreateSupplier = Annotated[UnitOfWork, Depends(writer(master.create_supplier, "supplier"))]
ForCreateWarehouse = Annotated[UnitOfWork, Depends(writer(master.create_warehouse, "warehouse"))]


@router.post("/items", status_code=201, response_model=ItemOut)
@offloaded
def create_item(body: ItemIn, uow: ForCreateItem) -> dict[str, Any]:
    """Create an item."""
    return master.create_item(uow, **body.model_dump()).row


@router.get("/items/{item_id}", response_model=ItemOut, dependencies=[Reader])
def get_item(item_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One item."""
    return views.one(erp.engine, Item, item_id, "item")


@router.get("/items", response_model=Page[ItemOut], dependencies=[Reader])
def list_items(request: Request, erp: ErpDep, params: ListDep) -> dict[str, Any]:
    """Items by id."""
    return page(request, q.listing(erp.engine, Item, params, None), params)


@router.post("/customers", status_code=201, response_model=PartyOut)
@offloaded
def create_customer(body: PartyIn, uow: ForCreateCustomer) -> dict[str, Any]:
    """Create a customer; a credit limit of 0 means none is enforced."""
    return sensitive.party(master.create_customer(uow, **body.model_dump()).row, uow.actor, None, "customer")


@router.get("/customers/{customer_id}", response_model=PartyOut)
def get_customer(customer_id: IdPath, erp: ErpDep, actor: MasterReader) -> dict[str, Any]:
    """One customer (its tax id masked unless the role may see it)."""
    return sensitive.party(views.one(erp.engine, Customer, customer_id, "customer"), actor, erp.keyring, "customer")


@router.get("/customers", response_model=Page[PartyOut])
def list_customers(request: Request, erp: ErpDep, params: ListDep, actor: MasterReader) -> dict[str, Any]:
    """Customers by id (tax ids masked unless the role may see them)."""
    rows = page(request, q.listing(erp.engine, Customer, params, None), params)
    return sensitive.parties(rows, actor, erp.keyring, "customer")


@router.post("/suppliers", status_code=201, response_model=PartyOut)
@offloaded
def create_supplier(body: PartyIn, uow: ForCreateSupplier) -> dict[str, Any]:
    """Create a supplier."""
    return sensitive.party(master.create_supplier(uow, **body.model_dump()).row, uow.actor, None, "supplier")


@router.get("/suppliers/{supplier_id}", response_model=PartyOut)
def get_supplier(supplier_id: IdPath, erp: ErpDep, actor: MasterReader) -> dict[str, Any]:
    """One supplier (its tax id masked unless the role may see it)."""
    return sensitive.party(views.one(erp.engine, Supplier, supplier_id, "supplier"), actor, erp.keyring, "supplier")


@router.get("/suppliers", response_model=Page[PartyOut])
def list_suppliers(request: Request, erp: ErpDep, params: ListDep, actor: MasterReader) -> dict[str, Any]:
    """Suppliers by id (tax ids masked unless the role may see them)."""
    rows = page(request, q.listing(erp.engine, Supplier, params, None), params)
    return sensitive.parties(rows, actor, erp.keyring, "supplier")


@router.post("/warehouses", status_code=201, response_model=WarehouseOut)
@offloaded
def create_warehouse(body: WarehouseIn, uow: ForCreateWarehouse) -> dict[str, Any]:
    """Create a warehouse."""
    return master.create_warehouse(uow, body.code, body.name).row


@router.get("/warehouses/{warehouse_id}", response_model=WarehouseOut, dependencies=[Reader])
def get_warehouse(warehouse_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One warehouse."""
    return views.one(erp.engine, Warehouse, warehouse_id, "warehouse")


@router.get("/warehouses", response_model=Page[WarehouseOut], dependencies=[Reader])
def list_warehouses(request: Request, erp: ErpDep, params: ListDep) -> dict[str, Any]:
    """Warehouses by id."""
    return page(request, q.listing(erp.engine, Warehouse, params, None), params)
