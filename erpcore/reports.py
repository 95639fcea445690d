"""Kept for callers of the first two reports: they live in `erpcore.reporting` now."""

from __future__ import annotations

from erpcore.reporting.ledger import TrialBalance, TrialBalanceRow, TrialBalanceTotals, trial_balance
from erpcore.reporting.stock import StockValuation, StockValuationRow, stock_valuation

__all__ = ["StockValuation", "StockValuationRow", "TrialBalance", "TrialBalanceRow", "TrialBalanceTotals",
           "stock_valuation", "trial_balance"]
