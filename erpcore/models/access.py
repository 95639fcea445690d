"""Custom roles and the heads of the audit trail's hash chains (built-in roles are code: `erpcore.access`)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from erpcore.domain.audit import GENESIS
from erpcore.models.base import Base, BigId, Timestamped


class Role(Timestamped, Base):
    """A custom role: a name and a description; what it may do is its `role_permission` rows."""

    __tablename__ = "role"

    name: Mapped[str] = mapped_column(String(24), primary_key=True)
    description: Mapped[str] = mapped_column(String(200), default="")


class RolePermission(Base):
    __tablename__ = "role_permission"

    role: Mapped[str] = mapped_column(String(24), ForeignKey("role.name", ondelete="CASCADE"), primary_key=True)
    permission: Mapped[str] = mapped_column(String(80), primary_key=True)


class AuditChain(Base):
    """One of the audit trail's chains: how many entries it has, the hash of its last one and of the one before,
    and its anchor: the seq and hash of the last entry archived (0 and GENESIS: none), where verification starts."""

    __tablename__ = "audit_chain"

    chain: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigId, default=0)
    head_hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))  # the head before the last entry (what it linked onto)
    anchor_seq: Mapped[int] = mapped_column(BigId, default=0, server_default="0")
    anchor_hash: Mapped[str] = mapped_column(String(64), default=GENESIS, server_default=GENESIS)
