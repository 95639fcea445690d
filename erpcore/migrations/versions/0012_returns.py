"""Returns: customer returns (with their credit notes) and supplier returns (with their debit notes), each line
linked to the shipment line or goods receipt line it takes back.

Revision ID: 0012_returns
Revises: 0011_payroll
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_returns"
down_revision = "0011_payroll"
branch_labels = None
depends_on = None

# posted returns are frozen like every posted document (the trigger function comes from revision 0002)
FROZEN_WHEN_POSTED = {"customer_return": ("status",), "customer_return_line": (), "supplier_return": ("status",),
                      "supplier_return_line": ()}


def upgrade() -> None:
    op.create_table('customer_return',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shipment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sales_order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_invoice_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('return_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('cost_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('net_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('total_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('refund_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_customer_return_customer_id_customer')),
    sa.ForeignKeyConstraint(['customer_invoice_id'], ['customer_invoice.id'], name=op.f('fk_customer_return_customer_invoice_id_customer_invoice')),
    sa.ForeignKeyConstraint(['sales_order_id'], ['sales_order.id'], name=op.f('fk_customer_return_sales_order_id_sales_order')),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_customer_return_shipment_id_shipment')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_customer_return_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_return')),
    sa.UniqueConstraint('number', name=op.f('uq_customer_return_number'))
    )
    op.create_index(op.f('ix_customer_return_customer_id'), 'customer_return', ['customer_id'], unique=False)
    op.create_index(op.f('ix_customer_return_customer_invoice_id'), 'customer_return', ['customer_invoice_id'], unique=False)
    op.create_index(op.f('ix_customer_return_return_date'), 'customer_return', ['return_date'], unique=False)
    op.create_index(op.f('ix_customer_return_shipment_id'), 'customer_return', ['shipment_id'], unique=False)
    op.create_index(op.f('ix_customer_return_status'), 'customer_return', ['status'], unique=False)
    op.create_table('supplier_return',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('supplier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('goods_receipt_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('purchase_order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('supplier_invoice_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('return_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('value_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('stock_value', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('grni_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('net_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('total_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('refund_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['goods_receipt_id'], ['goods_receipt.id'], name=op.f('fk_supplier_return_goods_receipt_id_goods_receipt')),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_order.id'], name=op.f('fk_supplier_return_purchase_order_id_purchase_order')),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_supplier_return_supplier_id_supplier')),
    sa.ForeignKeyConstraint(['supplier_invoice_id'], ['supplier_invoice.id'], name=op.f('fk_supplier_return_supplier_invoice_id_supplier_invoice')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_supplier_return_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_return')),
    sa.UniqueConstraint('number', name=op.f('uq_supplier_return_number'))
    )
    op.create_index(op.f('ix_supplier_return_goods_receipt_id'), 'supplier_return', ['goods_receipt_id'], unique=False)
    op.create_index(op.f('ix_supplier_return_return_date'), 'supplier_return', ['return_date'], unique=False)
    op.create_index(op.f('ix_supplier_return_status'), 'supplier_return', ['status'], unique=False)
    op.create_index(op.f('ix_supplier_return_supplier_id'), 'supplier_return', ['supplier_id'], unique=False)
    op.create_index(op.f('ix_supplier_return_supplier_invoice_id'), 'supplier_return', ['supplier_invoice_id'], unique=False)
    op.create_table('customer_return_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('customer_return_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shipment_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_invoice_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('cost_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_rate', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('discount_percent', sa.Numeric(precision=7, scale=4), server_default='0', nullable=False),
    sa.Column('net_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_customer_return_line_quantity_positive')),
    sa.ForeignKeyConstraint(['customer_invoice_line_id'], ['customer_invoice_line.id'], name=op.f('fk_customer_return_line_customer_invoice_line_id_customer_invoice_line')),
    sa.ForeignKeyConstraint(['customer_return_id'], ['customer_return.id'], name=op.f('fk_customer_return_line_customer_return_id_customer_return')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_customer_return_line_item_id_item')),
    sa.ForeignKeyConstraint(['shipment_line_id'], ['shipment_line.id'], name=op.f('fk_customer_return_line_shipment_line_id_shipment_line')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_return_line'))
    )
    op.create_index(op.f('ix_customer_return_line_customer_invoice_line_id'), 'customer_return_line', ['customer_invoice_line_id'], unique=False)
    op.create_index(op.f('ix_customer_return_line_customer_return_id'), 'customer_return_line', ['customer_return_id'], unique=False)
    op.create_index(op.f('ix_customer_return_line_shipment_line_id'), 'customer_return_line', ['shipment_line_id'], unique=False)
    op.create_table('supplier_return_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('supplier_return_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('goods_receipt_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('purchase_order_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('qty_unbilled', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('value_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('stock_value', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('grni_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('net_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.CheckConstraint('quantity > 0 AND qty_unbilled >= 0 AND qty_unbilled <= quantity', name=op.f('ck_supplier_return_line_quantities')),
    sa.ForeignKeyConstraint(['goods_receipt_line_id'], ['goods_receipt_line.id'], name=op.f('fk_supplier_return_line_goods_receipt_line_id_goods_receipt_line')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_supplier_return_line_item_id_item')),
    sa.ForeignKeyConstraint(['purchase_order_line_id'], ['purchase_order_line.id'], name=op.f('fk_supplier_return_line_purchase_order_line_id_purchase_order_line')),
    sa.ForeignKeyConstraint(['supplier_return_id'], ['supplier_return.id'], name=op.f('fk_supplier_return_line_supplier_return_id_supplier_return')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_return_line'))
    )
    op.create_index(op.f('ix_supplier_return_line_goods_receipt_line_id'), 'supplier_return_line', ['goods_receipt_line_id'], unique=False)
    op.create_index(op.f('ix_supplier_return_line_purchase_order_line_id'), 'supplier_return_line', ['purchase_order_line_id'], unique=False)
    op.create_index(op.f('ix_supplier_return_line_supplier_return_id'), 'supplier_return_line', ['supplier_return_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for table, allowed in FROZEN_WHEN_POSTED.items():
            args = ", ".join(f"'{c}'" for c in allowed)
            op.execute(f"CREATE TRIGGER {table}_frozen BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION erpops_refuse_posted_change({args})")


def downgrade() -> None:
    for table in ("supplier_return_line", "customer_return_line", "supplier_return", "customer_return"):
        op.drop_table(table)
