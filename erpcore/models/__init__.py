"""The erpops schema: one declarative metadata shared by migrations, services and every tool."""

from erpcore.models.base import Base
from erpcore.models.ledger import FiscalPeriod, JournalEntry, JournalLine, StockBalance, StockMove
from erpcore.models.master import Account, Customer, Department, Item, Supplier, TaxCode, Warehouse
from erpcore.models.outbox import OutboxDelivery, OutboxSubscription
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
    "Account", "ApiToken", "AuditEvent", "Base", "Customer", "CustomerInvoice", "CustomerInvoiceLine",
    "CustomerReceipt", "DocumentSequence", "FiscalPeriod", "GoodsReceipt", "GoodsReceiptLine", "IdempotencyKey", "Item",
    "JournalEntry", "JournalLine", "OutboxMessage", "PurchaseOrder", "PurchaseOrderLine",
    "PurchaseRequisition", "SalesOrder", "SalesOrderLine", "Shipment", "ShipmentLine", "StockBalance",
    "StockMove", "StockReservation", "Supplier", "SupplierInvoice", "SupplierInvoiceLine",
    "SupplierPayment", "TaxCode", "Warehouse", "metadata",
]
__all__ += ["Department", "OutboxDelivery", "OutboxSubscription"]
