"""Document numbers (format, blocks of non-legal numbers, the one-statement numbered insert) and the trial balance's
rows, totals and sheet, without a database."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal as D
from typing import cast

import pytest
from sqlalchemy import Engine

from erpcore.reporting.ledger import TrialBalance, TrialBalanceTotals, _tb_row, _tb_totals, with_previous
from erpcore.services import numbering
from erpcore.services.numbering import BLOCK, NumberBlocks, format_number, numbered_insert


def test_numbers_are_zero_padded_to_seven_digits_and_grow_past_them() -> None:
    assert format_number("customer_invoice", 2026, 42) == "INV-2026-0000042"
    assert format_number("supplier_invoice", 2026, 12_345_678) == "SINV-2026-12345678"
    with pytest.raises(KeyError):
        format_number("invoice", 2026, 1)


def test_every_legal_document_type_has_a_prefix_and_prefixes_are_distinct() -> None:
    assert set(numbering.PREFIX) >= numbering.LEGAL
    assert len(set(numbering.PREFIX.values())) == len(numbering.PREFIX)


class Refills:
    """A sequence per (type, year) as the database keeps it: each refill reserves `BLOCK` numbers."""

    def __init__(self) -> None:
        self.next: dict[tuple[str, int], int] = {}
        self.calls: list[tuple[str, int]] = []

    def __call__(self, doc_type: str, year: int) -> int:
        self.calls.append((doc_type, year))
        first = self.next.get((doc_type, year), 1)
        self.next[(doc_type, year)] = first + BLOCK
        return first


def blocks() -> tuple[NumberBlocks, Refills]:
    pool = NumberBlocks(cast(Engine, None))
    refills = Refills()
    pool._refill = refills  # type: ignore[method-assign]
    return pool, refills


def test_a_block_serves_consecutive_numbers_and_is_refilled_only_when_used_up() -> None:
    pool, refills = blocks()
    taken = [pool.take("sales_order", 2026) for _ in range(BLOCK + 1)]
    assert taken == list(range(1, BLOCK + 2))
    assert refills.calls == [("sales_order", 2026)] * 2


def test_blocks_are_kept_per_type_and_year() -> None:
    pool, refills = blocks()
    assert [pool.take("sales_order", 2026), pool.take("sales_order", 2027), pool.take("shipment", 2026),
            pool.take("sales_order", 2026)] == [1, 1, 1, 2]
    assert len(refills.calls) == 3


def test_threads_taking_numbers_never_get_the_same_one() -> None:
    pool, _ = blocks()
    got: list[int] = []

    def work() -> None:
        for _ in range(40):
            got.append(pool.take("purchase_order", 2026))

    threads = [threading.Thread(target=work) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(1, 201))


def test_the_numbered_insert_builds_the_number_as_format_number_does() -> None:
    sql = str(numbered_insert("customer_invoice", "customer_invoice", ["customer_id", "total"]))
    assert "WHERE doc_type = 'customer_invoice' AND year = :year" in sql
    assert "INSERT INTO customer_invoice (number, customer_id, total)" in sql
    assert "'INV-' || CAST(:year AS text) || '-' || lpad(CAST(n AS text), greatest(7, length(" in sql
    assert sql.rstrip().endswith(":v_customer_id, :v_total FROM seq RETURNING *")


def test_a_trial_balance_row_closes_at_opening_plus_debit_less_credit_in_cents() -> None:
    row = _tb_row(1, "1000", "Bank", "asset", "100.005", 20, "0.004")
    assert (row.opening, row.debit, row.credit, row.closing) == (D("100.01"), D("20.00"), D("0.00"), D("120.01"))


def test_totals_balance_only_when_openings_and_closings_net_to_zero_and_debits_match_credits() -> None:
    rows = [_tb_row(1, "1000", "Bank", "asset", "50", "30", "0"),
            _tb_row(2, "4000", "Sales", "income", "-50", "0", "30")]
    totals = _tb_totals(rows)
    assert totals == TrialBalanceTotals(D("0.00"), D("30.00"), D("30.00"), D("0.00")) and totals.balanced
    assert not _tb_totals(rows[:1]).balanced
    assert not TrialBalanceTotals(D("0"), D("1"), D("2"), D("0")).balanced
    assert _tb_totals([]) == TrialBalanceTotals(D("0.00"), D("0.00"), D("0.00"), D("0.00"))


def test_the_trial_balance_sheet_totals_every_money_column_and_the_previous_ones_when_compared() -> None:
    now_rows = [_tb_row(1, "1000", "Bank", "asset", "0", "10", "0")]
    before_rows = [_tb_row(1, "1000", "Bank", "asset", "0", "4", "1")]
    now = TrialBalance(dt.date(2026, 2, 1), dt.date(2026, 2, 28), now_rows, _tb_totals(now_rows))
    before = TrialBalance(dt.date(2026, 1, 1), dt.date(2026, 1, 31), before_rows, _tb_totals(before_rows))
    plain = now.sheet()
    assert plain.title == "Trial balance 2026-02-01 to 2026-02-28"
    assert plain.total == ("total", None, None, D("0.00"), D("10.00"), D("0.00"), D("10.00"))
    compared = with_previous(now, before).sheet()
    assert compared.title.endswith("(previous: 2026-01-01 to 2026-01-31)")
    assert compared.rows == [("1000", "Bank", "asset", D("0.00"), D("10.00"), D("0.00"), D("10.00"),
                              D("4.00"), D("1.00"), D("3.00"))]
    assert compared.total is not None and compared.total[-3:] == (D("4.00"), D("1.00"), D("3.00"))
