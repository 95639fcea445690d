"""Dependencies the routers share: the wired ERP, id path parameters, list filters and pages."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import typing
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from erpcore import access
from erpcore.access import Actor
from erpcore.api import replay
from erpcore.api.auth import require
from erpcore.api.keystore import Claim
from erpcore.api.schemas import LineQuantityIn
from erpcore.exceptions import ValidationFailed
from erpcore.services.bootstrap import Erp
from erpcore.services.unit_of_work import Step, UnitOfWork

MAX_ID = 2**63 - 1
R = TypeVar("R")


async def get_erp(request: Request) -> Erp:
    """The ERP the app was built with (async: FastAPI would run a plain function on a worker thread)."""
    erp: Erp = request.app.state.erp
    return erp


ErpDep = Annotated[Erp, Depends(get_erp)]
IdPath = Annotated[int, Path(gt=0, le=MAX_ID, description="the document's id")]
# a list filter by a related document's id: bounded like ids, or SQLite cannot even bind it (a 500)
IdFilter = Annotated[int | None, Query(gt=0, le=MAX_ID, description="only those of this id")]


@dataclass(frozen=True)
class ListParams:
    """Filters and pagination common to every list: by id ascending, offset or after-id."""

    limit: int
    offset: int
    after: int | None
    status: str | None
    date_from: dt.date | None
    date_to: dt.date | None


async def list_params(
    request: Request,
    limit: Annotated[int, Query(ge=1, description="page size, at most api.page_size_max")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID, description="only ids greater than this")] = None,
    status: Annotated[str | None, Query(max_length=24)] = None,
    date_from: Annotated[dt.date | None, Query(description="document date on or after")] = None,
    date_to: Annotated[dt.date | None, Query(description="document date on or before")] = None,
) -> ListParams:
    """Read the list query parameters, bounding `limit` by the configuration."""
    most = request.app.state.erp.settings.api.page_size_max
    if limit > most:
        raise ValidationFailed(f"limit: must be at most {most} (got {limit})")
    return ListParams(limit, offset, after, status, date_from, date_to)


ListDep = Annotated[ListParams, Depends(list_params)]


def page(request: Request, rows: Sequence[dict[str, Any]], params: ListParams) -> dict[str, Any]:
    """`{"items": [...], "next": url}`; rows holds up to limit + 1 rows, the extra one meaning more exist."""
    items = list(rows[: params.limit])
    if len(rows) <= params.limit:
        return {"items": items, "next": None}
    url = request.url.remove_query_params("offset").include_query_params(after=items[-1]["id"])
    return {"items": items, "next": f"{url.path}?{url.query}"}


def line_quantities(lines: list[LineQuantityIn] | None) -> dict[int, Decimal] | None:
    """Request lines as the services take them; a line number given twice is summed."""
    if lines is None:
        return None
    wanted: dict[int, Decimal] = {}
    for line in lines:
        wanted[line.line_no] = wanted.get(line.line_no, Decimal(0)) + line.quantity
    return wanted


def writer(service: Callable[..., object], document: str | None) -> Callable[..., Awaitable[UnitOfWork]]:
    """A dependency giving the route a unit of work for `service`, acting as the authenticated caller.

    It refuses callers without the service's declared permission (401/403) before the body is used, and
    when the request carries an Idempotency-Key (claimed by the middleware), the unit of work marks the key
    applied in the business transaction itself, with the `document` (a `replay.KINDS` name, or None) the
    request wrote, so a committed write is never run twice and a retry whose response was lost gets the document.
    """
    caller = Depends(require(access.permission_of(service)))
    if document is not None and document not in replay.KINDS:
        raise KeyError(f"unknown document kind {document!r}")

    async def dependency(request: Request, actor: Actor = caller) -> UnitOfWork:
        claim = getattr(request.state, "idempotency", None)
        if not isinstance(claim, Claim):
            steps: tuple[Step, ...] = ()
        elif document is None:  # an action whose retry replays its stored response only
            steps = (claim.mark_applied,)
        else:
            steps = (replace(claim, locate=replay.locator(document, request)).mark_applied,)
        erp: Erp = request.app.state.erp
        return erp.uow(actor, steps)

    return dependency


def offloaded(route: Callable[..., R]) -> Callable[..., Awaitable[R]]:
    """Run a blocking route on a worker thread with its reply validated back on the event loop.

    FastAPI runs a plain `def` route on a thread and then hands its reply to a thread again to validate
    it: two hand-offs per request, each a GIL round on a busy server. As a coroutine the route takes one.
    The signature FastAPI reads is the route's, with its annotations already resolved.
    """
    hints = typing.get_type_hints(route, include_extras=True)
    signature = inspect.signature(route)
    signature = signature.replace(
        parameters=[p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()],
        return_annotation=hints.get("return", signature.return_annotation))

    @functools.wraps(route)
    async def run(*args: Any, **kwargs: Any) -> R:
        return await run_in_threadpool(route, *args, **kwargs)

    run.__signature__ = signature  # type: ignore[attr-defined]
    return run
