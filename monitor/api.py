"""The operations endpoints under `/api/monitor`, every one behind the API's bearer tokens (`monitor.access`).

Errors are the API's own problem+json (`erpcore.api.errors`): 401, 403, 404, 422 with a `detail` sentence.

    GET    /silences             ops.monitor.read   shaped like Alertmanager's `/api/v2/silences`
    POST   /silences             ops.monitor.write  bounded, finite windows; `confirm` to mute every critical alert
    DELETE /silences/{id}        ops.monitor.write
    GET    /rules, /rules/{name} ops.monitor.read   what an alert's `generatorURL` points at
    GET    /runbooks/{name}      ops.monitor.read   the runbook Markdown an alert's `runbook_url` points at
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from erpcore.exceptions import NotFound
from monitor.access import OPERATIONS_READ, OPERATIONS_WRITE, require
from monitor.silences import MATCHER_HEAD, MAX_MATCHER, SilenceStore

router = APIRouter(prefix="/api/monitor", tags=["monitor"])
Reader = Annotated[object, Depends(require(OPERATIONS_READ))]
Writer = Annotated[object, Depends(require(OPERATIONS_WRITE))]
Time = Annotated[float | None, Field(None, allow_inf_nan=False, description="seconds since the epoch")]


class SilenceIn(BaseModel):
    # the matcher's start is declared so the schema tells clients (and the fuzzer) its shape; the silence itself
    # checks it, with a sentence that says what a matcher is (a regex must compile)
    matchers: list[Annotated[str, Field(max_length=MAX_MATCHER, json_schema_extra={"pattern": MATCHER_HEAD})]] = Field(
        min_length=1, max_length=64, examples=[['alertname="HostDiskFull"', 'instance=~"db.*"']])
    createdBy: str = Field(max_length=200)
    comment: str = Field(max_length=2000)
    startsAt: Time = None
    endsAt: Time = None
    duration: str | None = Field(None, max_length=32, examples=["2h"])
    confirm: bool = Field(False, description="create it even though it mutes every critical alert")


@router.get("/silences")
def list_silences(_: Reader) -> list[dict[str, Any]]:
    from monitor.operations import silence_store

    now = time.time()
    return [{**s.to_dict(), "status": {"state": s.state(now)}} for s in silence_store().all()]


@router.post("/silences", status_code=201)
def add_silence(body: SilenceIn, _: Writer) -> dict[str, Any]:
    from monitor.operations import create_silence

    silence = create_silence(body.matchers, body.createdBy, body.comment, starts_at=body.startsAt,
                             ends_at=body.endsAt, duration=body.duration, confirm=body.confirm)
    return {"silenceID": silence.id, **silence.to_dict()}


@router.delete("/silences/{silence_id}")
def expire_silence(silence_id: Annotated[str, Path(max_length=64)], _: Writer) -> dict[str, Any]:
    from monitor.operations import silence_store

    store: SilenceStore = silence_store()
    silence = store.expire(silence_id, time.time())
    return {**silence.to_dict(), "status": {"state": silence.state(time.time())}}


@router.get("/rules")
def list_rules(_: Reader) -> list[dict[str, Any]]:
    from monitor.operations import rule_rows

    return rule_rows()


@router.get("/rules/{name}")
def show_rule(name: Annotated[str, Path(max_length=200)], _: Reader) -> dict[str, Any]:
    from monitor.operations import rule_rows

    for row in rule_rows():
        if row["alert"] == name:
            return row
    raise NotFound(f"no rule {name}; GET /api/monitor/rules lists them")


@router.get("/runbooks/{name}", response_class=PlainTextResponse)
def show_runbook(name: Annotated[str, Path(max_length=200)], _: Reader) -> PlainTextResponse:
    from monitor.runbook_pages import runbook_markdown

    return PlainTextResponse(runbook_markdown(name), media_type="text/markdown; charset=utf-8")
