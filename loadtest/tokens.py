"""The API tokens of one run: one per role, named `loadtest-<run id>-<role>`, revoked when the run ends.

A run writes into the database its server uses (the configured one unless `--database-url` says otherwise),
so everything it creates carries its run id: these tokens, and the fixture's parties and items
(`LT-<run id>-...`). Revocation goes by those exact names, so it also catches a token whose creation was
interrupted after its row was written, and never touches another run's or anyone else's tokens.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from opskit.errors import Unavailable

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from erpcore.access import Actor, HasEngine

# A run's tokens by name; each has the role of the same name, but for the extra buyer and finance tokens: the
# default rulebook's steps add up over the rules a purchase over 1,000,000 matches (a buyer, a buyer then finance,
# two from finance or admin), each by a distinct approver other than its creator (admin), so a run's stock-up
# orders need two buyers and three from finance.
ROLES = ("admin", "sales", "warehouse", "finance", "purchasing", "viewer", "purchasing-2", "finance-2", "finance-3")
ROLE_OF = {"purchasing-2": "purchasing", "finance-2": "finance", "finance-3": "finance"}


def new_run_id() -> str:
    """A short random id that scopes one run's data and tokens."""
    return secrets.token_hex(4)


def token_name(run_id: str, role: str) -> str:
    return f"loadtest-{run_id}-{role}"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@dataclass(frozen=True)
class _Database:
    """What `erpcore.access`'s token functions need (`HasEngine`): no settings read, so clean-up cannot trip on them."""

    engine: Engine


@contextmanager
def _erp(database_url: str) -> Iterator[_Database]:
    from erpcore.db import make_engine

    engine = make_engine(database_url)
    try:
        yield _Database(engine)
    finally:
        engine.dispose()


@dataclass
class RunTokens:
    """Create a token per role with `create()`; `revoke()` (safe more than once) revokes every one still active."""

    database_url: str
    run_id: str
    created: int = 0
    revoked: int = 0
    problem: str | None = None  # why revocation failed, if it did
    attempted: bool = False  # create() began: from then on revoke() looks for the run's tokens
    names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.names = frozenset(token_name(self.run_id, role) for role in ROLES)

    def create(self) -> dict[str, str]:
        """One fresh token per role, written to the database directly (the server reads them from there)."""
        from erpcore.access import create_token

        actor = self.actor()
        self.attempted = True
        try:
            with _erp(self.database_url) as erp:
                tokens = {}
                for role in ROLES:
                    tokens[role] = create_token(erp, ROLE_OF.get(role, role), token_name(self.run_id, role), actor)
                    self.created += 1
                return tokens
        except SQLAlchemyError as exc:
            raise Unavailable(f"cannot create the run's tokens in the database: {_first_line(exc)}") from exc

    def revoke(self) -> int:
        """Revoke this run's tokens that are still active; returns how many. A database error is kept in
        `problem` (the run's verdict shows it), never raised: revocation runs in clean-up."""
        from erpcore.access import revoke_token

        if not self.attempted:
            return 0
        actor = self.actor()
        try:
            with _erp(self.database_url) as erp:
                for token in self.active(erp):
                    revoke_token(erp, int(str(token["id"])), actor)
                    self.revoked += 1
        except SQLAlchemyError as exc:
            self.problem = f"the run's tokens stay active: revoking them failed: {_first_line(exc)}"
        return self.revoked

    def actor(self) -> Actor:
        """Who creates and revokes the tokens on the audit trail: an admin named after the run."""
        from erpcore.access import AccessRole, Actor

        return Actor(f"loadtest:{self.run_id}", AccessRole.ADMIN)

    def active(self, erp: HasEngine) -> list[dict[str, object]]:
        """This run's tokens that are not revoked (rows of `erpcore.access.list_tokens`)."""
        from erpcore.access import list_tokens

        return [t for t in list_tokens(erp) if t["name"] in self.names and t["revoked_at"] is None]

    def to_json(self) -> dict[str, object]:
        return {"created": self.created, "revoked": self.revoked, "problem": self.problem}
