"""Wire the ERP once: engine, session factory, settings, message bus. Nothing happens at import."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from erpcore.config import Settings, load_settings
from erpcore.db import make_engine, make_session_factory
from erpcore.domain.accounts import Role
from erpcore.domain.matching import Tolerances
from erpcore.models import Account
from erpcore.services.messagebus import MessageBus
from erpcore.services.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from erpcore.services.numbering import NumberBlocks


@dataclass
class Erp:
    """The wired core: everything a service needs besides its arguments."""

    engine: Engine
    settings: Settings
    session_factory: sessionmaker[Session]
    bus: MessageBus
    _accounts: dict[Role, int] = field(default_factory=dict)
    _number_blocks: NumberBlocks | None = None

    def uow(self, actor: str = "system") -> UnitOfWork:
        return UnitOfWork(self, actor)

    @property
    def tolerances(self) -> Tolerances:
        m = self.settings.matching
        return Tolerances(price=m.price_tolerance, quantity=m.quantity_tolerance)

    @property
    def number_blocks(self) -> NumberBlocks:
        """This process's blocks of non-legal document numbers (see `numbering`)."""
        if self._number_blocks is None:
            from erpcore.services.numbering import NumberBlocks

            self._number_blocks = NumberBlocks(self.engine)
        return self._number_blocks

    def account_ids(self, session: Session) -> dict[Role, int]:
        """Account id per role, read once: the chart changes by migration, not at run time."""
        if not self._accounts:
            rows = session.execute(select(Account.role, Account.id).where(Account.role.is_not(None)))
            self._accounts = {Role(role): id_ for role, id_ in rows if role is not None}
        return self._accounts


def bootstrap(engine: Engine | None = None, settings: Settings | None = None) -> Erp:
    """Build the ERP for `engine` (default: the configured database)."""
    from erpcore.services.handlers import HANDLERS

    settings = settings or load_settings()
    engine = engine or make_engine(settings=settings)
    return Erp(engine, settings, make_session_factory(engine), MessageBus(HANDLERS))
