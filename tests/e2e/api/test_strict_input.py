"""Strict input: JSON types that carry meaning are checked, text is printable, emails are emails, a key given
twice is refused; and a database error logs its statement, never the customer's values."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from erpcore.api import strict
from erpcore.models import Customer, IdempotencyKey, Item, SalesOrder
from erpcore.services import master
from erpcore.services.unit_of_work import UnitOfWork
from tests.e2e.api.conftest import V1, Api
from tests.factories import uid


def _count(api: Api, model: Any) -> int:
    with api.erp.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def _refused(response: Any, field: str) -> str:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "request_invalid" and field in [e["field"] for e in body["errors"]], body
    return str(body["detail"])


def test_true_is_not_a_number_of_days_and_zero_is(api: Api) -> None:
    for days in (True, "30", 30.5):
        _refused(api.post("/customers", {"code": uid("C"), "name": "x", "payment_terms_days": days}),
                 "payment_terms_days")
    assert _count(api, Customer) == 0
    zero = api.ok(api.post("/suppliers", {"code": uid("S"), "name": "x", "payment_terms_days": 0}), 201)
    assert zero["payment_terms_days"] == 0


def test_a_string_is_not_an_id_nor_a_flag_nor_a_number_a_date(api: Api) -> None:
    w = api.world()
    line = {"item_id": w["item_id"], "quantity": "1"}
    _refused(api.post("/sales-orders", {"customer_id": str(w["customer_id"]), "lines": [line]}), "customer_id")
    _refused(api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
        {**line, "item_id": str(w["item_id"])}]}), "lines.0.item_id")
    _refused(api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [line],
                                        "backorder_allowed": 1}), "backorder_allowed")
    _refused(api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [line], "order_date": 0}),
             "order_date")
    assert _count(api, SalesOrder) == 0


def test_amounts_and_quantities_stay_json_numbers_or_strings(api: Api) -> None:
    w = api.world()
    order = api.ok(api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
        {"item_id": w["item_id"], "quantity": 2, "unit_price": 9.5},
        {"item_id": w["item_id"], "quantity": "1.25", "unit_price": "10.00"}]}), 201)
    assert [(x["quantity"], x["unit_price"]) for x in order["lines"]] == [("2.0000", "9.5000"), ("1.2500", "10.0000")]
    _refused(api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
        {"item_id": w["item_id"], "quantity": True}]}), "lines.0.quantity")


UNPRINTABLE = ["AC\u202eME", "AC\u2066ME", "A\x00B", "A\nB", "A\x1bB", "A\u200fB", "A\x85B"]


def test_codes_and_names_refuse_control_and_bidi_characters(api: Api) -> None:
    for text in UNPRINTABLE:
        detail = _refused(api.post("/customers", {"code": text, "name": "fine"}), "code")
        bad = next(c for c in text if not c.isalnum())
        assert f"U+{ord(bad):04X}" in detail
        _refused(api.post("/items", {"sku": uid("S"), "name": text, "standard_cost": "1", "list_price": "2"}), "name")
    assert _count(api, Customer) == 0 and _count(api, Item) == 0


def test_ordinary_unicode_names_are_accepted(api: Api) -> None:
    name = "Müller & Söhne — 北京 שלום"
    assert api.ok(api.post("/customers", {"code": uid("C"), "name": name}), 201)["name"] == name


BAD_EMAILS = ["not an email", "a@b", "a@@b.com", "<a@b.com>", "a b@c.com", "a@b.com\n", "x" * 65 + "@example.com",
              "a@-b.com", "a..b@c.com"]


def test_invalid_emails_are_refused(api: Api) -> None:
    for email in BAD_EMAILS:
        _refused(api.post("/customers", {"code": uid("C"), "name": "x", "email": email}), "email")
    assert _count(api, Customer) == 0


def test_valid_emails_are_accepted(api: Api) -> None:
    for email in ("ap@example.com", "first.last+tag@mail.example.co.uk"):
        assert api.ok(api.post("/customers", {"code": uid("C"), "name": "x", "email": email}), 201)["email"] == email


def _raw(api: Api, path: str, text: str, key: str | None = None) -> Any:
    headers = {**api.headers("admin", key), "content-type": "application/json"}
    return api.client.post(V1 + path, content=text.encode(), headers=headers)


def test_a_key_given_twice_is_refused_naming_it(api: Api) -> None:
    w = api.world()
    code = uid("C")
    detail = _refused(_raw(api, "/customers", f'{{"code": "{code}", "name": "a", "name": "b"}}'), "name")
    assert 'the key "name" is given more than once' in detail
    nested = (f'{{"customer_id": {w["customer_id"]}, "lines": [{{"item_id": {w["item_id"]}, "quantity": "1", '
              f'"quantity": "1000"}}]}}')
    _refused(_raw(api, "/sales-orders", nested, key="dup"), "quantity")
    assert _count(api, SalesOrder) == 0 and _count(api, IdempotencyKey) == 0
    assert _count(api, Customer) == 1  # the world's one: nothing of the refused requests


def test_loads_points_at_the_repeated_key() -> None:
    text = '{"a": 1, "b": {"c": 2, "c": 3}}'
    with pytest.raises(json.JSONDecodeError) as caught:
        strict.loads(text)
    assert caught.value.pos == text.rindex('"c"') and caught.value.msg == 'duplicate key "c"'
    assert strict.loads(b'{"a": [{"a": 1}], "b": {"a": 2}}') == {"a": [{"a": 1}], "b": {"a": 2}}


def test_a_database_error_logs_the_statement_not_the_values(
        api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    secret = {"code": "SECRET-CODE-42", "name": "Secret Person", "email": "secret.person@example.com",
              "credit_limit": 0, "payment_terms_days": 30}

    def twice(uow: UnitOfWork, **_: Any) -> None:  # a write the schema let through and the database refuses
        with uow:
            uow.conn.execute(insert(Customer).values(**secret))
            uow.conn.execute(insert(Customer).values(**secret))

    assert api.erp.engine.hide_parameters
    monkeypatch.setattr(master, "create_customer", twice)
    with caplog.at_level(logging.WARNING, logger="erpcore.api"):
        response = api.post("/customers", {"code": uid("C"), "name": "x"})
    assert response.status_code == 409 and response.json()["code"] == "constraint_violated"
    logged = caplog.text.lower()
    assert "insert into customer" in logged and "constraint refused a write" in logged
    assert "secret" not in logged and "secret" not in response.text.lower()
