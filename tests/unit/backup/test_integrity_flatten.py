"""The integrity summary flattened for manifests: dotted keys, money to the cent, exact strings."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from backup.integrity import flatten


@dataclass
class Balance:
    debit: Decimal
    credit: Decimal


@dataclass
class Summary:
    counts: dict[str, int]
    trial_balance: Balance


def test_nested_dicts_and_dataclasses_become_dotted_keys() -> None:
    data = Summary({"sales_order": 3, "journal_line": 10}, Balance(Decimal("12.5"), Decimal("12.50")))
    assert flatten(data) == {
        "counts.sales_order": "3",
        "counts.journal_line": "10",
        "trial_balance.debit": "12.50",
        "trial_balance.credit": "12.50",
    }


def test_decimals_and_floats_are_quantized_to_cents_so_engines_compare_equal() -> None:
    # PostgreSQL NUMERIC gives Decimal("100.000"), SQLite may give a float 100.0: both must read the same
    assert flatten({"a": Decimal("100.000"), "b": 100.0}) == {"a": "100.00", "b": "100.00"}


def test_floats_go_through_their_shortest_repr_not_binary_expansion() -> None:
    # Decimal(0.1 + 0.2) would be 0.3000000000000000444..., str() first gives "0.30000000000000004"
    assert flatten({"x": 0.1 + 0.2}) == {"x": "0.30"}
    assert flatten({"x": 2.675}) == {"x": "2.68"}  # str(2.675) is "2.675", rounded half-even to 2.68


def test_integers_booleans_and_strings_are_kept_as_written() -> None:
    assert flatten({"n": 7, "ok": True, "s": "x.y"}) == {"n": "7", "ok": "True", "s": "x.y"}


def test_a_scalar_at_the_top_has_the_empty_key() -> None:
    assert flatten(Decimal("1")) == {"": "1.00"}


def test_an_empty_mapping_contributes_no_keys() -> None:
    assert flatten({"a": {}, "b": 1}) == {"b": "1"}


def test_a_prefix_is_prepended_to_every_key() -> None:
    assert flatten({"a": {"b": 1}}, "stock.") == {"stock.a.b": "1"}
