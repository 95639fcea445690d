"""Declarative base, shared column types and naming conventions for the schema."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, Numeric, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Money and quantities: exact Numeric on PostgreSQL. SQLite stores NUMERIC as REAL; values are
# rounded back to 4 places on read and the integrity check compares at cent precision.
Amount = Numeric(18, 4, asdecimal=True)
Rate = Numeric(9, 6, asdecimal=True)

# BIGINT on PostgreSQL, INTEGER (the rowid alias that autoincrements) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")

intpk = Annotated[int, mapped_column(BigId, primary_key=True, autoincrement=True)]
money = Annotated[Decimal, mapped_column(Amount, nullable=False)]
qty = Annotated[Decimal, mapped_column(Amount, nullable=False)]
code = Annotated[str, mapped_column(String(40), nullable=False, unique=True)]
status = Annotated[str, mapped_column(String(24), nullable=False, index=True)]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        Decimal: Amount,
        dt.datetime: DateTime(timezone=True),
        str: String(200),
    }


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, server_default=func.now()
    )
