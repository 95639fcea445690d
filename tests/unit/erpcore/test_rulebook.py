"""Parsing a rulebook: the shipped default is valid, and every malformed entry is refused naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from erpcore.exceptions import ValidationFailed
from erpcore.services import rulebook


def test_the_shipped_rulebook_parses() -> None:
    controls, specs = rulebook.parse_rulebook(rulebook.read_rulebook(rulebook.DEFAULT_RULEBOOK))
    assert {c.name for c in controls} == {"budget", "price_below_cost", "discount_limit", "credit_limit", "tax_data"}
    assert {s.document_type for s in specs} == {"purchase_order", "sales_order"}
    discount = next(c for c in controls if c.name == "discount_limit")
    assert discount.params == {"max_percent": "30"}


@pytest.mark.parametrize(("data", "why"), [
    ([], "a rulebook is a mapping"),
    ({"rules": []}, "unknown section"),
    ({"controls": {"speed": {"mode": "stop"}}}, "control 'speed'"),
    ({"controls": {"budget": {"mode": "maybe"}}}, "mode must be stop, warn or off"),
    ({"controls": {"budget": {"mode": "stop", "colour": 1}}}, "unknown parameter"),
    ({"approval_rules": [{"code": "x", "document_type": "invoice", "steps": [{"roles": ["finance"]}]}]},
     "document_type must be"),
    ({"approval_rules": [{"code": "bad code", "document_type": "sales_order", "steps": [{"roles": ["finance"]}]}]},
     "letters, digits"),
    ({"approval_rules": [{"code": "x", "document_type": "sales_order"}]}, "at least one step"),
    ({"approval_rules": [{"code": "x", "document_type": "sales_order", "steps": [{"roles": ["finance"]}]}] * 2},
     "given twice"),
])
def test_a_malformed_rulebook_is_refused_naming_what_is_wrong(data: object, why: str) -> None:
    with pytest.raises(ValidationFailed, match=why):
        rulebook.parse_rulebook(data)


def test_a_file_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text("controls: [unclosed\n")
    with pytest.raises(ValidationFailed, match="not valid YAML"):
        rulebook.read_rulebook(bad)


def test_the_access_table_has_conflicts_roles_check_reports() -> None:
    found = rulebook.role_conflicts()
    assert {"role": "finance", "permissions": "purchase.invoice.post + purchase.payment.post",
            "conflict": "one person enters supplier invoices and pays them"} in found
    assert all(c["role"] not in ("admin", "viewer") for c in found)
