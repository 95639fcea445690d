"""A small message bus: domain event type -> handlers, all run in the raising unit of work."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from erpcore.domain.events import Event

if TYPE_CHECKING:
    from erpcore.services.unit_of_work import UnitOfWork

Handler = Callable[[Event, "UnitOfWork"], None]


class MessageBus:
    def __init__(self, handlers: dict[type[Event], list[Handler]]) -> None:
        self.handlers = handlers

    def handle(self, event: Event, uow: UnitOfWork) -> None:
        for handler in self.handlers.get(type(event), []):
            handler(event, uow)
