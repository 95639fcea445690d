"""The one place that maps errors to HTTP: every error leaves as `application/problem+json` (RFC 9457).

    ErpError (and its tree)      -> its `status_code` (404, 409, 422, 401, 403), `code` and message
    gate.BodyTooLarge            -> 413 `body_too_large` (a chunked body crossed api.max_body_bytes)
    RequestValidationError       -> 422 `request_invalid`, naming the field (malformed JSON included)
    HTTPException                -> its status (unknown route 404, wrong method 405, tool routes)
    sqlalchemy IntegrityError    -> 409 `constraint_violated` (a check constraint refused the write)
    sqlalchemy DataError         -> 422 `value_out_of_range` (a value does not fit its column)
    sqlalchemy OperationalError  -> 503 `database_unavailable` with Retry-After (failover, restarts)
    anything else                -> 500 `internal_error`, without internals; the traceback is logged
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException

from erpcore.api.strict import DUPLICATE
from erpcore.exceptions import ErpError

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://erpops.dev/problems/"
log = logging.getLogger("erpcore.api")

TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
          405: "Method not allowed", 409: "Conflict", 413: "Content too large", 422: "Unprocessable content", 500: "Internal server error",
          503: "Service unavailable"}


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem+json response; `code` is the stable machine word, `detail` the sentence for people."""
    body = {"type": TYPE_BASE + code, "title": TITLES.get(status, "Error"), "status": status,
            "detail": detail, "code": code, **jsonable_encoder(extra)}
    headers = {401: {"WWW-Authenticate": "Bearer"}, 503: {"Retry-After": "1"}}.get(status)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def describe_validation(errors: Sequence[Any]) -> tuple[str, list[dict[str, str]]]:
    """One sentence naming every bad field, plus the fields as data."""
    fields = []
    for err in errors:
        if err.get("type") == "json_invalid":  # loc is ("body", character offset)
            reason = str(err.get("ctx", {}).get("error", "invalid JSON"))
            if reason.startswith(DUPLICATE):  # see `strict`: name the key given twice
                key = reason.removeprefix(DUPLICATE)
                fields.append({"field": key.strip('"'), "message": f"the key {key} is given more than once"})
                continue
            fields.append({"field": "body", "message": f"malformed JSON at character {err['loc'][-1]}: {reason}"})
            continue
        loc = [str(part) for part in err.get("loc", ()) if part not in ("body",)]
        fields.append({"field": ".".join(loc) or "body", "message": str(err.get("msg", "invalid"))})
    detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields) or "the request is invalid"
    return detail, fields


async def _erp_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ErpError)
    extra = {"details": exc.details} if exc.details else {}
    return problem(exc.status_code, exc.code, exc.message, **extra)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail, fields = describe_validation(exc.errors())
    return problem(422, "request_invalid", detail, errors=fields)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if isinstance(exc.detail, dict):  # tools raise HTTPException(detail={"code": ..., "message": ...})
        code, detail = str(exc.detail.get("code", "error")), str(exc.detail.get("message", exc.detail))
    else:  # an exception may name its code (`gate.BodyTooLarge`)
        default = TITLES.get(exc.status_code, "error").lower().replace(" ", "_")
        code, detail = str(getattr(exc, "code", None) or default), str(exc.detail)
    return problem(exc.status_code, code, detail)


def statement_error(exc: Exception) -> str:
    """What to log of a database error: its kind, SQLSTATE and constraint, and the statement, never the values.

    The driver's message may quote them (PostgreSQL: `DETAIL: Key (email)=(...) already exists`), so only
    the names PostgreSQL reports separately are kept; SQLite's messages name columns, not values.
    """
    orig = getattr(exc, "orig", None)
    diag = getattr(orig, "diag", None)
    if diag is not None:
        names = [f"{what} {value}" for what, value in (
            ("table", diag.table_name), ("column", diag.column_name), ("constraint", diag.constraint_name))
            if value]
        reason = f"{type(orig).__name__} (SQLSTATE {getattr(orig, 'sqlstate', '?')}{', ' if names else ''}" \
                 f"{', '.join(names)})"
    else:
        reason = f"{type(orig).__name__}: {orig}" if orig is not None else type(exc).__name__
    statement = " ".join(str(getattr(exc, "statement", "") or "").split())[:500]
    return f"{reason} in: {statement}"


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    log.warning("constraint refused a write on %s %s: %s", request.method, request.url.path, statement_error(exc))
    return problem(409, "constraint_violated", "the data refused the change (a constraint was violated); "
                   "re-read the document and retry")


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    log.warning("a value did not fit its column on %s %s: %s", request.method, request.url.path,
                statement_error(exc))
    return problem(422, "value_out_of_range", "a value is out of range or too long for its field")


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, statement_error(exc))
    return problem(503, "database_unavailable", "the database is unavailable or the statement was cancelled; "
                   "retry shortly")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "internal_error", "an unexpected error occurred; it has been logged")


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""
    app.add_exception_handler(ErpError, _erp_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)
