"""The default chart of accounts and the roles postings refer to (never hard-coded account codes)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"


class Role(StrEnum):
    """What an account is for; postings name roles, the chart maps them to accounts."""

    BANK = "bank"
    AR = "accounts_receivable"
    INVENTORY = "inventory"
    INPUT_VAT = "input_vat"
    AP = "accounts_payable"
    GRNI = "goods_received_not_invoiced"
    OUTPUT_VAT = "output_vat"
    EQUITY = "equity"
    RETAINED_EARNINGS = "retained_earnings"
    REVENUE = "revenue"
    COGS = "cost_of_goods_sold"
    PRICE_VARIANCE = "price_variance"
    WIP = "work_in_progress"
    PRODUCTION_VARIANCE = "production_variance"
    SALARY_EXPENSE = "salary_expense"
    CONTRIBUTION_EXPENSE = "payroll_contribution_expense"
    PAYROLL_PAYABLE = "payroll_payable"
    PAYROLL_TAX_PAYABLE = "payroll_tax_payable"
    CONTRIBUTIONS_PAYABLE = "social_contributions_payable"


@dataclass(frozen=True)
class AccountSpec:
    code: str
    name: str
    type: AccountType
    role: Role | None


DEFAULT_CHART: tuple[AccountSpec, ...] = (
    AccountSpec("1000", "Bank", AccountType.ASSET, Role.BANK),
    AccountSpec("1100", "Accounts receivable", AccountType.ASSET, Role.AR),
    AccountSpec("1200", "Inventory", AccountType.ASSET, Role.INVENTORY),
    AccountSpec("1300", "Input VAT", AccountType.ASSET, Role.INPUT_VAT),
    AccountSpec("2000", "Accounts payable", AccountType.LIABILITY, Role.AP),
    AccountSpec("2100", "Goods received not invoiced", AccountType.LIABILITY, Role.GRNI),
    AccountSpec("2200", "Output VAT", AccountType.LIABILITY, Role.OUTPUT_VAT),
    AccountSpec("3000", "Share capital", AccountType.EQUITY, Role.EQUITY),
    AccountSpec("3100", "Retained earnings", AccountType.EQUITY, Role.RETAINED_EARNINGS),
    AccountSpec("4000", "Sales revenue", AccountType.INCOME, Role.REVENUE),
    AccountSpec("5000", "Cost of goods sold", AccountType.EXPENSE, Role.COGS),
    AccountSpec("5100", "Purchase price variance", AccountType.EXPENSE, Role.PRICE_VARIANCE),
    AccountSpec("6000", "Operating expenses", AccountType.EXPENSE, None),
)

# Installed by migration 0010_production, after the default chart (migration 0003 installs DEFAULT_CHART).
PRODUCTION_ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("1250", "Work in progress", AccountType.ASSET, Role.WIP),
    AccountSpec("5150", "Production variance", AccountType.EXPENSE, Role.PRODUCTION_VARIANCE),
)

# Installed by the payroll migration (0011_payroll), not by 0003: databases migrated before payroll gain them then.
PAYROLL_CHART: tuple[AccountSpec, ...] = (
    AccountSpec("2400", "Payroll payable", AccountType.LIABILITY, Role.PAYROLL_PAYABLE),
    AccountSpec("2410", "Payroll taxes withheld", AccountType.LIABILITY, Role.PAYROLL_TAX_PAYABLE),
    AccountSpec("2420", "Social contributions payable", AccountType.LIABILITY, Role.CONTRIBUTIONS_PAYABLE),
    AccountSpec("6400", "Salaries and wages", AccountType.EXPENSE, Role.SALARY_EXPENSE),
    AccountSpec("6410", "Employer social contributions", AccountType.EXPENSE, Role.CONTRIBUTION_EXPENSE),
)

DEFAULT_TAX_CODES: tuple[tuple[str, str, str], ...] = (
    ("STD", "Standard rate", "0.20"),
    ("RED", "Reduced rate", "0.05"),
    ("ZERO", "Zero rate", "0"),
)
