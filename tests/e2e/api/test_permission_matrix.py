"""The whole matrix of roles x API routes, generated from the mounted app: every route declares a permission
(or is one of the few public ones), refuses an anonymous caller (401), refuses every role without its
permission (403, recorded on the audit trail) and lets every role with it through (neither 401 nor 403).

Routes are enumerated from the app itself, plugins included, so a route added later is covered without
touching this file; one that declares no permission fails `test_every_route_declares_a_permission`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from sqlalchemy import func, select

from erpcore.access import AccessRole, Actor, create_token, holds
from erpcore.api.app import create_app
from erpcore.models import AuditEvent
from erpcore.services import roles
from erpcore.services.bootstrap import Erp
from tests.asgi import Client

# Public by design: liveness, and the API's own documentation.
PUBLIC = {("GET", "/healthz"), ("GET", "/api/v1/openapi.json"), ("HEAD", "/api/v1/openapi.json"),
          ("GET", "/api/v1/docs")}
CUSTOM = "credit_desk"
CUSTOM_GRANTS = ("sales.order.read", "sales.invoice.read", "sales.receipt.post")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    permission: str | None
    path_types: dict[str, Any]

    def url(self) -> str:
        """The path with every parameter filled by a value that names nothing (a grant then gets 404/409/422)."""
        url = self.path
        for name, kind in self.path_types.items():
            url = url.replace("{" + name + "}", "999999999" if kind is int else "1999-01")
        return url


def _permissions(dependant: Dependant) -> Iterator[str]:
    found = getattr(dependant.call, "permission", None)
    if isinstance(found, str) and dependant.call is not None and not hasattr(dependant.call, "__wrapped__"):
        yield found
    for sub in dependant.dependencies:
        yield from _permissions(sub)


def endpoints(app: Any) -> list[Endpoint]:
    """Every (method, path) the app serves, with the permission its dependencies declare."""
    found = []
    for context in iter_route_contexts(app.routes):
        dependant = getattr(context, "dependant", None)
        for method in sorted(context.methods or ()):
            if dependant is None:  # a plain starlette route: only the public ones may exist
                found.append(Endpoint(method, str(context.path), None, {}))
                continue
            declared = sorted(set(_permissions(dependant)))
            kinds = {p.name: p.field_info.annotation for p in dependant.path_params}
            found.append(Endpoint(method, str(context.path), declared[0] if len(declared) == 1 else
                                  (",".join(declared) or None), kinds))
    return found


@pytest.fixture
def matrix(erp: Erp) -> tuple[Client, dict[str, tuple[Actor, str]], list[Endpoint]]:
    app = create_app(erp)
    roles.create_role(erp.uow(), CUSTOM, CUSTOM_GRANTS)
    tokens = {}
    for role in [*(r.value for r in AccessRole), CUSTOM]:
        grants = frozenset(CUSTOM_GRANTS) if role == CUSTOM else None
        tokens[role] = (Actor(role, role, grants=grants), create_token(erp, role, f"matrix-{role}"))
    return Client(app), tokens, endpoints(app)


def test_every_route_declares_a_permission(matrix: tuple[Client, dict[str, Any], list[Endpoint]]) -> None:
    _, _, found = matrix
    assert len(found) > 40  # the core's routes and the plugins' are all seen
    missing = [f"{e.method} {e.path}" for e in found if (e.method, e.path) not in PUBLIC and
               (e.permission is None or "," in e.permission) and not e.path.startswith("/api/v1/docs-assets")]
    assert missing == [], "routes without exactly one declared permission"


def test_every_route_refuses_an_anonymous_caller(matrix: tuple[Client, dict[str, Any], list[Endpoint]]) -> None:
    client, _, found = matrix
    wrong = []
    for e in found:
        if e.permission is None:
            continue
        answer = client.request(e.method, e.url(), json={} if e.method in ("POST", "PUT", "PATCH") else None)
        if answer.status_code != 401:
            wrong.append(f"{e.method} {e.path}: {answer.status_code}")
    assert wrong == []


def test_every_role_on_every_route_is_denied_or_granted_as_the_table_says(
    erp: Erp, matrix: tuple[Client, dict[str, tuple[Actor, str]], list[Endpoint]],
) -> None:
    client, tokens, found = matrix
    wrong, denials, grants = [], 0, 0
    for e in found:
        if e.permission is None:
            continue
        for role, (actor, token) in tokens.items():
            answer = client.request(e.method, e.url(), headers={"Authorization": f"Bearer {token}"},
                                    json={} if e.method in ("POST", "PUT", "PATCH") else None)
            if holds(actor, e.permission):
                grants += 1
                if answer.status_code in (401, 403) or answer.status_code >= 500:
                    wrong.append(f"{role} should pass {e.method} {e.path} ({e.permission}): {answer.status_code}")
            else:
                denials += 1
                if answer.status_code != 403:
                    wrong.append(f"{role} should be refused {e.method} {e.path} ({e.permission}): "
                                 f"{answer.status_code}")
    assert wrong == []
    assert denials > 100 and grants > 100
    with erp.engine.connect() as conn:
        recorded = conn.execute(select(func.count()).select_from(AuditEvent)
                                .where(AuditEvent.outcome == "denied")).scalar_one()
    assert recorded == denials  # every refusal is on the audit trail
