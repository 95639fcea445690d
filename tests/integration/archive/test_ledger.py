"""Carry-forward entries: balanced, per party, replaced not stacked, and stock moves that keep balances whole."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from archive import ledger
from archive.families import CARRY_FORWARD_SOURCE, get
from archive.purge import purge_session
from erpcore.models import metadata
from tests.integration.archive.conftest import Pair

TABLES = dict(metadata.tables)


def _line(i: int, account: int, debit: str, credit: str, customer: int | None = None) -> dict[str, object]:
    return {"id": i, "journal_entry_id": 1, "account_id": account, "debit": Decimal(debit),
            "credit": Decimal(credit), "customer_id": customer, "supplier_id": None}


def _accounts(pair: Pair) -> dict[str, int]:
    with pair.source.connect() as conn:
        return {r.role: r.id for r in conn.execute(text("SELECT id, role FROM account WHERE role IS NOT NULL"))}


def _customer(pair: Pair) -> int:
    with pair.source.connect() as conn:
        return int(conn.execute(text("SELECT MIN(id) FROM customer")).scalar_one())


def test_journal_carry_forward_is_balanced_per_account_and_party(pair: Pair) -> None:
    acc, customer = _accounts(pair), _customer(pair)
    rows = {"journal_entry": [{"entry_date": dt.date(2022, 3, 1)}, {"entry_date": dt.date(2022, 5, 9)}],
            "journal_line": [_line(1, acc["accounts_receivable"], "119.00", "0", customer),
                             _line(2, acc["revenue"], "0", "100.00"), _line(3, acc["output_vat"], "0", "19.00"),
                             _line(4, acc["bank"], "119.00", "0"),
                             _line(5, acc["accounts_receivable"], "0", "119.00", customer)]}
    with pair.source.begin() as conn:
        purge_session(conn, 1000)
        why = ledger.replace(conn, TABLES, get("journal_entries"), 77, rows)
        entry = conn.execute(text("SELECT id, number, entry_date FROM journal_entry WHERE source_type = :s "
                                  "AND source_id = 77"), {"s": CARRY_FORWARD_SOURCE}).one()
        lines = conn.execute(text("SELECT account_id, debit, credit, customer_id FROM journal_line "
                                  "WHERE journal_entry_id = :e ORDER BY account_id"), {"e": entry.id}).all()
    assert why == "3 balance(s) carried forward in journal entry ARCF-0000000077"
    assert entry.number == "ARCF-0000000077" and str(entry.entry_date)[:10] == "2022-05-09"
    by_account = {r.account_id: (Decimal(str(r.debit)), Decimal(str(r.credit))) for r in lines}
    assert acc["accounts_receivable"] not in by_account  # the customer's invoice and receipt net to zero
    assert by_account[acc["bank"]] == (Decimal(119), Decimal(0))
    assert by_account[acc["revenue"]] == (Decimal(0), Decimal(100))
    assert sum(d - c for d, c in by_account.values()) == 0


def test_replacing_a_carry_forward_does_not_stack_and_empty_removes_it(pair: Pair) -> None:
    acc = _accounts(pair)
    rows = {"journal_entry": [{"entry_date": dt.date(2022, 1, 1)}],
            "journal_line": [_line(1, acc["bank"], "10", "0"), _line(2, acc["equity"], "0", "10")]}
    with pair.source.begin() as conn:
        purge_session(conn, 1000)
        ledger.replace(conn, TABLES, get("journal_entries"), 5, rows)
        ledger.replace(conn, TABLES, get("journal_entries"), 5, rows)
        assert conn.execute(text("SELECT COUNT(*) FROM journal_entry WHERE source_type = :s"),
                            {"s": CARRY_FORWARD_SOURCE}).scalar_one() == 1
        assert ledger.replace(conn, TABLES, get("journal_entries"), 5, {}) == "no balance to carry forward"
        assert conn.execute(text("SELECT COUNT(*) FROM journal_entry WHERE source_type = :s"),
                            {"s": CARRY_FORWARD_SOURCE}).scalar_one() == 0


def test_stock_carry_forward_keeps_quantity_and_value_per_item_and_warehouse(pair: Pair) -> None:
    with pair.source.connect() as conn:
        item, warehouse = conn.execute(text("SELECT item_id, warehouse_id FROM stock_balance LIMIT 1")).one()
    moves = [{"id": 1_000_001, "item_id": item, "warehouse_id": warehouse, "quantity": Decimal(5),
              "value_amount": Decimal(30), "move_date": dt.date(2022, 2, 1)},
             {"id": 1_000_002, "item_id": item, "warehouse_id": warehouse, "quantity": Decimal(-5),
              "value_amount": Decimal("-29.50"), "move_date": dt.date(2022, 3, 1)}]
    with pair.source.begin() as conn:
        purge_session(conn, 1000)
        why = ledger.replace(conn, TABLES, get("stock_moves"), 9, {"stock_move": moves})
        carried = conn.execute(text("SELECT quantity, value_amount, event, source_line_id FROM stock_move "
                                    "WHERE source_type = :s ORDER BY event"), {"s": CARRY_FORWARD_SOURCE}).all()
    assert why == "2 stock balance move(s) carried forward"
    assert [Decimal(str(r.quantity)) for r in carried] == [Decimal(1), Decimal(-1)]  # zero quantity, value 0.50
    assert sum(Decimal(str(r.value_amount)) for r in carried) == Decimal("0.50")
    assert {r.event for r in carried} == {"carry_forward", "carry_forward_adj"}
    assert {r.source_line_id for r in carried} == {1_000_002}


def test_families_without_a_ledger_carry_nothing(pair: Pair) -> None:
    with pair.source.begin() as conn:
        purge_session(conn, 1000)
        assert ledger.replace(conn, TABLES, get("sales_orders"), 1, {}) == ""


@pytest.mark.pg
def test_only_the_purge_session_may_delete_postings(pair: Pair) -> None:
    with pair.source.connect() as conn:
        line = conn.execute(text("SELECT MIN(id) FROM journal_line")).scalar_one()
    with pytest.raises(IntegrityError, match="append-only"), pair.source.begin() as conn:
        conn.execute(text("DELETE FROM journal_line WHERE id = :i"), {"i": line})
    with pair.source.connect() as conn, conn.begin() as tx:
        purge_session(conn, 1000)
        assert conn.execute(text("DELETE FROM journal_line WHERE id = :i"), {"i": line}).rowcount == 1
        assert conn.execute(text("SHOW lock_timeout")).scalar_one() == "1s"
        # its writes go to the kernel's write-back as it goes, not in a burst at the next checkpoint
        assert conn.execute(text("SHOW backend_flush_after")).scalar_one() == "256kB"
        tx.rollback()
    with pair.source.connect() as conn:  # for the purge transaction only
        assert conn.execute(text("SHOW backend_flush_after")).scalar_one() == "0"
