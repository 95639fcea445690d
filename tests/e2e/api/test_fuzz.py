"""The API fuzzed from its own OpenAPI schema (schemathesis): valid and invalid requests for every operation.

For every generated request, authenticated as an admin: no 5xx, no stack trace in the body, the response
conforms to the schema (status declared, body valid), and a rejected request (4xx) writes no row in any table
(every table's row count before and after). Examples per operation are bounded (ERPOPS_FUZZ_EXAMPLES) and
derandomized, so `make test` stays fast and a failure reproduces.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.e2e.api.conftest import V1, Api
from tests.fuzzing import fuzz_operation, operations, row_counter, session


def seed(api: Api) -> None:
    """Documents with small ids for generated path parameters to hit: a received PO, an approved order."""
    w = api.world()
    api.stock_up(w["supplier_id"], w["item_id"], "50")
    so = api.ok(api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
        {"item_id": w["item_id"], "quantity": "2"}]}), 201)["id"]
    api.ok(api.post(f"/sales-orders/{so}/approve"))


@pytest.mark.slow
def test_no_generated_request_breaks_the_api(api: Api) -> None:
    seed(api)
    counts = row_counter(api.erp.engine)
    ops = operations(api.client.app, V1 + "/openapi.json",  # the ERP's API; `tests/e2e/monitor` fuzzes monitor's
                     lambda path: path.startswith(V1) or path == "/healthz")
    assert len(ops) >= 30
    client = session(api.client.app)
    statuses: Counter[int] = Counter()
    headers = api.headers("admin")
    problems = [p for operation in ops for p in fuzz_operation(operation, headers, counts, client, statuses)]
    assert problems == [], "\n".join(dict.fromkeys(problems))
    print(f"{sum(statuses.values())} requests over {len(ops)} operations: {dict(sorted(statuses.items()))}")
    assert statuses[201] > 0 and statuses[422] > 0  # it wrote documents, and it was refused

