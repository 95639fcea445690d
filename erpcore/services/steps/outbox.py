"""Integration events into the outbox, inside the transaction that raised them (see `erpcore.domain.events`)."""

from __future__ import annotations

import uuid

from sqlalchemy import insert

from erpcore.domain.events import IntegrationEvent
from erpcore.models import OutboxMessage
from erpcore.services.unit_of_work import UnitOfWork

PENDING = "pending"


def record(event: IntegrationEvent, uow: UnitOfWork) -> None:
    """Write `event` as one pending outbox row: it commits, or rolls back, with the change it reports."""
    uow.conn.execute(insert(OutboxMessage).values(
        topic=event.topic, key=event.key, payload=event.payload(), event_id=str(uuid.uuid4()), status=PENDING))
