"""The ERP core over HTTP: FastAPI under `/api/v1`, problem+json errors, bearer tokens, idempotent POSTs."""

from erpcore.api.app import create_app

__all__ = ["create_app"]
