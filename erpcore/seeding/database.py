"""What the seeder asks of the database before and after streaming rows: emptiness, reference data,
foreign keys set aside during the load (PostgreSQL) and checked after it, id sequences moved on.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from erpcore.domain.accounts import Role
from erpcore.exceptions import ConfigError, Conflict, IntegrityViolation
from erpcore.seeding.context import Reference
from erpcore.seeding.rows import ID_TABLES, TABLES

MUST_BE_EMPTY = ("customer", "supplier", "item", "sales_order", "purchase_order", "purchase_requisition",
                 "journal_entry", "stock_move", "stock_balance", "document_sequence", "department", "employee",
                 "payroll_run")
TAX_CODES = ("STD", "RED", "ZERO")
RATE_PLACES = Decimal("0.000001")


def refuse_unless_empty(cursor: Any) -> None:
    """Raise Conflict naming the tables that already hold rows: history is seeded into an empty database only."""
    filled = []
    for table in MUST_BE_EMPTY:
        cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")
        if cursor.fetchone() is not None:
            filled.append(table)
    if filled:
        raise Conflict(f"refusing to seed: the database already holds data ({', '.join(filled)}); "
                       "seed only into an empty, freshly migrated database")


def read_reference(cursor: Any) -> Reference:
    """Accounts by role, the STD/RED/ZERO tax codes and the default warehouse, as the migrations left them."""
    cursor.execute("SELECT role, id FROM account WHERE role IS NOT NULL")
    accounts = {Role(role): int(id_) for role, id_ in cursor.fetchall()}
    cursor.execute("SELECT code, id, rate FROM tax_code")
    taxes = {code: (int(id_), str(Decimal(str(rate)).quantize(RATE_PLACES))) for code, id_, rate in cursor.fetchall()}
    cursor.execute("SELECT id FROM warehouse ORDER BY id LIMIT 1")
    warehouse = cursor.fetchone()
    missing = [r.value for r in Role if r not in accounts] + [c for c in TAX_CODES if c not in taxes]
    if missing or warehouse is None:
        raise ConfigError(f"reference data is missing ({', '.join(missing) or 'warehouse'}): "
                          "run `erpops db upgrade` on an empty database first")
    return Reference(accounts, {code: taxes[code] for code in TAX_CODES}, int(warehouse[0]))


def _table_list() -> str:
    return ", ".join(f"'{table}'" for table in TABLES)


def set_foreign_keys_aside(cursor: Any) -> list[str]:
    """Drop the seeded tables' foreign keys (inside the caller's transaction); returns the statements
    that restore them exactly, each validating every row on the way back."""
    cursor.execute(
        "SELECT c.conrelid::regclass::text, quote_ident(c.conname), pg_get_constraintdef(c.oid) "
        "FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid "
        "WHERE c.contype = 'f' AND r.relnamespace = current_schema()::regnamespace "
        f"AND r.relname IN ({_table_list()}) ORDER BY 1, 2")
    restore = []
    for relation, name, definition in cursor.fetchall():
        cursor.execute(f"ALTER TABLE {relation} DROP CONSTRAINT {name}")
        restore.append(f"ALTER TABLE {relation} ADD CONSTRAINT {name} {definition}")
    return restore


def restore(cursor: Any, statements: list[str]) -> None:
    for statement in statements:
        cursor.execute(statement)


def advance_sequences(cursor: Any) -> None:
    """Move each id sequence past the ids the seeder allocated, so services continue after them."""
    for table in ID_TABLES:
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                       f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)")


def analyze(conn: Any) -> None:
    """Fresh planner statistics for the seeded tables, so the first queries on them plan well."""
    conn.execute(f"ANALYZE {', '.join(TABLES)}")
    conn.commit()


def check_sqlite_foreign_keys(cursor: Any) -> None:
    """Raise when a seeded row references a missing one (SQLite checks them after the load)."""
    cursor.execute("PRAGMA foreign_key_check")
    broken = cursor.fetchall()
    if broken:
        raise IntegrityViolation(f"seeded rows break {len(broken)} foreign key(s), e.g. {broken[:3]}")
