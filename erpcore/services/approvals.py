"""Approval requests inside a document's unit of work: submit a document against the approval rules read in
the same transaction, and record an approver's decision on the step that waits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import insert, select, update

from erpcore.domain import rules
from erpcore.domain.rules import Decision, Facts, Progress, Step
from erpcore.models import Approval, ApprovalRequest
from erpcore.services.unit_of_work import UnitOfWork


def submit(uow: UnitOfWork, found: Sequence[rules.Rule], facts_of: Callable[[], Facts], document_id: int
           ) -> list[str]:
    """Open an approval request when rules of the document's type (`found`) match it; returns their codes (none:
    the document needs no approval). `facts_of` reads the document's facts, only when some rule could match."""
    if not found:
        return []
    facts = facts_of()
    codes, steps = rules.required_approvals(found, facts)
    if codes:
        uow.conn.execute(insert(ApprovalRequest).values(
            document_type=facts.document_type, document_id=document_id, rules=codes,
            steps=[s.as_data() for s in steps], status="pending", submitted_by=uow.actor.name[:80],
            created_at=dt.datetime.now(dt.UTC)))
    return codes


def _pending(uow: UnitOfWork, document_type: str, document_id: int) -> Any:
    return uow.conn.execute(select(ApprovalRequest).where(
        ApprovalRequest.document_type == document_type, ApprovalRequest.document_id == document_id,
        ApprovalRequest.status == "pending").order_by(ApprovalRequest.id.desc()).limit(1)).one()


def decide(uow: UnitOfWork, document_type: str, document_id: int, document: str, creator: str | None,
           decision: str, comment: str = "") -> Progress:
    """Record the actor's decision on the waiting step (the creator, a second vote and a role the step does not
    name are refused); returns where the request stands after it, closing it when done or rejected."""
    request = _pending(uow, document_type, document_id)
    steps = [Step(tuple(s["roles"]), int(s.get("required", 1))) for s in request.steps]
    past = [Decision(r.step_no, r.actor, r.role, r.decision) for r in uow.conn.execute(
        select(Approval.step_no, Approval.actor, Approval.role, Approval.decision)
        .where(Approval.request_id == request.id).order_by(Approval.id))]
    actor = uow.actor
    step_no = rules.check_decision(steps, past, actor.name, str(actor.role), creator, document)
    now = dt.datetime.now(dt.UTC)
    uow.conn.execute(insert(Approval).values(request_id=request.id, step_no=step_no, actor=actor.name[:80],
                                             role=str(actor.role), decision=decision, comment=comment[:400],
                                             created_at=now))
    state = rules.progress(steps, [*past, Decision(step_no, actor.name, str(actor.role), decision)])
    if state.done or state.rejected:
        uow.conn.execute(update(ApprovalRequest).where(ApprovalRequest.id == request.id).values(
            status="approved" if state.done else "rejected", decided_at=now))
    return state


def history(conn: Any, document_type: str, document_id: int) -> list[dict[str, Any]]:
    """Every approval request of a document with its decisions, oldest first."""
    requests = conn.execute(select(ApprovalRequest).where(
        ApprovalRequest.document_type == document_type, ApprovalRequest.document_id == document_id)
        .order_by(ApprovalRequest.id)).mappings().all()
    out = []
    for r in requests:
        decisions = conn.execute(select(Approval.step_no, Approval.actor, Approval.role, Approval.decision,
                                        Approval.comment, Approval.created_at)
                                 .where(Approval.request_id == r["id"]).order_by(Approval.id)).mappings().all()
        out.append({**dict(r), "decisions": [dict(d) for d in decisions]})
    return out
