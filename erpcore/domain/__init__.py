"""The ERP domain in plain Python: no SQLAlchemy, no FastAPI, no I/O."""
