"""The erpops schema: one declarative metadata shared by migrations, services and every tool."""

from erpcore.models.access import AuditChain, Role, RolePermission
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
from erpcore.models.outbox import OutboxDelivery, OutboxSubscription
from erpcore.models.production import BillOfMaterials, BomLine, ShippingInstruction, WorkOrder, WorkOrderLine
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
from erpcore.models.returns import CustomerReturn, CustomerReturnLine, SupplierReturn, SupplierReturnLine
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
    "Account", "ApiToken", "Approval", "ApprovalRequest", "ApprovalRule", "AuditChain", "AuditEvent", "Base", "Budget",
    "ControlSetting", "Customer", "CustomerInvoice", "CustomerInvoiceLine",
    "CustomerReceipt", "Department", "DocumentSequence", "FiscalPeriod", "GoodsReceipt", "GoodsReceiptLine", "IdempotencyKey", "Item",
    "JournalEntry", "JournalLine", "OutboxMessage", "PurchaseOrder", "PurchaseOrderLine",
    "PurchaseRequisition", "Role", "RolePermission", "RuleBlock", "RulebookVersion", "SalesOrder", "SalesOrderLine", "Shipment", "ShipmentLine", "StockBalance",
    "StockMove", "StockReservation", "Supplier", "SupplierInvoice", "SupplierInvoiceLine",
    "SupplierPayment", "TaxCode", "Warehouse", "metadata",
]
__all__ += ["BillOfMaterials", "BomLine", "ShippingInstruction", "WorkOrder", "WorkOrderLine"]
from erpcore.models.payroll import Employee, PayrollLine, PayrollRate, PayrollRun, PayrollRunDepartment  # noqa: E402

__all__ += ["Department", "Employee", "PayrollLine", "PayrollRate", "PayrollRun", "PayrollRunDepartment"]
__all__ += ["CustomerReturn", "CustomerReturnLine", "SupplierReturn", "SupplierReturnLine"]
__all__ += ["OutboxDelivery", "OutboxSubscription"]
