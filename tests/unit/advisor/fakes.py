"""A catalog built in memory for the advisor's unit tests."""

from __future__ import annotations

from advisor.catalog import Catalog, ExistingIndex, Key, TableInfo


def index(name: str, table: str, keys: list[str | Key], include: tuple[str, ...] = (), *, unique: bool = False,
          primary: bool = False, valid: bool = True, scans: int = 0, partial: bool = False,
          size: int = 8192) -> ExistingIndex:
    parsed = tuple(k if isinstance(k, tuple) else (k, False) for k in keys)
    cols = ", ".join(c + (" DESC" if d else "") for c, d in parsed)
    kind = "UNIQUE INDEX" if unique or primary else "INDEX"
    where = " WHERE (x > 0)" if partial else ""
    return ExistingIndex(name, table, parsed, include, unique or primary, primary, valid, partial, "btree", size,
                         scans, f"CREATE {kind} {name} ON public.{table} USING btree ({cols}){where}",
                         "p" if primary else ("u" if unique else None))


def catalog(indexes: list[ExistingIndex] | None = None, fks: dict[str, list[tuple[str, ...]]] | None = None) -> Catalog:
    tables = {
        "sales_order": TableInfo("sales_order", 100000, 1000, {"id", "customer_id", "status", "order_date",
                                                               "net_amount", "number"}, 500),
        "customer": TableInfo("customer", 1000, 10, {"id", "name", "code"}, 10),
        "shipment": TableInfo("shipment", 90000, 900, {"id", "sales_order_id", "ship_date", "status"}, 400),
    }
    for table, keys in (fks or {}).items():
        tables[table].foreign_keys.extend(keys)
    return Catalog(tables, indexes or [], "2026-12-01 00:00:00+00")
