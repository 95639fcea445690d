"""Bearer tokens: 401 without or with an unknown token, 403 for the wrong role, viewers read only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from erpcore.access import PERMISSIONS, allowed, create_token, lookup, revoke_token, token_hash
from erpcore.access import AccessRole as Role
from erpcore.exceptions import NotFound, ValidationFailed
from erpcore.models import ApiToken
from tests.e2e.api.conftest import V1, Api


def test_missing_or_unknown_token_is_401(api: Api) -> None:
    missing = api.get("/items", role=None)
    assert missing.status_code == 401 and missing.json()["code"] == "unauthorized"
    assert missing.headers["www-authenticate"] == "Bearer"
    unknown = api.client.get(V1 + "/items", headers={"Authorization": "Bearer erp_nope"})
    assert unknown.status_code == 401 and "unknown" in unknown.json()["detail"]
    assert api.post("/customers", {"code": "X", "name": "x"}, role=None).status_code == 401


def test_wrong_role_is_403_and_writes_nothing(api: Api) -> None:
    w = api.world()
    refused = api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
        {"item_id": w["item_id"], "quantity": "1"}]}, role="purchasing")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert api.ok(api.get("/sales-orders"))["items"] == []
    assert api.post("/suppliers", {"code": "S", "name": "s"}, role="sales").status_code == 403
    assert api.get("/reports/trial-balance", role="sales", date_from="2024-01-01",
                   date_to="2024-12-31").status_code == 403


def test_viewer_reads_everything_and_writes_nothing(api: Api) -> None:
    w = api.world()
    for path in ("/items", "/sales-orders", "/supplier-invoices", "/reports/stock-valuation"):
        assert api.get(path, role="viewer").status_code == 200, path
    assert api.post("/customers", {"code": "V", "name": "v"}, role="viewer").status_code == 403
    assert api.post("/purchase-requisitions", {"item_id": w["item_id"], "quantity": "1"},
                    role="viewer").status_code == 403


def test_tokens_are_stored_hashed(api: Api) -> None:
    token = create_token(api.erp, "finance", "books")
    with api.erp.session_factory() as s:
        row = s.execute(select(ApiToken).where(ApiToken.name == "books")).scalar_one()
    assert row.token_hash == token_hash(token) and token not in row.token_hash and row.role == "finance"
    with pytest.raises(ValidationFailed, match="unknown role"):
        create_token(api.erp, "root", "x")


def test_least_privilege_table() -> None:
    assert all(allowed(Role.ADMIN, p) for p in PERMISSIONS)
    assert [p for p in PERMISSIONS if allowed(Role.VIEWER, p)] == [p for p in PERMISSIONS if p.endswith(".read")
                                                                 and not p.startswith("audit.")]
    assert not allowed(Role.WAREHOUSE, "purchase.payment.post") and allowed(Role.WAREHOUSE, "warehouse.receipt.post")
    assert not allowed(Role.SALES, "purchase.order.create") and allowed(Role.FINANCE, "finance.report.read")
    assert not allowed(Role.WAREHOUSE, "payments:write") and allowed(Role.WAREHOUSE, "receiving:write")  # old names


def test_a_revoked_token_is_401_at_once(api: Api) -> None:
    assert api.get("/items", role="viewer").status_code == 200
    principal = lookup(api.erp.engine, api.token("viewer"))
    assert principal is not None
    revoke_token(api.erp, principal.token_id)
    assert api.get("/items", role="viewer").status_code == 401
    with pytest.raises(NotFound):
        revoke_token(api.erp, principal.token_id)
