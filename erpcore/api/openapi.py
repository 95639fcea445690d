"""The OpenAPI document tells the real error contract: each route's 4xx answers as `application/problem+json`.

Which answers a route can give follows from its shape, as `errors`, `gate` and `auth` produce them:

    a route with a request body      400 (the body is not parseable at all, e.g. not UTF-8)
    every route under /api/v1        401 (no or unknown token), 403 (the role lacks the permission)
    a route with an id in its path   404 (no such document); so does one that declares it (`NOT_FOUND`:
                                     a body naming its source document, a report of a month with nothing)
    every POST                       409 (a business conflict, an Idempotency-Key in flight), 413 (body too large)
    a route with parameters or body  422 (a field is invalid, named in `errors`)
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from erpcore.api.errors import PROBLEM_JSON, TITLES

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "An error (RFC 9457). `code` is the stable machine word, `detail` the sentence for people.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "examples": ["not_found", "request_invalid", "idempotency_key_in_flight"]},
        "errors": {"type": "array", "description": "for 422: every invalid field and what is wrong with it",
                   "items": {"type": "object", "required": ["field", "message"],
                             "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
        "details": {"type": "object", "description": "facts of a business refusal (e.g. the shortages)"},
    },
}
MAY_BE_MISSING = "x-may-be-missing"
NOT_FOUND: dict[str, Any] = {MAY_BE_MISSING: True}  # `openapi_extra` of a route whose 404 is not from its path
WHY = {
    400: "the body could not be parsed at all (not UTF-8, or not of the declared content type)",
    401: "no `Authorization: Bearer <token>` header, or the token is unknown or revoked",
    403: "the token's role does not hold the permission this route needs",
    404: "the document in the path does not exist",
    409: "the request conflicts with the documents' state, or its Idempotency-Key is still in flight",
    413: "the request body is larger than `api.max_body_bytes`",
    422: "a parameter or a field of the body is invalid (each named in `errors`)",
}


def problems_of(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    """The 4xx statuses an operation of the API can answer with."""
    statuses = [400] if operation.get("requestBody") else []
    statuses += [401, 403]
    if "{" in path or operation.get(MAY_BE_MISSING):
        statuses.append(404)
    if method == "post":
        statuses += [409, 413]
    if method == "post" or operation.get("parameters") or operation.get("requestBody"):
        statuses.append(422)
    return statuses


def declare_problems(schema: dict[str, Any], prefix: str) -> None:
    """Add the problem responses to every operation under `prefix` of an OpenAPI document, in place."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path, item in schema.get("paths", {}).items():
        if not path.startswith(prefix):
            continue
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            for status in problems_of(path, method, operation):
                responses[str(status)] = {"description": f"{TITLES[status]}: {WHY[status]}",
                                          "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}}


def document_problems(app: FastAPI, prefix: str) -> None:
    """Make `app.openapi()` declare the problem responses of the routes under `prefix`."""
    build = app.openapi
    done: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if not done:
            schema = build()
            declare_problems(schema, prefix)
            done.append(schema)
        return done[0]

    app.openapi = openapi  # type: ignore[method-assign]
