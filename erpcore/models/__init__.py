"""The erpops schema: one declarative metadata shared by migrations, services and every tool."""

from erpcore.models.base import Base
from erpcore.models.controls import (
    Approval,
    ApprovalRequest,
    ApprovalRule,
    Budget,
    ControlSetting,
    RuleBlock,
    RulebookVersion,
)
from erpcore.models.ledger import FiscalPeriod, JournalEntry, JournalLine, StockBalance, StockMove
from erpcore.models.master import Account, Customer, Department, Item, Supplier, TaxCode, Warehouse
from erpcore.models.purchasing import (
    GoodsReceipt,
    GoodsReceiptLine,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseRequisition,
    SupplierInvoice,
    SupplierInvoiceLine,
    SupplierPayment,
)
from erpcore.models.sales import (
    CustomerInvoice,
    CustomerInvoiceLine,
    CustomerReceipt,
    SalesOrder,
    SalesOrderLine,
    Shipment,
    ShipmentLine,
    StockReservation,
)
from erpcore.models.system import ApiToken, AuditEvent, DocumentSequence, IdempotencyKey, OutboxMessage

metadata = Base.metadata

__all__ = [
    "Account", "ApiToken", "Approval", "ApprovalRequest", "ApprovalRule", "AuditEvent", "Base", "Budget",
    "ControlSetting", "Customer", "CustomerInvoice", "CustomerInvoiceLine",
    "CustomerReceipt", "Department", "DocumentSequence", "FiscalPeriod", "GoodsReceipt", "GoodsReceiptLine", "IdempotencyKey", "Item",
    "JournalEntry", "JournalLine", "OutboxMessage", "PurchaseOrder", "PurchaseOrderLine",
    "PurchaseRequisition", "RuleBlock", "RulebookVersion", "SalesOrder", "SalesOrderLine", "Shipment", "ShipmentLine", "StockBalance",
    "StockMove", "StockReservation", "Supplier", "SupplierInvoice", "SupplierInvoiceLine",
    "SupplierPayment", "TaxCode", "Warehouse", "metadata",
]
