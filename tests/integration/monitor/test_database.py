"""Probes, business counters and alert events on both backends (SQLite and PostgreSQL)."""

from __future__ import annotations

import time

from sqlalchemy import Engine, create_engine, select

from erpcore.alerts import raise_alert
from erpcore.models import OutboxMessage
from monitor.business import business_samples
from monitor.events import take_alert_events
from monitor.probes import probe_database


def by_name(samples: list) -> dict[str, float]:  # type: ignore[type-arg]
    return {s.labels["__name__"]: s.value for s in samples}


def test_probe_reports_up_and_the_backend_figures(engine: Engine, backend: str) -> None:
    result = probe_database(engine)
    values = by_name(result.samples)
    assert values["erpops_db_up"] == 1.0
    assert 0 < values["erpops_db_probe_seconds"] < 5
    assert values["erpops_db_size_bytes"] > 0
    assert "up, probe took" in result.reason
    if backend == "pg":
        assert 0 < values["erpops_pg_connections_used_ratio"] <= 1
        assert 0 <= values["erpops_pg_cache_hit_ratio"] <= 1
        dead = [s for s in result.samples if s.labels["__name__"] == "erpops_pg_dead_tuples"]
        assert {s.labels["table"] for s in dead} <= {"journal_line", "stock_move", "journal_entry",
                                                    "sales_order_line", "outbox", "audit_event"}
    else:
        assert "erpops_sqlite_freelist_ratio" in values


def test_probe_of_a_dead_database_is_down_with_a_reason() -> None:
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1})
    result = probe_database(engine)
    assert by_name(result.samples) == {"erpops_db_up": 0.0}
    assert result.reason.startswith("postgresql does not answer")


def test_business_counters_and_alert_events(engine: Engine) -> None:
    raise_alert(engine, "SupplierInvoiceOnHold", "invoice 7 held", "warning", {"component": "erp", "document": "7"})
    raise_alert(engine, "SupplierInvoiceOnHold", "invoice 7 released", "warning",
                {"component": "erp", "document": "7"}, status="resolved")
    values = by_name(business_samples(engine))
    assert values["erpops_rule_interceptions_total"] == 2
    assert values["erpops_outbox_backlog"] == 2
    assert 0 <= values["erpops_outbox_oldest_age_seconds"] < 600
    now = time.time()
    alerts = take_alert_events(engine, now, 300.0, api_url="http://erp.example:8000")
    assert [a.name for a in alerts] == ["SupplierInvoiceOnHold"] * 2
    firing, resolved = alerts
    assert not firing.resolved(now) and firing.ends_at is not None and firing.ends_at > now
    assert resolved.resolved(now) and firing.fp == resolved.fp
    assert firing.annotations["runbook_url"] == "http://erp.example:8000/api/monitor/runbooks/SupplierInvoiceOnHold"
    assert take_alert_events(engine, now, 300.0) == []
    with engine.connect() as conn:
        assert conn.execute(select(OutboxMessage.published_at)).scalars().all()[0] is not None
    assert by_name(business_samples(engine))["erpops_outbox_backlog"] == 0


def test_postgres_slot_state_and_long_transaction(engine: Engine, backend: str) -> None:
    import uuid

    from sqlalchemy import text

    if backend != "pg":
        assert "erpops_pg_replication_slot_active" not in by_name(probe_database(engine).samples)
        return
    slot = "erpops_t_" + uuid.uuid4().hex[:10]
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_create_physical_replication_slot(:s)"), {"s": slot})
    try:
        with engine.connect() as other:
            other.execute(text("SELECT pg_sleep(0.05)"))  # a transaction left open on purpose
            result = probe_database(engine)
    finally:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_drop_replication_slot(:s)"), {"s": slot})
    slots = {s.labels["slot"]: s.value for s in result.samples
             if s.labels["__name__"] == "erpops_pg_replication_slot_active"}
    assert slots[slot] == 0.0
    assert by_name(result.samples)["erpops_pg_longest_transaction_seconds"] >= 0.05
