"""The OpenAPI document declares the problem+json answers each route really gives."""

from __future__ import annotations

from typing import Any

from erpcore.api import openapi
from erpcore.api.openapi import MAY_BE_MISSING
from tests.e2e.api.conftest import V1, Api
from tests.factories import uid

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _operations(api: Api) -> list[tuple[str, str, dict[str, Any]]]:
    schema = api.client.get(V1 + "/openapi.json").json()
    return [(path, method, op) for path, item in schema["paths"].items() if path.startswith(V1)
            for method, op in item.items()]


def test_every_post_declares_401_403_409_413_and_422_as_problems(api: Api) -> None:
    posts = [(path, op) for path, method, op in _operations(api) if method == "post"]
    assert len(posts) >= 20
    for path, op in posts:
        for status in ("401", "403", "409", "413", "422"):
            assert op["responses"][status]["content"] == PROBLEM, (path, status)
        assert "HTTPValidationError" not in str(op["responses"]), path


def test_reads_declare_401_403_and_404_where_an_id_is_in_the_path(api: Api) -> None:
    missing = {(path, method) for path, method, op in _operations(api) if op.get(MAY_BE_MISSING)}
    assert {("/api/v1/reports/payroll-summary", "get"), ("/api/v1/customer-returns", "post"),
            ("/api/v1/supplier-returns", "post")} <= missing
    for path, method, op in _operations(api):
        declared = set(op["responses"])
        assert {"401", "403"} <= declared, path
        assert ("404" in declared) == ("{" in path or (path, method) in missing), path
        if method == "get":
            assert not {"409", "413"} & declared, path


def test_the_problem_schema_is_published(api: Api) -> None:
    schema = api.client.get(V1 + "/openapi.json").json()
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code"}
    assert "errors" in problem["properties"]
    assert "401" not in str(schema["paths"]["/healthz"]["get"]["responses"])  # the probe needs no token


def test_the_declared_answers_are_the_real_ones(api: Api) -> None:
    declared = {(path, method): set(op["responses"]) for path, method, op in _operations(api)}
    cases = [
        (api.post("/customers", {"code": uid("C"), "name": "x"}, role=None), V1 + "/customers", "post"),
        (api.post("/customers", {"code": uid("C"), "name": "x"}, role="viewer"), V1 + "/customers", "post"),
        (api.post("/customers", {"code": "", "name": "x"}), V1 + "/customers", "post"),
        (api.get("/items/999999"), V1 + "/items/{item_id}", "get"),
        (api.post("/sales-orders/999999/approve"), V1 + "/sales-orders/{order_id}/approve", "post"),
        (api.get("/items", limit=0), V1 + "/items", "get"),
    ]
    for response, path, method in cases:
        assert response.headers["content-type"] == "application/problem+json", response.text
        assert str(response.status_code) in declared[(path, method)], (path, response.status_code)


def test_problems_of_follows_the_route_shape() -> None:
    assert openapi.problems_of("/api/v1/items", "get", {}) == [401, 403]
    assert openapi.problems_of("/api/v1/items", "post", {}) == [401, 403, 409, 413, 422]
    assert openapi.problems_of("/api/v1/items/{id}", "get", {"parameters": [{}]}) == [401, 403, 404, 422]
