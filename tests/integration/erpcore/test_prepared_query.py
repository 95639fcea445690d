"""`Query`: statements built once give the same rows, types and errors as SQLAlchemy's own execution."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import DateTime, Engine, Integer, String, bindparam, event, insert, select, update
from sqlalchemy.exc import IntegrityError, MultipleResultsFound, NoResultFound

from erpcore.models import DocumentSequence, SalesOrder, StockBalance, TaxCode, Warehouse
from erpcore.services.sql import Query, batch_insert, batch_update, pairs_in, pairs_params
from tests.factories import make_world

TAX = Query(select(TaxCode.code, TaxCode.rate).where(TaxCode.code == bindparam("code")))
TAX_ALL = Query(select(TaxCode.code, TaxCode.rate).order_by(TaxCode.code))
STD_ONLY = Query(select(TaxCode.rate).where(TaxCode.code == "STD"))  # a literal: a default parameter
ADD_SEQUENCE = Query(insert(DocumentSequence).values(
    doc_type=bindparam("v_type"), year=bindparam("v_year"), next_value=bindparam("v_next")))
BUMP = Query(update(DocumentSequence).where(DocumentSequence.doc_type == bindparam("k_type"))
             .values(next_value=DocumentSequence.next_value + 1).returning(DocumentSequence.next_value))
_BALANCES = select(StockBalance.item_id, StockBalance.warehouse_id, StockBalance.on_hand)
_ANY, _ANY_PG = pairs_in(StockBalance.item_id, StockBalance.warehouse_id)
BALANCES = Query(_BALANCES.where(_ANY), postgresql=_BALANCES.where(_ANY_PG))


def test_rows_dicts_and_scalars_match_sqlalchemy(engine: Engine) -> None:
    with engine.begin() as conn:
        expected = conn.execute(select(TaxCode.code, TaxCode.rate).order_by(TaxCode.code)).all()
        rows = TAX_ALL.rows(conn)
        assert [(r.code, r.rate) for r in rows] == [tuple(e) for e in expected]
        assert all(isinstance(r.rate, Decimal) for r in rows)
        assert TAX_ALL.dicts(conn)[0] == {"code": expected[0].code, "rate": expected[0].rate}
        assert TAX.one(conn, {"code": "RED"}).rate == dict(expected)["RED"]
        assert TAX.one_or_none(conn, {"code": "NOPE"}) is None
        assert TAX.scalar(conn, {"code": "NOPE"}) is None
        assert STD_ONLY.scalar(conn) == dict(expected)["STD"]
        with pytest.raises(NoResultFound):
            TAX.one(conn, {"code": "NOPE"})
        with pytest.raises(MultipleResultsFound):
            TAX_ALL.one_or_none(conn)


def test_writes_count_rows_return_values_and_roll_back(engine: Engine) -> None:
    with engine.connect() as conn:
        assert ADD_SEQUENCE.execute(conn, {"v_type": "probe", "v_year": 2031, "v_next": 7}) == 1
        assert BUMP.scalar(conn, {"k_type": "probe"}) == 8
        conn.rollback()
        assert BUMP.scalar(conn, {"k_type": "probe"}) is None  # the transaction's rows went with it
        ADD_SEQUENCE.execute(conn, {"v_type": "kept", "v_year": 2031, "v_next": 1})
        conn.commit()
    with engine.connect() as conn:
        assert BUMP.scalar(conn, {"k_type": "kept"}) == 2  # a statement that began the transaction commits with it
        conn.rollback()


def test_a_database_refusal_is_sqlalchemys_exception(engine: Engine) -> None:
    with engine.connect() as conn:
        ADD_SEQUENCE.execute(conn, {"v_type": "twice", "v_year": 2031, "v_next": 1})
        with pytest.raises(IntegrityError):
            ADD_SEQUENCE.execute(conn, {"v_type": "twice", "v_year": 2031, "v_next": 1})
        conn.rollback()


def test_pairs_select_the_same_rows_on_both_variants(erp: Any) -> None:
    first, second = make_world(erp).item_id, make_world(erp).item_id
    with erp.engine.begin() as conn:
        main = conn.scalar(select(Warehouse.id))
        keys = [(first, main), (second, main)]
        conn.execute(insert(StockBalance), [
            {"item_id": i, "warehouse_id": h, "on_hand": n, "reserved": 0, "value_amount": 0}
            for n, (i, h) in enumerate(keys, 1)])
        found = BALANCES.rows(conn, pairs_params(keys[:1]))
        assert [(r.item_id, r.warehouse_id, r.on_hand) for r in found] == [(first, main, 1)]
        assert len(BALANCES.rows(conn, pairs_params(keys))) == 2
        assert BALANCES.rows(conn, pairs_params([(first, main + 1000)])) == []


def test_engine_listeners_see_every_execution(engine: Engine) -> None:
    seen: list[str] = []

    def after(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        seen.append(statement)

    event.listen(engine, "after_cursor_execute", after)
    try:
        with engine.connect() as conn:
            TAX.rows(conn, {"code": "STD"})
    finally:
        event.remove(engine, "after_cursor_execute", after)
    assert any("tax_code" in s for s in seen)


@pytest.mark.pg
def test_a_statement_sqlalchemy_rewrites_per_call_is_refused(engine: Engine) -> None:
    # created_at has a Python-side default SQLAlchemy computes per row; an expanding IN is re-rendered per call
    defaulted = Query(insert(SalesOrder).values(number=bindparam("v_number")))
    expanding = Query(select(TaxCode.code).where(TaxCode.code.in_(bindparam("codes", expanding=True))))
    plain = Query(insert(DocumentSequence).values(doc_type="x", year=1, next_value=1).returning(
        DocumentSequence.doc_type))
    with engine.connect() as conn:
        with pytest.raises(TypeError, match="cannot be prepared once"):
            defaulted.execute(conn, {"v_number": "SO-1"})
        with pytest.raises(TypeError, match="cannot be prepared once"):
            expanding.rows(conn, {"codes": ["STD"]})
        assert plain.scalar(conn) == "x"  # every value given: it runs
        conn.rollback()


def test_dates_and_timestamps_come_back_as_python_values(engine: Engine) -> None:
    stamp = Query(select(bindparam("when", type_=DateTime(timezone=True)).label("when")))
    moment = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    with engine.connect() as conn:
        value = stamp.scalar(conn, {"when": moment})
    assert value == moment or value == moment.replace(tzinfo=None)


NEXT = batch_update(DocumentSequence, {"k_type": DocumentSequence.doc_type, "k_year": DocumentSequence.year},
                    lambda p: {"next_value": DocumentSequence.next_value + p["v_step"]},
                    {"k_type": String(), "k_year": Integer(), "v_step": Integer()})


def test_a_batch_update_changes_each_row_by_its_own_values(engine: Engine) -> None:
    with engine.connect() as conn:
        for doc_type in ("a", "b", "c"):
            ADD_SEQUENCE.execute(conn, {"v_type": doc_type, "v_year": 2040, "v_next": 10})
        NEXT.many(conn, [{"k_type": "a", "k_year": 2040, "v_step": 1}, {"k_type": "c", "k_year": 2040, "v_step": 5}])
        NEXT.many(conn, [])
        got = dict(conn.execute(select(DocumentSequence.doc_type, DocumentSequence.next_value)
                                .where(DocumentSequence.year == 2040)).all())
        assert got == {"a": 11, "b": 10, "c": 15}
        with pytest.raises(ValueError, match="repeat a key"):  # a joined UPDATE would apply only one of them
            NEXT.many(conn, [{"k_type": "a", "k_year": 2040, "v_step": 1}] * 2)
        conn.rollback()


SEQUENCES = batch_insert(DocumentSequence, "doc_type", "year", "next_value")


def test_a_batch_insert_writes_every_row(engine: Engine) -> None:
    with engine.connect() as conn:
        SEQUENCES.many(conn, [{"doc_type": f"t{n}", "year": 2050, "next_value": n} for n in range(1, 4)])
        got = dict(conn.execute(select(DocumentSequence.doc_type, DocumentSequence.next_value)
                                .where(DocumentSequence.year == 2050)).all())
        assert got == {"t1": 1, "t2": 2, "t3": 3}
        conn.rollback()


SEQUENCES_BACK = batch_insert(DocumentSequence, "doc_type", "year", "next_value", returning=True)


def test_a_batch_insert_can_return_every_row_it_wrote(engine: Engine) -> None:
    with engine.connect() as conn:
        written = SEQUENCES_BACK.many_returning(
            conn, [{"doc_type": f"r{n}", "year": 2051, "next_value": n * 10} for n in range(1, 4)])
        assert sorted((r["doc_type"], r["year"], r["next_value"]) for r in written) == [
            ("r1", 2051, 10), ("r2", 2051, 20), ("r3", 2051, 30)]
        assert SEQUENCES_BACK.many_returning(conn, []) == []
        conn.rollback()
