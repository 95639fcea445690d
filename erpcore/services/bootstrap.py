"""Wire the ERP once: engine, settings, message bus, and the steps every unit of work runs before it commits.

Nothing happens at import. A unit of work's pre-commit steps, in order:
1. handle its domain events (handlers may raise more; a failing handler fails the write),
2. the caller's own steps (the API records an applied Idempotency-Key here, in the same transaction),
3. refuse entries dated in a closed fiscal period,
4. append the audit trail's entries (`steps.audit`; skipped only with `access.audit_enabled = false`),
5. number and write the queued journal: the shared journal sequence row is locked as late as possible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session, sessionmaker

from erpcore import crypto
from erpcore.access import SYSTEM, Actor
from erpcore.config import Settings, load_settings
from erpcore.db import make_engine, make_session_factory
from erpcore.domain.accounts import Role
from erpcore.domain.dates import DateWindow
from erpcore.domain.matching import Tolerances
from erpcore.models import Account
from erpcore.services import numbering
from erpcore.services.handlers import HANDLERS
from erpcore.services.messagebus import MessageBus
from erpcore.services.steps import audit, journal, periods
from erpcore.services.unit_of_work import Step, UnitOfWork


@dataclass
class Erp:
    """The wired core: everything a service needs besides its arguments (it is a `unit_of_work.Resources`)."""

    engine: Engine
    settings: Settings
    session_factory: sessionmaker[Session]
    bus: MessageBus
    _accounts: dict[Role, int] = field(default_factory=dict)
    _number_blocks: numbering.NumberBlocks | None = None
    _keyring: crypto.Keyring | None = None

    def uow(self, actor: Actor = SYSTEM, steps: Sequence[Step] = ()) -> UnitOfWork:
        """A unit of work acting as `actor`; `steps` run before commit, after the events, before the journal."""
        audited = (audit.write,) if self.settings.access.audit_enabled else ()
        return UnitOfWork(self, (self.bus.drain, *steps, periods.guard_journal, *audited, journal.flush), actor)

    @property
    def tolerances(self) -> Tolerances:
        m = self.settings.matching
        return Tolerances(price=m.price_tolerance, quantity=m.quantity_tolerance)

    @property
    def dates(self) -> DateWindow:
        d = self.settings.documents
        return DateWindow(d.max_days_back, d.max_days_ahead)

    @property
    def max_discount_percent(self) -> Decimal:
        return self.settings.documents.max_discount_percent

    @property
    def number_blocks(self) -> numbering.NumberBlocks:
        """This process's blocks of non-legal document numbers (see `numbering`)."""
        if self._number_blocks is None:
            self._number_blocks = numbering.NumberBlocks(self.engine)
        return self._number_blocks

    @property
    def keyring(self) -> crypto.Keyring:
        """The keys of sensitive fields, read from the settings on first use."""
        if self._keyring is None:
            self._keyring = crypto.keyring(self.settings)
        return self._keyring

    def account_ids(self, conn: Connection) -> dict[Role, int]:
        """Account id per role, read once: the chart changes by migration, not at run time."""
        if not self._accounts:
            rows = conn.execute(select(Account.role, Account.id).where(Account.role.is_not(None)))
            self._accounts = {Role(role): id_ for role, id_ in rows if role is not None}
        return self._accounts


def bootstrap(engine: Engine | None = None, settings: Settings | None = None) -> Erp:
    """Build the ERP for `engine` (default: the configured database)."""
    settings = settings or load_settings()
    engine = engine or make_engine(settings=settings)
    return Erp(engine, settings, make_session_factory(engine), MessageBus(HANDLERS))
