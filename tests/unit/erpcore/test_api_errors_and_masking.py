"""The API's error mapping and field masking as plain functions: problem+json bodies, validation sentences,
database error summaries that never quote values, and who sees sensitive fields plain (no server, no database)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from decimal import Decimal
from typing import Any, cast

import pytest
from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from erpcore.access import AccessRole, Actor
from erpcore.api import errors, sensitive, strict
from erpcore.api.gate import BodyTooLarge
from erpcore.crypto import Keyring
from erpcore.exceptions import Conflict, NotFound

NO_REQUEST = cast(Request, None)  # the handlers below read nothing of the request


def body(response: JSONResponse) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(bytes(response.body)))


def test_a_problem_carries_type_title_status_code_and_extras_as_json() -> None:
    response = errors.problem(409, "conflict", "already posted", details={"amount": Decimal("1.10"),
                                                                          "on": dt.date(2026, 1, 2)})
    assert response.status_code == 409 and response.media_type == errors.PROBLEM_JSON
    assert body(response) == {"type": "https://erpops.dev/problems/conflict", "title": "Conflict", "status": 409,
                              "detail": "already posted", "code": "conflict",
                              "details": {"amount": 1.1, "on": "2026-01-02"}}
    assert "retry-after" not in response.headers and "www-authenticate" not in response.headers


@pytest.mark.parametrize(("status", "header", "value"), [(401, "www-authenticate", "Bearer"),
                                                         (503, "retry-after", "1")])
def test_unauthorized_asks_for_a_bearer_and_unavailable_says_when_to_retry(status: int, header: str,
                                                                           value: str) -> None:
    assert errors.problem(status, "x", "y").headers[header] == value


def test_a_status_without_a_title_is_an_error() -> None:
    assert body(errors.problem(418, "teapot", "no"))["title"] == "Error"


def test_validation_names_every_bad_field_without_the_body_prefix() -> None:
    detail, fields = errors.describe_validation([
        {"type": "missing", "loc": ("body", "lines", 0, "quantity"), "msg": "Field required"},
        {"type": "decimal_parsing", "loc": ("query", "limit"), "msg": "Input should be a valid integer"},
        {"type": "value_error", "loc": ("body",), "msg": "bad"},
    ])
    assert [f["field"] for f in fields] == ["lines.0.quantity", "query.limit", "body"]
    assert detail == ("lines.0.quantity: Field required; query.limit: Input should be a valid integer; "
                      "body: bad")


def test_malformed_json_gives_its_character_offset_and_a_repeated_key_is_named() -> None:
    try:
        strict.loads('{"qty": 1, "qty": 1000}')
    except json.JSONDecodeError as exc:
        duplicate = exc.msg
    _, fields = errors.describe_validation([
        {"type": "json_invalid", "loc": ("body", 7), "ctx": {"error": "Expecting value"}},
        {"type": "json_invalid", "loc": ("body", 11), "ctx": {"error": duplicate}},
        {"type": "json_invalid", "loc": ("body", 0)},
    ])
    assert fields == [
        {"field": "body", "message": "malformed JSON at character 7: Expecting value"},
        {"field": "qty", "message": 'the key "qty" is given more than once'},
        {"field": "body", "message": "malformed JSON at character 0: invalid JSON"},
    ]


def test_no_errors_still_reads_as_a_sentence() -> None:
    assert errors.describe_validation([]) == ("the request is invalid", [])


def test_strict_loads_points_at_the_second_occurrence_of_the_repeated_key() -> None:
    text = '{"a": 1, "b": 2, "b": 3}'
    with pytest.raises(json.JSONDecodeError) as caught:
        strict.loads(text.encode())
    assert caught.value.msg == 'duplicate key "b"'
    assert caught.value.pos == text.index('"b": 3')


@pytest.mark.parametrize(("text", "key", "at"), [
    ('{"a": {"b": 1}, "b": 2, "b": 3}', "b", '"b": 3'),  # a nested object's "b" is not the repeated one
    ('{"s": "\\"b\\"", "b": 1, "b": 2}', "b", '"b": 2'),  # nor is "b" inside a string value
    ('[{"x": 1}, {"x": 2, "\\u0078": 3}]', "x", '"\\u0078"'),  # keys compare decoded
    ('{"a": [1, {"k": 1}], "k": {"k": 2, "k": 3}}', "k", '"k": 3'),
])
def test_strict_loads_points_at_the_repetition_within_one_object(text: str, key: str, at: str) -> None:
    with pytest.raises(json.JSONDecodeError) as caught:
        strict.loads(text)
    assert caught.value.msg == f'duplicate key "{key}"'
    assert caught.value.pos == text.index(at)


def test_strict_loads_reports_a_closed_repetition_even_when_the_text_breaks_off_later() -> None:
    text = '{"a": {"q": 1, "q": 2}, "b": [1, 2,'
    with pytest.raises(json.JSONDecodeError) as caught:
        strict.loads(text)
    assert (caught.value.msg, caught.value.pos) == ('duplicate key "q"', text.index('"q": 2'))
    with pytest.raises(json.JSONDecodeError, match="Expecting value"):
        strict.loads('{"q": 1, "b": [1, 2,')


def test_an_erp_error_becomes_its_status_and_code_with_details_only_when_given() -> None:
    plain = asyncio.run(errors._erp_error(NO_REQUEST, NotFound("no such order")))
    assert plain.status_code == 404 and body(plain)["code"] == "not_found" and "details" not in body(plain)
    detailed = body(asyncio.run(errors._erp_error(NO_REQUEST, Conflict("posted", number="SO-1"))))
    assert (detailed["status"], detailed["detail"], detailed["details"]) == (409, "posted", {"number": "SO-1"})


def test_http_errors_take_a_code_from_a_dict_detail_the_exception_or_their_title() -> None:
    tool = body(asyncio.run(errors._http_error(NO_REQUEST, HTTPException(
        400, detail=cast(str, {"code": "bad_target", "message": "no such node"})))))
    assert (tool["code"], tool["detail"], tool["title"]) == ("bad_target", "no such node", "Bad request")
    too_large = body(asyncio.run(errors._http_error(NO_REQUEST, BodyTooLarge(1024))))
    assert too_large["code"] == "body_too_large" and "1024 bytes" in too_large["detail"]
    method = body(asyncio.run(errors._http_error(NO_REQUEST, HTTPException(405, "Method Not Allowed"))))
    assert method["code"] == "method_not_allowed"
    odd = body(asyncio.run(errors._http_error(NO_REQUEST, HTTPException(418, "teapot"))))
    assert odd["code"] == "error"


class Diag:
    table_name = "customer"
    column_name = None
    constraint_name = "uq_customer_email"


class UniqueViolation(Exception):
    sqlstate = "23505"
    diag = Diag()


class Wrapped(Exception):
    def __init__(self, orig: Exception | None, statement: str | None) -> None:
        super().__init__("wrapped")
        self.orig, self.statement = orig, statement


def test_a_postgres_error_is_summarised_by_names_never_by_the_values_its_message_quotes() -> None:
    orig = UniqueViolation("duplicate key: DETAIL: Key (email)=(alice@example.com) already exists")
    said = errors.statement_error(Wrapped(orig, "INSERT INTO customer\n   (email)\n VALUES (%(email)s)"))
    assert said == ("UniqueViolation (SQLSTATE 23505, table customer, constraint uq_customer_email) in: "
                    "INSERT INTO customer (email) VALUES (%(email)s)")
    assert "alice" not in said


def test_a_driver_error_without_diagnostics_keeps_its_message_and_a_bare_error_its_type() -> None:
    assert errors.statement_error(Wrapped(ValueError("CHECK constraint failed: qty"), None)) == \
        "ValueError: CHECK constraint failed: qty in: "
    assert errors.statement_error(Wrapped(None, "SELECT " + "x" * 600)).startswith("Wrapped in: SELECT xxx")
    assert len(errors.statement_error(Wrapped(None, "SELECT " + "x" * 600))) == len("Wrapped in: ") + 500


FINANCE = Actor("fin", AccessRole.FINANCE)
CLERK = Actor("clerk", AccessRole.SALES_CLERK)
EMPLOYEE = {"id": 1, "salary": Decimal("4200.50"), "bank_account": "DE89370400440532013000", "tax_id": "12345"}


def test_finance_sees_an_employee_plain_and_others_see_it_masked() -> None:
    assert sensitive.employee(EMPLOYEE, FINANCE) == {**EMPLOYEE, "salary": "4200.50"}
    assert sensitive.employee(EMPLOYEE, CLERK) == {"id": 1, "salary": "****", "bank_account": "****3000",
                                                   "tax_id": "****"}  # too short to show any of it


def test_a_partners_sealed_tax_id_is_opened_then_shown_or_masked_by_role() -> None:
    keys = Keyring({"k1": bytes(range(32))}, "k1")
    stored = {"id": 3, "tax_id": keys.seal("GB123456789", "customer.tax_id")}
    assert sensitive.party(stored, FINANCE, keys, "customer")["tax_id"] == "GB123456789"
    assert sensitive.party(stored, CLERK, keys, "customer")["tax_id"] == "****6789"
    page = sensitive.parties({"total": 1, "items": [stored]}, CLERK, keys, "customer")
    assert page == {"total": 1, "items": [{"id": 3, "tax_id": "****6789"}]}
    assert sensitive.party({"id": 4, "tax_id": None}, CLERK, None, "supplier")["tax_id"] is None
