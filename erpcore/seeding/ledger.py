"""Seeded journal entries and stock moves, numbered and shaped as services.steps.journal and .stock write them."""

from __future__ import annotations

from decimal import Decimal

from erpcore.domain.postings import PostingLine, is_balanced
from erpcore.seeding.context import Context
from erpcore.seeding.rows import money


def amount(cents: int) -> Decimal:
    """Integer cents as the exact Decimal the domain's posting rules take."""
    return Decimal(cents).scaleb(-2)


def post(ctx: Context, source_type: str, source_id: int, description: str, lines: list[PostingLine],
         created: str, event: str = "post", reversal_of_id: int | None = None) -> int:
    """Write a posted journal entry dated today with the next gap-free number of the year; returns its id."""
    entry_id = ctx.ids["journal_entry"]()
    write_entry(ctx, entry_id, ctx.number("journal_entry", ctx.year), ctx.today, source_type, source_id,
                description, lines, created, event, reversal_of_id)
    return entry_id


def write_entry(ctx: Context, entry_id: int, number: str, entry_date: str, source_type: str, source_id: int,
                description: str, lines: list[PostingLine], created: str, event: str = "post",
                reversal_of_id: int | None = None) -> None:
    """Write one journal entry with its lines (accounts resolved from the lines' roles)."""
    if not is_balanced(lines):
        raise ValueError(f"unbalanced seeded posting for {source_type} {source_id}: {lines}")
    ctx.sink.rows["journal_entry"].append(
        (entry_id, number, entry_date, source_type, source_id, event, description[:200], reversal_of_id, created))
    accounts = ctx.ref.accounts
    new_line = ctx.ids["journal_line"]
    append = ctx.sink.rows["journal_line"].append
    for line in lines:
        append((new_line(), entry_id, accounts[line.role], str(line.debit), str(line.credit), line.customer_id,
                line.supplier_id))


def move(ctx: Context, item_id: int, quantity: int, value: int, source_type: str, source_id: int,
         source_line_id: int, created: str, event: str = "post") -> None:
    """Append one stock move (signed quantity and value) dated today."""
    ctx.sink.rows["stock_move"].append(
        (ctx.ids["stock_move"](), item_id, ctx.ref.warehouse_id, ctx.today, quantity, money(value), source_type,
         source_id, source_line_id, event, created))
