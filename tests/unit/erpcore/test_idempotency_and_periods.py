"""Idempotency's pure parts (what makes two requests the same, the stored outcome, the replayed body) and the
budget control's periods (month bounds across year ends and leap years)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from types import SimpleNamespace

import pytest

from erpcore.api.idempotency import _replaying, request_hash
from erpcore.api.keystore import Written
from erpcore.services.controls import _json, month_bounds, period_of, stamp_of


def test_a_request_hash_is_sha256_of_method_path_query_and_body() -> None:
    expected = hashlib.sha256(b"POST /v1/orders?limit=5\n{\"a\":1}").hexdigest()
    assert request_hash("POST", "/v1/orders", b"limit=5", b'{"a":1}') == expected


@pytest.mark.parametrize("other", [("PUT", "/v1/orders", b"", b"{}"), ("POST", "/v1/order", b"", b"{}"),
                                   ("POST", "/v1/orders", b"x=1", b"{}"), ("POST", "/v1/orders", b"", b"{ }")])
def test_any_difference_makes_another_request(other: tuple[str, str, bytes, bytes]) -> None:
    assert request_hash(*other) != request_hash("POST", "/v1/orders", b"", b"{}")


def test_a_query_cannot_pass_for_part_of_the_path() -> None:
    assert request_hash("POST", "/v1/a", b"b", b"") != request_hash("POST", "/v1/a?b", b"", b"")


def test_a_written_outcome_round_trips_and_anything_else_reads_as_none() -> None:
    done = Written("sales_order", 12, 201)
    assert done.dumps() == '{"document": "sales_order", "id": 12, "status": 201}'
    assert Written.loads(done.dumps()) == done
    for text in ('{"type": "about:blank", "status": 409}', "not json", "[1, 2]", '{"document": "x", "id": "a", '
                 '"status": 201}', '{"document": "x", "id": null, "status": 201}'):
        assert Written.loads(text) is None, text


def test_the_body_is_replayed_once_then_the_real_receive_takes_over() -> None:
    async def real() -> dict[str, object]:
        return {"type": "http.disconnect"}

    async def run() -> list[object]:
        receive = _replaying(b'{"q": 1}', real)
        return [await receive(), await receive()]

    assert asyncio.run(run()) == [{"type": "http.request", "body": b'{"q": 1}', "more_body": False},
                                  {"type": "http.disconnect"}]


@pytest.mark.parametrize(("period", "first", "last"), [
    ("2026-01", dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
    ("2026-02", dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
    ("2028-02", dt.date(2028, 2, 1), dt.date(2028, 2, 29)),
    ("2026-11", dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
    ("2026-12", dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
])
def test_a_month_runs_from_its_first_to_its_last_day(period: str, first: dt.date, last: dt.date) -> None:
    assert month_bounds(period) == (first, last)
    assert period_of(first) == period_of(last) == period


def test_a_period_is_zero_padded() -> None:
    assert period_of(dt.date(987, 3, 9)) == "0987-03"


def test_a_rulebook_stamp_needs_a_version_and_a_json_column_may_come_back_as_text() -> None:
    assert stamp_of(None) is None
    assert stamp_of(SimpleNamespace(rb_epoch="e1", rb_version=None)) is None
    assert stamp_of(SimpleNamespace(rb_epoch=7, rb_version="3")) == ("7", 3)
    assert _json('{"roles": ["finance"]}') == {"roles": ["finance"]}
    assert _json(b"[1]") == [1]
    assert _json({"already": "parsed"}) == {"already": "parsed"}
