"""REST for silences, under `/api/monitor/silences`, shaped like Alertmanager's `/api/v2/silences`."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from erpcore.exceptions import ErpError
from monitor.clock import parse_duration
from monitor.silences import SilenceStore, new_silence

router = APIRouter(prefix="/api/monitor", tags=["monitor"])


class SilenceIn(BaseModel):
    matchers: list[str] = Field(min_length=1, examples=[['alertname="HostDiskFull"', 'instance=~"db.*"']])
    createdBy: str
    comment: str
    startsAt: float | None = None
    endsAt: float | None = None
    duration: str | None = Field(None, examples=["2h"])


def store() -> SilenceStore:
    from monitor.settings import load_monitor_settings

    return SilenceStore(load_monitor_settings().silences_path)


def _fail(exc: ErpError) -> HTTPException:
    return HTTPException(exc.status_code, detail={"code": exc.code, "message": exc.message})


@router.get("/silences")
def list_silences() -> list[dict[str, Any]]:
    now = time.time()
    return [{**s.to_dict(), "status": {"state": s.state(now)}} for s in store().all()]


@router.post("/silences", status_code=201)
def add_silence(body: SilenceIn) -> dict[str, Any]:
    now = time.time()
    starts = body.startsAt or now
    try:
        ends = body.endsAt or starts + parse_duration(body.duration or "1h")
        silence = store().add(new_silence(body.matchers, starts, ends, body.createdBy, body.comment))
    except ErpError as exc:
        raise _fail(exc) from None
    except ValueError as exc:
        raise HTTPException(422, detail={"code": "validation_failed", "message": str(exc)}) from None
    return {"silenceID": silence.id, **silence.to_dict()}


@router.delete("/silences/{silence_id}")
def expire_silence(silence_id: str) -> dict[str, Any]:
    try:
        silence = store().expire(silence_id, time.time())
    except ErpError as exc:
        raise _fail(exc) from None
    return {**silence.to_dict(), "status": {"state": silence.state(time.time())}}
