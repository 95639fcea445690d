"""Every moment the API returns carries its offset: SQLite hands back naive UTC, and a bare `datetime` field
would put "2026-12-03T10:19:13" (not an RFC 3339 `date-time`) on the wire, which the fuzz test caught."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
import types
import typing

from pydantic import BaseModel

from erpcore import api
from erpcore.api import schemas


def _models() -> set[type[BaseModel]]:
    """Every body model of the API (routes, schemas, plugins' models under `erpcore.api`), nested ones too."""
    found: set[type[BaseModel]] = set()
    for info in pkgutil.iter_modules(api.__path__, "erpcore.api."):
        module = importlib.import_module(info.name)
        found.update(v for v in vars(module).values()
                     if isinstance(v, type) and issubclass(v, BaseModel) and v.__module__ == info.name)
    return found


def _is_datetime(annotation: object) -> bool:
    return annotation is dt.datetime or (isinstance(annotation, types.UnionType)
                                         and dt.datetime in typing.get_args(annotation))


def test_every_returned_datetime_is_a_timestamp_with_its_offset() -> None:
    bare, checked = [], []
    for model in _models():
        for name, field in model.model_fields.items():
            if _is_datetime(field.annotation):
                checked.append(f"{model.__name__}.{name}")
                if not any(getattr(m, "func", None) is schemas.utc for m in field.metadata):
                    bare.append(f"{model.__name__}.{name}")
    assert "ShippingInstructionOut.created_at" in checked  # the walk reaches the models
    assert bare == [], f"use schemas.Timestamp, not dt.datetime: {bare}"


def test_a_naive_moment_leaves_as_utc() -> None:
    class Out(BaseModel):
        at: schemas.Timestamp

    assert Out(at=dt.datetime(2026, 12, 3, 10, 19)).model_dump_json() == '{"at":"2026-12-03T10:19:00Z"}'


def test_every_integer_parameter_is_bounded() -> None:
    """An integer query or path parameter without a maximum reaches the database as a Python int past BIGINT (and
    SQLite's INTEGER): a 500. `limit` is the one bounded at run time, by `api.page_size_max`."""
    from sqlalchemy import create_engine

    from erpcore.api.app import create_app

    doc = create_app(create_engine("sqlite://")).openapi()
    unbounded = [f"{method.upper()} {path} {p['name']}" for path, operations in doc["paths"].items()
                 for method, op in operations.items() for p in op.get("parameters", [])
                 for s in p["schema"].get("anyOf", [p["schema"]])
                 if s.get("type") == "integer" and "maximum" not in s and p["name"] != "limit"]
    assert unbounded == []
