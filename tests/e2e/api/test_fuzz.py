"""The API fuzzed from its own OpenAPI schema (schemathesis): valid and invalid requests for every operation.

For every generated request, authenticated as an admin: no 5xx, no stack trace in the body, the response
conforms to the schema (status declared, body valid), and a rejected request (4xx) writes no row in any table
(every table's row count before and after). Examples per operation are bounded (ERPOPS_FUZZ_EXAMPLES) and
derandomized, so `make test` stays fast and a failure reproduces.
"""

from __future__ import annotations

import os
import traceback
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.python.asgi import ASGIClient
from sqlalchemy import Engine, inspect, text

from tests.e2e.api.conftest import V1, Api

EXAMPLES = int(os.environ.get("ERPOPS_FUZZ_EXAMPLES", "16"))
STACK_TRACE = ("Traceback (most recent call last)", 'File "/', "sqlalchemy.exc", "psycopg.errors")
CHECKS = [status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


def row_counter(engine: Engine) -> Callable[[], dict[str, int]]:
    """A function returning every table's row count, in one statement."""
    tables = sorted(t for t in inspect(engine).get_table_names() if t != "alembic_version")
    sql = text("SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}") AS "{t}"' for t in tables))

    def counts() -> dict[str, int]:
        with engine.connect() as conn:
            return dict(conn.execute(sql).mappings().one())

    return counts


def seed(api: Api) -> None:
    """Documents with small ids for generated path parameters to hit: a received PO, an approved order."""
    w = api.world()
    api.stock_up(w["supplier_id"], w["item_id"], "50")
    so = api.ok(api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
        {"item_id": w["item_id"], "quantity": "2"}]}), 201)["id"]
    api.ok(api.post(f"/sales-orders/{so}/approve"))


def fuzz_operation(operation: Any, api: Api, counts: Callable[[], dict[str, int]], session: Any,
                   statuses: Counter[int]) -> list[str]:
    """Run bounded examples of one operation; returns the problems found (empty: none)."""
    headers = api.headers("admin")
    problems: list[str] = []
    strategy = st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                         operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=False,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])  # no shrinking
    @given(case=strategy)
    def run(case: Any) -> None:
        before = counts()
        try:
            response = case.call(headers=headers, session=session)
        except Exception as exc:  # the in-process client re-raises what the app raised after its 500
            if isinstance(exc, ValueError) and "requests/models.py" in "".join(traceback.format_tb(exc.__traceback__)):
                return  # the client (requests) cannot even build this URL: nothing reached the API
            problems.append(f"{case.method} {case.formatted_path}: server raised {type(exc).__name__}: "
                            f"{str(exc).splitlines()[0][:300]}")
            return
        statuses[response.status_code] += 1
        where = f"{case.method} {case.formatted_path} -> {response.status_code}"
        body = response.text
        if response.status_code >= 500:
            problems.append(f"{where}: server error: {body[:300]}")
        if any(marker in body for marker in STACK_TRACE):
            problems.append(f"{where}: stack trace in the body: {body[:300]}")
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, BaseExceptionGroup) as exc:  # a schemathesis Failure, or a group of them
            for failure in getattr(exc, "exceptions", [exc]):
                problems.append(f"{where}: {type(failure).__name__}: {' '.join(str(failure).split())[:400]}")
        if 400 <= response.status_code < 500:
            after = counts()
            grown = {t: after[t] - before[t] for t in after if after[t] != before[t]}
            if grown:
                problems.append(f"{where}: a rejected request changed rows: {grown}")

    run()
    return problems


@pytest.mark.slow
def test_no_generated_request_breaks_the_api(api: Api) -> None:
    seed(api)
    schema = schemathesis.openapi.from_asgi(V1 + "/openapi.json", api.client.app)
    counts = row_counter(api.erp.engine)
    operations = [op for op in (result.ok() for result in schema.get_all_operations())
                  if op.path.startswith(V1) or op.path == "/healthz"]  # the ERP's API, not the tools' plugins
    assert len(operations) >= 30
    session = ASGIClient(api.client.app)
    statuses: Counter[int] = Counter()
    problems = [p for operation in operations for p in fuzz_operation(operation, api, counts, session, statuses)]
    assert problems == [], "\n".join(dict.fromkeys(problems))
    print(f"{sum(statuses.values())} requests over {len(operations)} operations: {dict(sorted(statuses.items()))}")
    assert statuses[201] > 0 and statuses[422] > 0  # it wrote documents, and it was refused

