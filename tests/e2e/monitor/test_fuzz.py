"""The operations endpoints monitor mounts on the API (`/api/monitor`, through the `erpops.api` entry point),
fuzzed from the API's own OpenAPI schema with schemathesis, as `tests/e2e/api/test_fuzz.py` fuzzes the ERP's.

For every generated request, valid and invalid, authenticated as an admin: no 5xx, no stack trace in the body,
the response conforms to the schema (status declared, content type, body), and a refused request (4xx) changes
no row and no silence. Examples per operation are bounded (ERPOPS_FUZZ_EXAMPLES) and derandomized.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import Engine

from erpcore.api.app import PREFIX
from monitor.api import router
from monitor.operations import silence_store
from tests.e2e.monitor.conftest import OpsApi, make_ops
from tests.fuzzing import Counts, fuzz_operation, operations, row_counter, session


def _counts(engine: Engine) -> Counts:
    """Every table's rows, and the silences (monitor keeps them in a file, not in the database)."""
    rows = row_counter(engine)
    return lambda: {**rows(), "silences": len(silence_store().all())}


def test_no_generated_request_breaks_the_monitor_routes(engine: Engine, monitor_env: Path) -> None:
    ops = make_ops(engine)
    mounted = operations(ops.app, PREFIX + "/openapi.json", lambda path: path.startswith(router.prefix))
    assert {f"{op.method.upper()} {op.path}" for op in mounted} == {
        f"{method} {router.prefix}{path}" for method, path in [
            ("GET", "/silences"), ("POST", "/silences"), ("DELETE", "/silences/{silence_id}"), ("GET", "/rules"),
            ("GET", "/rules/{name}"), ("GET", "/runbooks/{name}")]}
    client = session(ops.app)
    statuses: Counter[int] = Counter()
    headers = ops.headers("admin")
    problems = [p for op in mounted for p in fuzz_operation(op, headers, _counts(engine), client, statuses)]
    assert problems == [], "\n".join(dict.fromkeys(problems))
    print(f"{sum(statuses.values())} requests over {len(mounted)} operations: {dict(sorted(statuses.items()))}")
    assert statuses[201] > 0 and statuses[422] > 0 and statuses[404] > 0  # silences made, refused, not found


def test_a_body_without_a_known_token_is_refused_before_it_is_read(ops: OpsApi) -> None:
    """The request gate authenticates before buffering on the monitor's routes too: an anonymous client
    cannot make the server read (up to `api.max_body_bytes` of) a silence it will refuse anyway."""
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(64):
            pulled += 1
            yield b" " * 65536

    for headers in ({}, {"Authorization": "Bearer erp_unknown"}):
        answer = ops.client.post(router.prefix + "/silences", content=body(),
                                 headers={"content-type": "application/json", **headers})
        assert answer.status_code == 401 and answer.json()["code"] == "unauthorized"
    assert pulled == 0 and silence_store().all() == []
