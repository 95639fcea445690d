"""The audit trail on both engines: every guarded write appends its entries in its own transaction (a refused
or failed write leaves none), a denied attempt is recorded on its own, and `verify_trail` names the first
broken link after an entry is edited, deleted, inserted or reordered in the database."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select, update

from erpcore import access, audit
from erpcore.access import AccessRole, Actor, create_token, lookup, revoke_token
from erpcore.domain.audit import GENESIS
from erpcore.exceptions import Conflict, Forbidden
from erpcore.models import AuditChain, AuditEvent
from erpcore.services import periods, roles, sales
from erpcore.services.bootstrap import Erp, bootstrap
from erpcore.services.sales import OrderLineInput
from tests.factories import intruder, make_world, stock_up, tamper

CLERK = Actor("ann", AccessRole.SALES_CLERK)
MANAGER = Actor("max", AccessRole.SALES_MANAGER)


def entries(engine: Engine, **where: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        query = select(AuditEvent).order_by(AuditEvent.id)
        for column, value in where.items():
            query = query.where(getattr(AuditEvent, column) == value)
        return [dict(r) for r in conn.execute(query).mappings()]


def order(erp: Erp, qty: str = "1") -> tuple[int, str]:
    w = make_world(erp)
    stock_up(w, "10")
    doc = sales.create_sales_order(erp.uow(CLERK), w.customer_id, [OrderLineInput(w.item_id, Decimal(qty))])
    return doc.id, doc.row["number"]


def test_a_document_s_history_names_actor_role_action_and_values(erp: Erp) -> None:
    so_id, number = order(erp)
    sales.approve_sales_order(erp.uow(MANAGER), so_id)
    history = audit.history(erp.engine, number)
    assert [(h["actor"], h["role"], h["action"]) for h in history] == [
        ("ann", "sales_clerk", "sales.order.create"), ("max", "sales_manager", "sales.order.approve")]
    assert json.loads(history[1]["before"]) == {"status": "draft"}
    assert json.loads(history[1]["after"])["status"] == "approved"
    assert json.loads(history[0]["after"])["number"] == number and history[0]["entity_id"] == so_id
    assert audit.history(erp.engine, f"sales_order:{so_id}") == history
    assert audit.verify_trail(erp.engine).ok


def test_every_guarded_write_of_procure_to_pay_and_the_period_close_is_on_the_trail(erp: Erp) -> None:
    w = make_world(erp)
    before = len(entries(erp.engine))
    po = stock_up(w, "5")  # create, approve, receive
    actions = [e["action"] for e in entries(erp.engine)[before:]]
    assert actions == ["purchase.order.create", "purchase.order.approve", "warehouse.receipt.post"]
    periods.close_period(erp.uow(Actor("cy", AccessRole.CONTROLLER)), "2020-01")
    closed = entries(erp.engine, action="finance.period.close")
    assert [(c["actor"], c["role"], c["ref"], json.loads(c["before"])) for c in closed] == [
        ("cy", "controller", "2020-01", {"status": "open"})]
    assert json.loads(closed[0]["after"])["status"] == "closed"
    assert entries(erp.engine, entity="purchase_order", entity_id=po)[0]["actor"] == "system"


def test_a_failed_write_leaves_no_entry_and_a_denied_one_leaves_exactly_one(erp: Erp) -> None:
    so_id, _ = order(erp)
    sales.approve_sales_order(erp.uow(MANAGER), so_id)
    count = len(entries(erp.engine))
    with pytest.raises(Conflict):
        sales.approve_sales_order(erp.uow(MANAGER), so_id)  # already approved: rolled back
    assert len(entries(erp.engine)) == count
    with pytest.raises(Forbidden):
        sales.approve_sales_order(erp.uow(CLERK), so_id)
    denied = entries(erp.engine)[count:]
    assert [(d["actor"], d["role"], d["action"], d["outcome"]) for d in denied] == [
        ("ann", "sales_clerk", "sales.order.approve", "denied")]
    assert json.loads(denied[0]["after"]) == {"order_id": so_id}
    assert audit.verify_trail(erp.engine).ok


def test_tokens_and_roles_are_configuration_changes_on_the_trail(erp: Erp) -> None:
    token = create_token(erp, "auditor", "books")
    actor = lookup(erp.engine, token)
    assert actor is not None and actor.token_id is not None
    access._known.clear()  # the cache gone, the token is read again: still one login for this process
    assert lookup(erp.engine, token) == actor
    assert lookup(erp.engine, "erp_unknown") is None  # a refused token writes nothing
    revoke_token(erp, actor.token_id)
    roles.create_role(erp.uow(), "credit_desk", ["sales.order.read"], "credit")
    roles.grant(erp.uow(), "credit_desk", ["sales.invoice.read"])
    roles.revoke(erp.uow(), "credit_desk", ["sales.order.read"])
    trail = [(e["action"], e["entity"], e["ref"]) for e in entries(erp.engine)]
    assert trail == [("admin.tokens", "api_token", "books"), ("auth.login", "api_token", "books"),
                     ("admin.tokens", "api_token", "books")] + [("admin.roles", "role", "credit_desk")] * 3
    login = entries(erp.engine, action="auth.login")[0]
    assert (login["actor"], login["role"], login["entity_id"]) == ("books", "auditor", actor.token_id)
    assert not any(token in json.dumps(e, default=str) for e in entries(erp.engine))
    assert audit.verify_trail(erp.engine).ok


def test_without_the_audit_step_nothing_is_appended(engine: Engine) -> None:
    from erpcore.config import load_settings

    quiet = bootstrap(engine, load_settings(access={"audit_enabled": False}))
    w = make_world(quiet)
    stock_up(w, "1")
    assert entries(engine) == []


def _trail(erp: Erp, n: int = 4) -> list[dict[str, Any]]:
    """`n` entries on one chain: one order's history (create, approve, cancel...)."""
    so_id, number = order(erp)
    sales.approve_sales_order(erp.uow(MANAGER), so_id)
    sales.cancel_sales_order(erp.uow(MANAGER), so_id)
    found = [e for e in entries(erp.engine) if e["ref"] == number]
    assert len(found) == 3 and len({e["chain"] for e in found}) == 1
    return found


def test_an_edited_entry_is_found_and_named(erp: Erp) -> None:
    trail = _trail(erp)
    tamper(erp.engine, "UPDATE audit_event SET after = :v WHERE id = :id", v='{"status":"draft"}', id=trail[1]["id"])
    verdict = audit.verify_trail(erp.engine)
    assert not verdict.ok and verdict.breaks[0].id == trail[1]["id"] and "edited" in verdict.reason


def test_a_deleted_entry_is_found_and_named(erp: Erp) -> None:
    trail = _trail(erp)
    tamper(erp.engine, "DELETE FROM audit_event WHERE id = :id", id=trail[1]["id"])
    verdict = audit.verify_trail(erp.engine)
    assert not verdict.ok and verdict.breaks[0].seq == trail[1]["seq"] + 1 and "deleted" in verdict.reason
    tamper(erp.engine, "DELETE FROM audit_event WHERE id = :id", id=trail[2]["id"])  # ... and the last one


def test_a_deleted_last_entry_is_found_by_the_chain_head(erp: Erp) -> None:
    trail = _trail(erp)
    tamper(erp.engine, "DELETE FROM audit_event WHERE id = :id", id=trail[2]["id"])
    verdict = audit.verify_trail(erp.engine)
    assert [(b.chain, b.seq) for b in verdict.breaks] == [(trail[2]["chain"], trail[2]["seq"])]
    assert "chain head" in verdict.reason


def test_an_inserted_entry_is_found_and_named(erp: Erp) -> None:
    trail = _trail(erp)
    last = trail[2]
    with erp.engine.begin() as conn:  # a forger who knows the scheme appends a well-hashed entry, head untouched
        from erpcore.domain.audit import Entry, link, moment

        forged = link(last["row_hash"], last["chain"], last["seq"] + 1, moment(last["created_at"]), "mallory",
                      "admin", Entry("sales.order.approve", "sales_order", last["entity_id"], last["ref"]))
        values = {c: getattr(forged, c) for c in ("chain", "seq", "actor", "role", "action", "outcome", "entity",
                                                  "entity_id", "ref", "before", "after", "prev_hash", "row_hash")}
        conn.execute(insert(AuditEvent).values(**values, created_at=last["created_at"]))
    verdict = audit.verify_trail(erp.engine)
    assert not verdict.ok and verdict.breaks[0].chain == last["chain"]
    assert "chain head records" in verdict.reason


def test_reordered_entries_are_found_and_named(erp: Erp) -> None:
    trail = _trail(erp)
    a, b = trail[0], trail[1]
    with intruder(erp.engine) as conn:  # swap their places in the chain
        conn.execute(update(AuditEvent).where(AuditEvent.id == a["id"]).values(seq=-1))
        conn.execute(update(AuditEvent).where(AuditEvent.id == b["id"]).values(seq=a["seq"]))
        conn.execute(update(AuditEvent).where(AuditEvent.id == a["id"]).values(seq=b["seq"]))
    verdict = audit.verify_trail(erp.engine)
    assert not verdict.ok and verdict.breaks[0].id == b["id"] and verdict.breaks[0].seq == a["seq"]


def test_concurrent_writers_spread_over_the_chains_and_every_chain_links(erp: Erp) -> None:
    for _ in range(6):
        order(erp)
    with erp.engine.connect() as conn:
        used = conn.execute(select(func.count()).select_from(AuditChain).where(AuditChain.seq > 0)).scalar_one()
        untouched = conn.execute(select(AuditChain.head_hash).where(AuditChain.seq == 0)).scalars().all()
    assert used > 1 and all(h == GENESIS for h in untouched)
    assert audit.verify_trail(erp.engine).ok
