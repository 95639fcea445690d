"""Fuzzing one OpenAPI operation with schemathesis, shared by the ERP API's and the monitor's fuzz tests.

Each generated request (valid and invalid, bounded and derandomized, no shrinking) must get no 5xx, no stack
trace in its body, a response that conforms to the schema (status declared, content type, headers, body), and,
when refused (4xx), must leave every counted thing (rows per table, silences, ...) as it was.
"""

from __future__ import annotations

import os
import traceback
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

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

EXAMPLES = int(os.environ.get("ERPOPS_FUZZ_EXAMPLES", "16"))
STACK_TRACE = ("Traceback (most recent call last)", 'File "/', "sqlalchemy.exc", "psycopg.errors")
CHECKS = [status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
Counts = Callable[[], dict[str, int]]


def operations(app: Any, schema_url: str, wanted: Callable[[str], bool]) -> list[Any]:
    """The operations of `app`'s OpenAPI document (at `schema_url`) whose path is `wanted`; an operation
    schemathesis cannot read fails here, by name."""
    schema = schemathesis.openapi.from_asgi(schema_url, app)
    found = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    return [op for op in found if wanted(op.path)]


def session(app: Any) -> Any:
    """The in-process client schemathesis calls the app through (server errors re-raised, see below)."""
    return ASGIClient(app)


def row_counter(engine: Engine) -> Counts:
    """A function returning every table's row count, in one statement."""
    tables = sorted(t for t in inspect(engine).get_table_names() if t != "alembic_version")
    sql = text("SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}") AS "{t}"' for t in tables))

    def counts() -> dict[str, int]:
        with engine.connect() as conn:
            return dict(conn.execute(sql).mappings().one())

    return counts


def fuzz_operation(operation: Any, headers: Mapping[str, str], counts: Counts, session: Any,
                   statuses: Counter[int], examples: int = EXAMPLES) -> list[str]:
    """Run bounded examples of one operation with `headers` (its credentials); returns the problems found."""
    problems: list[str] = []
    strategy = st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                         operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None, print_blob=False,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])  # no shrinking
    @given(case=strategy)
    def run(case: Any) -> None:
        before = counts()
        try:
            response = case.call(headers=dict(headers), session=session)
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
            case.validate_response(response, checks=CHECKS, headers=dict(headers))
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
