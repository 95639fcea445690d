"""A small message bus: domain event type -> handlers, all run in the raising unit of work.

Handlers registered for a base class (`IntegrationEvent`) run for every subclass too, after the class's own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from erpcore.domain.events import Event
from erpcore.services.unit_of_work import UnitOfWork

Handler = Callable[[Any, UnitOfWork], None]


class MessageBus:
    def __init__(self, handlers: Mapping[type[Event], Sequence[Handler]]) -> None:
        self.handlers = handlers

    def handle(self, event: Event, uow: UnitOfWork) -> None:
        for cls in type(event).__mro__:
            for handler in self.handlers.get(cls, ()):
                handler(event, uow)

    def drain(self, uow: UnitOfWork) -> None:
        """The pre-commit step that handles every queued event, including those the handlers raise."""
        while uow.events:
            self.handle(uow.events.pop(0), uow)
