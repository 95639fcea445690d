"""Rulebook entries parsed one by one (limits, normalisation, messages) and the webhook deliverer's envelope, POST
and pass summary, with an httpx mock transport (no network, no database)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import Engine

from erpcore.config import OutboxSettings
from erpcore.crypto import Keyring
from erpcore.domain.delivery import EVENT_HEADER, SIGNATURE_HEADER, MessageStatus, verify
from erpcore.exceptions import ValidationFailed
from erpcore.services import rulebook
from erpcore.services.delivery import Attempt, Deliverer, DeliveryPass, Subscription, envelope, event_id

STEP = [{"roles": ["finance"]}]


def rule(**fields: Any) -> dict[str, Any]:
    return {"code": "big-po", "document_type": "purchase_order", "steps": STEP} | fields


def test_a_rule_is_normalised_with_its_defaults_and_a_description_cut_to_200() -> None:
    spec = rulebook.parse_rule(rule(conditions={"amount_over": 1000, "supplier": ["S2", "S1"]},
                                    description="x" * 250))
    assert spec.priority == 100 and len(spec.description) == 200
    assert spec.conditions == {"amount_over": "1000", "supplier": ["S1", "S2"]}
    assert spec.steps == [{"roles": ["finance"], "required": 1}]


@pytest.mark.parametrize(("fields", "why"), [
    ({"owner": "me"}, "unknown key\\(s\\) owner"),
    ({"code": "a" * 61}, "1-60 letters"),
    ({"code": None}, "code '': 1-60"),
    ({"priority": True}, "priority must be a whole number from 0 to 10000"),
    ({"priority": 10_001}, "priority must be"),
    ({"priority": -1}, "priority must be"),
    ({"priority": "5"}, "priority must be"),
])
def test_a_rule_is_refused_naming_the_field(fields: dict[str, Any], why: str) -> None:
    with pytest.raises(ValidationFailed, match=why):
        rulebook.parse_rule(rule(**fields))


def test_priority_bounds_are_inclusive_and_a_code_may_use_dots_and_dashes() -> None:
    assert rulebook.parse_rule(rule(priority=0)).priority == 0
    assert rulebook.parse_rule(rule(priority=10_000, code="a.B-9_" + "z" * 54)).priority == 10_000


def test_control_parameters_are_normalised_to_strings_and_booleans() -> None:
    assert rulebook.parse_control("budget", {"account": 6000}) == rulebook.ControlSpec("budget", "stop",
                                                                                      {"account": "6000"})
    tax = rulebook.parse_control("tax_data", {"mode": "warn", "tax_id_required_above": 1000.5,
                                              "zero_rate_needs_tax_id": 1})
    assert tax.params == {"tax_id_required_above": "1000.5", "zero_rate_needs_tax_id": True}
    assert rulebook.parse_control("discount_limit", {"mode": "off", "max_percent": "12.50"}).params == \
        {"max_percent": "12.50"}


def test_a_control_refuses_parameters_it_does_not_take_and_says_it_takes_none() -> None:
    with pytest.raises(ValidationFailed, match="unknown parameter\\(s\\) limit; known: none"):
        rulebook.parse_control("credit_limit", {"limit": 5})
    with pytest.raises(ValidationFailed, match="control budget: a mapping with `mode`"):
        rulebook.parse_control("budget", cast(dict[str, Any], "stop"))


def test_a_bad_number_in_a_control_names_the_control_and_its_parameter() -> None:
    with pytest.raises(ValidationFailed, match="control discount_limit: max_percent must be a non-negative number "
                                               "\\(got 'lots'\\)"):
        rulebook.parse_control("discount_limit", {"max_percent": "lots"})
    with pytest.raises(ValidationFailed, match="tax_id_required_above must be a non-negative number"):
        rulebook.parse_control("tax_data", {"tax_id_required_above": -1})


def test_a_rulebook_with_empty_sections_is_empty_and_a_non_mapping_rule_is_refused() -> None:
    assert rulebook.parse_rulebook({"controls": None, "approval_rules": None}) == ([], [])
    with pytest.raises(ValidationFailed, match="`controls` is a mapping and `approval_rules` a list"):
        rulebook.parse_rulebook({"approval_rules": {"big-po": {}}})
    with pytest.raises(ValidationFailed, match="approval rule code ''"):
        rulebook.parse_rulebook({"approval_rules": ["big-po"]})


def test_an_unreadable_rulebook_file_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="cannot read .*missing.yaml"):
        rulebook.read_rulebook(tmp_path / "missing.yaml")


def row(**fields: Any) -> Any:
    base = {"id": 7, "event_id": "evt-7", "topic": "sales.order.approved", "key": "SO-1",
            "payload": {"total": "10.00"}, "created_at": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            "attempts": 0}
    return SimpleNamespace(**(base | fields))


def test_the_envelope_is_compact_sorted_json_and_old_rows_get_a_stable_event_id() -> None:
    body = envelope(row())
    assert body == (b'{"created_at":"2026-01-02T03:04:05+00:00","id":"evt-7","key":"SO-1",'
                    b'"payload":{"total":"10.00"},"topic":"sales.order.approved"}')
    assert event_id(row(event_id=None)) == "outbox-7"
    assert json.loads(envelope(row(event_id=None, created_at=None))) == {
        "created_at": None, "id": "outbox-7", "key": "SO-1", "payload": {"total": "10.00"},
        "topic": "sales.order.approved"}


def deliverer(handler: Any) -> Deliverer:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return Deliverer(cast(Engine, None), OutboxSettings(timeout_s=3), client, Keyring())


SUB = Subscription(1, "sales.*", "https://hooks.example/erp", "s3cret")


def test_a_post_is_signed_over_the_exact_body_and_carries_the_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    body = envelope(row())
    assert deliverer(handler)._post(SUB, row(), body) == (204, None)
    request = seen[0]
    assert request.content == body and str(request.url) == SUB.url
    assert request.headers["Idempotency-Key"] == "evt-7"
    assert request.headers[EVENT_HEADER] == "sales.order.approved"
    assert verify("s3cret", body, request.headers[SIGNATURE_HEADER])
    assert not verify("other", body, request.headers[SIGNATURE_HEADER])


@pytest.mark.parametrize(("status", "problem"), [(199, "HTTP 199"), (200, None), (299, None), (300, "HTTP 300"),
                                                 (503, "HTTP 503")])
def test_only_a_2xx_answer_counts_as_delivered(status: int, problem: str | None) -> None:
    assert deliverer(lambda request: httpx.Response(status))._post(SUB, row(), b"{}") == (status, problem)


def test_a_transport_failure_is_a_problem_with_its_kind_cut_to_300_characters() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused " + "x" * 400)

    code, problem = deliverer(refuse)._post(SUB, row(), b"{}")
    assert code == 0 and problem is not None
    assert problem.startswith("ConnectError: refused") and len(problem) == 300


def test_a_pass_says_what_it_did_and_why_it_stopped() -> None:
    assert DeliveryPass().reason == "nothing was due"
    attempts = [Attempt(i, f"e{i}", "t", status, 1, 1, "") for i, status in
                enumerate([MessageStatus.DELIVERED, MessageStatus.DELIVERED, MessageStatus.PENDING,
                           MessageStatus.DEAD])]
    assert DeliveryPass(attempts, "a stop request").reason == \
        "4 attempt(s): 2 delivered, 1 to retry, 1 dead; stopped by a stop request"
    assert DeliveryPass([], None, {"delivered": 3}).reason == "3 attempt(s): 3 delivered, 0 to retry, 0 dead"


@pytest.mark.parametrize(("given", "meant"), [(True, True), (False, False), ("false", False), ("No", False),
                                              ("0", False), ("true", True), ("YES", True), ("1", True)])
def test_a_yes_no_parameter_given_as_text_means_what_it_says(given: object, meant: bool) -> None:
    """`erpops rules control tax_data --param zero_rate_needs_tax_id=false` passes the text "false"."""
    params = rulebook.parse_control("tax_data", {"zero_rate_needs_tax_id": given}).params
    assert params["zero_rate_needs_tax_id"] is meant


def test_a_yes_no_parameter_refuses_anything_else() -> None:
    with pytest.raises(ValidationFailed, match="control tax_data: zero_rate_needs_tax_id must be true or false "
                                               "\\(got 'maybe'\\)"):
        rulebook.parse_control("tax_data", {"zero_rate_needs_tax_id": "maybe"})
