"""The ERP core over HTTP: FastAPI under `/api/v1` (`erpcore.api.app.create_app`), problem+json errors, bearer
tokens, idempotent POSTs."""
