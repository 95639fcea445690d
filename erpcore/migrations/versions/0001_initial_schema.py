"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-24 17:27:18.937446
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('account',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=True),
    sa.CheckConstraint("type IN ('asset','liability','equity','income','expense')", name=op.f('ck_account_type_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
    sa.UniqueConstraint('code', name=op.f('uq_account_code')),
    sa.UniqueConstraint('role', name=op.f('uq_account_role'))
    )
    op.create_table('api_token',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=24), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    op.create_table('audit_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=80), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('row_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    op.create_table('customer',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('tax_id', sa.String(length=400), nullable=True),
    sa.Column('credit_limit', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('payment_terms_days', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('credit_limit >= 0', name=op.f('ck_customer_credit_limit_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer')),
    sa.UniqueConstraint('code', name=op.f('uq_customer_code'))
    )
    op.create_table('document_sequence',
    sa.Column('doc_type', sa.String(length=24), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('next_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('doc_type', 'year', name=op.f('pk_document_sequence'))
    )
    op.create_table('journal_entry',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('source_type', sa.String(length=32), nullable=False),
    sa.Column('source_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event', sa.String(length=24), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('reversal_of_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['reversal_of_id'], ['journal_entry.id'], name=op.f('fk_journal_entry_reversal_of_id_journal_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_entry')),
    sa.UniqueConstraint('number', name=op.f('uq_journal_entry_number')),
    sa.UniqueConstraint('source_type', 'source_id', 'event', name=op.f('uq_journal_entry_source_type_source_id_event'))
    )
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journal_entry_entry_date'), ['entry_date'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('topic', sa.String(length=80), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_topic'), ['topic'], unique=False)

    op.create_table('supplier',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('bank_account', sa.String(length=400), nullable=True),
    sa.Column('credit_limit', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('payment_terms_days', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('credit_limit >= 0', name=op.f('ck_supplier_credit_limit_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier')),
    sa.UniqueConstraint('code', name=op.f('uq_supplier_code'))
    )
    op.create_table('tax_code',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('rate', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.CheckConstraint('rate >= 0 AND rate < 1', name=op.f('ck_tax_code_rate_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tax_code')),
    sa.UniqueConstraint('code', name=op.f('uq_tax_code_code'))
    )
    op.create_table('warehouse',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warehouse')),
    sa.UniqueConstraint('code', name=op.f('uq_warehouse_code'))
    )
    op.create_table('idempotency_key',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('token_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response_body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['token_id'], ['api_token.id'], name=op.f('fk_idempotency_key_token_id_api_token')),
    sa.PrimaryKeyConstraint('key', 'token_id', name=op.f('pk_idempotency_key'))
    )
    op.create_table('item',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('sku', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=12), nullable=False),
    sa.Column('standard_cost', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('list_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_code_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('safety_stock', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('reorder_qty', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('default_supplier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('procurement', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("procurement IN ('purchased','manufactured')", name=op.f('ck_item_procurement_known')),
    sa.CheckConstraint('safety_stock >= 0 AND reorder_qty >= 0', name=op.f('ck_item_planning_positive')),
    sa.CheckConstraint('standard_cost >= 0 AND list_price >= 0', name=op.f('ck_item_prices_positive')),
    sa.ForeignKeyConstraint(['default_supplier_id'], ['supplier.id'], name=op.f('fk_item_default_supplier_id_supplier')),
    sa.ForeignKeyConstraint(['tax_code_id'], ['tax_code.id'], name=op.f('fk_item_tax_code_id_tax_code')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item')),
    sa.UniqueConstraint('sku', name=op.f('uq_item_sku'))
    )
    op.create_table('journal_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('journal_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('debit', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('credit', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('supplier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.CheckConstraint('(debit = 0) <> (credit = 0)', name=op.f('ck_journal_line_one_side')),
    sa.CheckConstraint('debit >= 0 AND credit >= 0', name=op.f('ck_journal_line_amounts_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_journal_line_account_id_account')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_journal_line_customer_id_customer')),
    sa.ForeignKeyConstraint(['journal_entry_id'], ['journal_entry.id'], name=op.f('fk_journal_line_journal_entry_id_journal_entry')),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_journal_line_supplier_id_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_line'))
    )
    with op.batch_alter_table('journal_line', schema=None) as batch_op:
        batch_op.create_index('ix_journal_line_account', ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_journal_line_journal_entry_id'), ['journal_entry_id'], unique=False)

    op.create_table('purchase_order',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('supplier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('net_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_purchase_order_supplier_id_supplier')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_purchase_order_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_order')),
    sa.UniqueConstraint('number', name=op.f('uq_purchase_order_number'))
    )
    with op.batch_alter_table('purchase_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_order_order_date'), ['order_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_order_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_order_supplier_id'), ['supplier_id'], unique=False)

    op.create_table('sales_order',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('backorder_allowed', sa.Boolean(), nullable=False),
    sa.Column('net_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_sales_order_customer_id_customer')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_sales_order_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_order')),
    sa.UniqueConstraint('number', name=op.f('uq_sales_order_number'))
    )
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_order_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_order_date'), ['order_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_status'), ['status'], unique=False)

    op.create_table('customer_invoice',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sales_order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('invoice_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('net_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('total_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('amount_paid', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('amount_paid >= 0 AND amount_paid <= total_amount', name=op.f('ck_customer_invoice_paid_within_total')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_customer_invoice_customer_id_customer')),
    sa.ForeignKeyConstraint(['sales_order_id'], ['sales_order.id'], name=op.f('fk_customer_invoice_sales_order_id_sales_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_invoice')),
    sa.UniqueConstraint('number', name=op.f('uq_customer_invoice_number'))
    )
    with op.batch_alter_table('customer_invoice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_invoice_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_invoice_invoice_date'), ['invoice_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_invoice_sales_order_id'), ['sales_order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_invoice_status'), ['status'], unique=False)

    op.create_table('goods_receipt',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('purchase_order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('receipt_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('value_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_order.id'], name=op.f('fk_goods_receipt_purchase_order_id_purchase_order')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_goods_receipt_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goods_receipt')),
    sa.UniqueConstraint('number', name=op.f('uq_goods_receipt_number'))
    )
    with op.batch_alter_table('goods_receipt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goods_receipt_purchase_order_id'), ['purchase_order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_goods_receipt_receipt_date'), ['receipt_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_goods_receipt_status'), ['status'], unique=False)

    op.create_table('sales_order_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('sales_order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_rate', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('net_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('qty_shipped', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('qty_invoiced', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.CheckConstraint('qty_invoiced >= 0 AND qty_invoiced <= qty_shipped', name=op.f('ck_sales_order_line_invoiced_within_shipped')),
    sa.CheckConstraint('qty_shipped >= 0 AND qty_shipped <= quantity', name=op.f('ck_sales_order_line_shipped_within_ordered')),
    sa.CheckConstraint('quantity > 0 AND unit_price >= 0', name=op.f('ck_sales_order_line_positive')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_sales_order_line_item_id_item')),
    sa.ForeignKeyConstraint(['sales_order_id'], ['sales_order.id'], name=op.f('fk_sales_order_line_sales_order_id_sales_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_order_line')),
    sa.UniqueConstraint('sales_order_id', 'line_no', name=op.f('uq_sales_order_line_sales_order_id_line_no'))
    )
    with op.batch_alter_table('sales_order_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_order_line_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_line_sales_order_id'), ['sales_order_id'], unique=False)

    op.create_table('shipment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('sales_order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ship_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('cost_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['sales_order_id'], ['sales_order.id'], name=op.f('fk_shipment_sales_order_id_sales_order')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_shipment_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment')),
    sa.UniqueConstraint('number', name=op.f('uq_shipment_number'))
    )
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_sales_order_id'), ['sales_order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipment_ship_date'), ['ship_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipment_status'), ['status'], unique=False)

    op.create_table('stock_balance',
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('on_hand', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('reserved', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('value_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.CheckConstraint('on_hand >= 0', name=op.f('ck_stock_balance_no_negative_stock')),
    sa.CheckConstraint('reserved >= 0 AND reserved <= on_hand', name=op.f('ck_stock_balance_reserved_within_on_hand')),
    sa.CheckConstraint('value_amount >= 0', name=op.f('ck_stock_balance_value_positive')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_stock_balance_item_id_item')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_stock_balance_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('item_id', 'warehouse_id', name=op.f('pk_stock_balance'))
    )
    op.create_table('stock_move',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('move_date', sa.Date(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('value_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('source_type', sa.String(length=32), nullable=False),
    sa.Column('source_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event', sa.String(length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('quantity <> 0', name=op.f('ck_stock_move_quantity_nonzero')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_stock_move_item_id_item')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_stock_move_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_move')),
    sa.UniqueConstraint('source_type', 'source_line_id', 'event', name=op.f('uq_stock_move_source_type_source_line_id_event'))
    )
    with op.batch_alter_table('stock_move', schema=None) as batch_op:
        batch_op.create_index('ix_stock_move_item_wh', ['item_id', 'warehouse_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_move_move_date'), ['move_date'], unique=False)

    op.create_table('supplier_invoice',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('supplier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('supplier_ref', sa.String(length=60), nullable=False),
    sa.Column('purchase_order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('invoice_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('hold_reason', sa.Text(), nullable=True),
    sa.Column('net_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('total_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('amount_paid', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('matched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('amount_paid >= 0 AND amount_paid <= total_amount', name=op.f('ck_supplier_invoice_paid_within_total')),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_order.id'], name=op.f('fk_supplier_invoice_purchase_order_id_purchase_order')),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_supplier_invoice_supplier_id_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_invoice')),
    sa.UniqueConstraint('number', name=op.f('uq_supplier_invoice_number')),
    sa.UniqueConstraint('supplier_id', 'supplier_ref', name=op.f('uq_supplier_invoice_supplier_id_supplier_ref'))
    )
    with op.batch_alter_table('supplier_invoice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supplier_invoice_invoice_date'), ['invoice_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_supplier_invoice_purchase_order_id'), ['purchase_order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supplier_invoice_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_supplier_invoice_supplier_id'), ['supplier_id'], unique=False)

    op.create_table('customer_receipt',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_invoice_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('receipt_date', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_customer_receipt_amount_positive')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_customer_receipt_customer_id_customer')),
    sa.ForeignKeyConstraint(['customer_invoice_id'], ['customer_invoice.id'], name=op.f('fk_customer_receipt_customer_invoice_id_customer_invoice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_receipt')),
    sa.UniqueConstraint('number', name=op.f('uq_customer_receipt_number'))
    )
    with op.batch_alter_table('customer_receipt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_receipt_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_receipt_customer_invoice_id'), ['customer_invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_receipt_receipt_date'), ['receipt_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_receipt_status'), ['status'], unique=False)

    op.create_table('purchase_requisition',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('needed_by', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=24), nullable=False),
    sa.Column('sales_order_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('purchase_order_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_purchase_requisition_quantity_positive')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_purchase_requisition_item_id_item')),
    sa.ForeignKeyConstraint(['sales_order_line_id'], ['sales_order_line.id'], name=op.f('fk_purchase_requisition_sales_order_line_id_sales_order_line')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_purchase_requisition_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_requisition')),
    sa.UniqueConstraint('number', name=op.f('uq_purchase_requisition_number'))
    )
    with op.batch_alter_table('purchase_requisition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_requisition_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_requisition_status'), ['status'], unique=False)

    op.create_table('stock_reservation',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('sales_order_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_stock_reservation_quantity_positive')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_stock_reservation_item_id_item')),
    sa.ForeignKeyConstraint(['sales_order_line_id'], ['sales_order_line.id'], name=op.f('fk_stock_reservation_sales_order_line_id_sales_order_line')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_stock_reservation_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_reservation')),
    sa.UniqueConstraint('sales_order_line_id', name=op.f('uq_stock_reservation_sales_order_line_id'))
    )
    with op.batch_alter_table('stock_reservation', schema=None) as batch_op:
        batch_op.create_index('ix_stock_reservation_item_wh', ['item_id', 'warehouse_id'], unique=False)

    op.create_table('supplier_payment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('supplier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('supplier_invoice_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('payment_date', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_supplier_payment_amount_positive')),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_supplier_payment_supplier_id_supplier')),
    sa.ForeignKeyConstraint(['supplier_invoice_id'], ['supplier_invoice.id'], name=op.f('fk_supplier_payment_supplier_invoice_id_supplier_invoice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_payment')),
    sa.UniqueConstraint('number', name=op.f('uq_supplier_payment_number'))
    )
    with op.batch_alter_table('supplier_payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supplier_payment_payment_date'), ['payment_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_supplier_payment_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_supplier_payment_supplier_id'), ['supplier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supplier_payment_supplier_invoice_id'), ['supplier_invoice_id'], unique=False)

    op.create_table('purchase_order_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('purchase_order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('requisition_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_rate', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('net_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('qty_received', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('qty_invoiced', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.CheckConstraint('qty_invoiced >= 0', name=op.f('ck_purchase_order_line_invoiced_positive')),
    sa.CheckConstraint('qty_received >= 0', name=op.f('ck_purchase_order_line_received_positive')),
    sa.CheckConstraint('quantity > 0 AND unit_price >= 0', name=op.f('ck_purchase_order_line_positive')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_purchase_order_line_item_id_item')),
    sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_order.id'], name=op.f('fk_purchase_order_line_purchase_order_id_purchase_order')),
    sa.ForeignKeyConstraint(['requisition_id'], ['purchase_requisition.id'], name=op.f('fk_purchase_order_line_requisition_id_purchase_requisition')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_order_line')),
    sa.UniqueConstraint('purchase_order_id', 'line_no', name=op.f('uq_purchase_order_line_purchase_order_id_line_no'))
    )
    with op.batch_alter_table('purchase_order_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_order_line_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_order_line_purchase_order_id'), ['purchase_order_id'], unique=False)

    op.create_table('shipment_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shipment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sales_order_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reservation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('cost_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('qty_invoiced', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_shipment_line_quantity_positive')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_shipment_line_item_id_item')),
    sa.ForeignKeyConstraint(['reservation_id'], ['stock_reservation.id'], name=op.f('fk_shipment_line_reservation_id_stock_reservation')),
    sa.ForeignKeyConstraint(['sales_order_line_id'], ['sales_order_line.id'], name=op.f('fk_shipment_line_sales_order_line_id_sales_order_line')),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_shipment_line_shipment_id_shipment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment_line'))
    )
    with op.batch_alter_table('shipment_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_line_sales_order_line_id'), ['sales_order_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipment_line_shipment_id'), ['shipment_id'], unique=False)

    op.create_table('customer_invoice_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('customer_invoice_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shipment_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sales_order_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_rate', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('net_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_customer_invoice_line_quantity_positive')),
    sa.ForeignKeyConstraint(['customer_invoice_id'], ['customer_invoice.id'], name=op.f('fk_customer_invoice_line_customer_invoice_id_customer_invoice')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_customer_invoice_line_item_id_item')),
    sa.ForeignKeyConstraint(['sales_order_line_id'], ['sales_order_line.id'], name=op.f('fk_customer_invoice_line_sales_order_line_id_sales_order_line')),
    sa.ForeignKeyConstraint(['shipment_line_id'], ['shipment_line.id'], name=op.f('fk_customer_invoice_line_shipment_line_id_shipment_line')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_invoice_line'))
    )
    with op.batch_alter_table('customer_invoice_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_invoice_line_customer_invoice_id'), ['customer_invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_invoice_line_shipment_line_id'), ['shipment_line_id'], unique=False)

    op.create_table('goods_receipt_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('goods_receipt_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('purchase_order_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('value_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_goods_receipt_line_quantity_positive')),
    sa.ForeignKeyConstraint(['goods_receipt_id'], ['goods_receipt.id'], name=op.f('fk_goods_receipt_line_goods_receipt_id_goods_receipt')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_goods_receipt_line_item_id_item')),
    sa.ForeignKeyConstraint(['purchase_order_line_id'], ['purchase_order_line.id'], name=op.f('fk_goods_receipt_line_purchase_order_line_id_purchase_order_line')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goods_receipt_line'))
    )
    with op.batch_alter_table('goods_receipt_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goods_receipt_line_goods_receipt_id'), ['goods_receipt_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_goods_receipt_line_purchase_order_line_id'), ['purchase_order_line_id'], unique=False)

    op.create_table('supplier_invoice_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('supplier_invoice_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('purchase_order_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_rate', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('net_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('tax_amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.CheckConstraint('quantity > 0 AND unit_price >= 0', name=op.f('ck_supplier_invoice_line_positive')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_supplier_invoice_line_item_id_item')),
    sa.ForeignKeyConstraint(['purchase_order_line_id'], ['purchase_order_line.id'], name=op.f('fk_supplier_invoice_line_purchase_order_line_id_purchase_order_line')),
    sa.ForeignKeyConstraint(['supplier_invoice_id'], ['supplier_invoice.id'], name=op.f('fk_supplier_invoice_line_supplier_invoice_id_supplier_invoice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_invoice_line'))
    )
    with op.batch_alter_table('supplier_invoice_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supplier_invoice_line_purchase_order_line_id'), ['purchase_order_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supplier_invoice_line_supplier_invoice_id'), ['supplier_invoice_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('supplier_invoice_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supplier_invoice_line_supplier_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_supplier_invoice_line_purchase_order_line_id'))

    op.drop_table('supplier_invoice_line')
    with op.batch_alter_table('goods_receipt_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goods_receipt_line_purchase_order_line_id'))
        batch_op.drop_index(batch_op.f('ix_goods_receipt_line_goods_receipt_id'))

    op.drop_table('goods_receipt_line')
    with op.batch_alter_table('customer_invoice_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_invoice_line_shipment_line_id'))
        batch_op.drop_index(batch_op.f('ix_customer_invoice_line_customer_invoice_id'))

    op.drop_table('customer_invoice_line')
    with op.batch_alter_table('shipment_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipment_line_shipment_id'))
        batch_op.drop_index(batch_op.f('ix_shipment_line_sales_order_line_id'))

    op.drop_table('shipment_line')
    with op.batch_alter_table('purchase_order_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_order_line_purchase_order_id'))
        batch_op.drop_index(batch_op.f('ix_purchase_order_line_item_id'))

    op.drop_table('purchase_order_line')
    with op.batch_alter_table('supplier_payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supplier_payment_supplier_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_supplier_payment_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_supplier_payment_status'))
        batch_op.drop_index(batch_op.f('ix_supplier_payment_payment_date'))

    op.drop_table('supplier_payment')
    with op.batch_alter_table('stock_reservation', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_reservation_item_wh')

    op.drop_table('stock_reservation')
    with op.batch_alter_table('purchase_requisition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_requisition_status'))
        batch_op.drop_index(batch_op.f('ix_purchase_requisition_item_id'))

    op.drop_table('purchase_requisition')
    with op.batch_alter_table('customer_receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_receipt_status'))
        batch_op.drop_index(batch_op.f('ix_customer_receipt_receipt_date'))
        batch_op.drop_index(batch_op.f('ix_customer_receipt_customer_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_customer_receipt_customer_id'))

    op.drop_table('customer_receipt')
    with op.batch_alter_table('supplier_invoice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supplier_invoice_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_supplier_invoice_status'))
        batch_op.drop_index(batch_op.f('ix_supplier_invoice_purchase_order_id'))
        batch_op.drop_index(batch_op.f('ix_supplier_invoice_invoice_date'))

    op.drop_table('supplier_invoice')
    with op.batch_alter_table('stock_move', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_move_move_date'))
        batch_op.drop_index('ix_stock_move_item_wh')

    op.drop_table('stock_move')
    op.drop_table('stock_balance')
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipment_status'))
        batch_op.drop_index(batch_op.f('ix_shipment_ship_date'))
        batch_op.drop_index(batch_op.f('ix_shipment_sales_order_id'))

    op.drop_table('shipment')
    with op.batch_alter_table('sales_order_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_order_line_sales_order_id'))
        batch_op.drop_index(batch_op.f('ix_sales_order_line_item_id'))

    op.drop_table('sales_order_line')
    with op.batch_alter_table('goods_receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goods_receipt_status'))
        batch_op.drop_index(batch_op.f('ix_goods_receipt_receipt_date'))
        batch_op.drop_index(batch_op.f('ix_goods_receipt_purchase_order_id'))

    op.drop_table('goods_receipt')
    with op.batch_alter_table('customer_invoice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_invoice_status'))
        batch_op.drop_index(batch_op.f('ix_customer_invoice_sales_order_id'))
        batch_op.drop_index(batch_op.f('ix_customer_invoice_invoice_date'))
        batch_op.drop_index(batch_op.f('ix_customer_invoice_customer_id'))

    op.drop_table('customer_invoice')
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_order_status'))
        batch_op.drop_index(batch_op.f('ix_sales_order_order_date'))
        batch_op.drop_index(batch_op.f('ix_sales_order_customer_id'))

    op.drop_table('sales_order')
    with op.batch_alter_table('purchase_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_order_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_purchase_order_status'))
        batch_op.drop_index(batch_op.f('ix_purchase_order_order_date'))

    op.drop_table('purchase_order')
    with op.batch_alter_table('journal_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_journal_line_journal_entry_id'))
        batch_op.drop_index('ix_journal_line_account')

    op.drop_table('journal_line')
    op.drop_table('item')
    op.drop_table('idempotency_key')
    op.drop_table('warehouse')
    op.drop_table('tax_code')
    op.drop_table('supplier')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_topic'))

    op.drop_table('outbox')
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_journal_entry_entry_date'))

    op.drop_table('journal_entry')
    op.drop_table('document_sequence')
    op.drop_table('customer')
    op.drop_table('audit_event')
    op.drop_table('api_token')
    op.drop_table('account')

