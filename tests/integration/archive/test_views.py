"""Reports over five years give the same figures before and after archiving, through the history views."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from archive.runner import run_archive
from archive.views import create_history_views
from erpcore.exceptions import ConfigError
from tests.integration.archive.conftest import TODAY, Pair

TRIAL_BALANCE = ("SELECT l.account_id, SUM(l.debit) - SUM(l.credit) FROM {lines} l JOIN {entries} e "
                 "ON e.id = l.journal_entry_id WHERE e.entry_date <= :d GROUP BY l.account_id ORDER BY 1")
SALES_BY_MONTH = ("SELECT EXTRACT(YEAR FROM o.order_date) AS y, EXTRACT(MONTH FROM o.order_date) AS m, "
                  "SUM(l.net_amount) FROM {orders} o JOIN {lines} l ON l.sales_order_id = o.id "
                  "GROUP BY 1, 2 ORDER BY 1, 2")
STOCK = "SELECT item_id, warehouse_id, SUM(quantity), SUM(value_amount) FROM {moves} GROUP BY 1, 2 ORDER BY 1, 2"


def _figures(pair: Pair, suffix: str) -> dict[str, list[tuple[object, ...]]]:
    with pair.source.connect() as conn:
        return {
            "trial_balance_2023": [tuple(r) for r in conn.execute(text(TRIAL_BALANCE.format(
                lines=f"journal_line{suffix}", entries=f"journal_entry{suffix}")), {"d": "2023-06-30"})],
            "sales_by_month": [tuple(r) for r in conn.execute(text(SALES_BY_MONTH.format(
                orders=f"sales_order{suffix}", lines=f"sales_order_line{suffix}")))],
            "stock": [tuple(r) for r in conn.execute(text(STOCK.format(moves=f"stock_move{suffix}")))],
        }


@pytest.mark.pg
def test_history_views_give_the_figures_of_before(pair: Pair) -> None:
    before = _figures(pair, "")
    ax = pair.archive()
    result = run_archive(ax, today=TODAY)
    assert result.rows > 0 and result.check_ok
    assert _figures(pair, "")["sales_by_month"] != before["sales_by_month"]  # history left production
    views = create_history_views(ax)
    assert "journal_line_history" in views.views and "sales_order_history" in views.views
    assert _figures(pair, "_history") == before


def test_history_views_need_one_postgres_database(sqlite_pair: Pair) -> None:
    with pytest.raises(ConfigError, match="same PostgreSQL database"):
        create_history_views(sqlite_pair.archive())
