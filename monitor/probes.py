"""Database probes for SQLite and PostgreSQL: up, probe time, connections, transactions, locks, bloat.

Each probe returns samples and a sentence; a database that does not answer is `erpops_db_up 0`
with the reason, never an exception, so the rules can alert on it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from monitor.tsdb import Sample

BIG_TABLES = ("journal_line", "stock_move", "journal_entry", "sales_order_line", "outbox", "audit_event")


@dataclass(frozen=True)
class ProbeResult:
    samples: list[Sample]
    reason: str


def _s(name: str, value: float, **labels: str) -> Sample:
    return Sample({"__name__": name, **labels}, float(value))


def probe_database(engine: Engine) -> ProbeResult:
    """Probe the database once; on failure report it down with the error as the reason."""
    backend = engine.dialect.name
    started = time.perf_counter()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar_one()
            elapsed = time.perf_counter() - started
            samples = [_s("erpops_db_up", 1, backend=backend), _s("erpops_db_probe_seconds", elapsed, backend=backend)]
            samples += _postgres(conn) if backend == "postgresql" else _sqlite(conn)
            conn.rollback()
    except Exception as exc:
        return ProbeResult([_s("erpops_db_up", 0, backend=backend)], f"{backend} does not answer: {_first_line(exc)}")
    pool = engine.pool
    if hasattr(pool, "checkedout") and hasattr(pool, "size"):
        samples += [_s("erpops_db_pool_checked_out", pool.checkedout()), _s("erpops_db_pool_size", pool.size())]
    return ProbeResult(samples, f"{backend} up, probe took {elapsed * 1000:.1f} ms")


def _sqlite(conn: Connection) -> list[Sample]:
    page_size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
    pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
    free = conn.exec_driver_sql("PRAGMA freelist_count").scalar_one()
    return [
        _s("erpops_db_size_bytes", page_size * pages, backend="sqlite"),
        _s("erpops_sqlite_freelist_ratio", free / pages if pages else 0.0),
    ]


PG_STATS = """
SELECT
  (SELECT count(*) FROM pg_stat_activity) AS used,
  current_setting('max_connections')::float AS max_conn,
  (SELECT coalesce(max(extract(epoch FROM now() - xact_start)), 0) FROM pg_stat_activity
     WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid() AND backend_type = 'client backend') AS longest,
  (SELECT count(*) FROM pg_locks WHERE NOT granted) AS waiting,
  d.deadlocks, d.blks_hit, d.blks_read, pg_database_size(current_database()) AS size
FROM pg_stat_database d WHERE d.datname = current_database()
"""


def _postgres(conn: Connection) -> list[Sample]:
    row = conn.execute(text(PG_STATS)).one()
    hits, reads = float(row.blks_hit or 0), float(row.blks_read or 0)
    out = [
        _s("erpops_pg_connections_used", row.used),
        _s("erpops_pg_connections_max", row.max_conn),
        _s("erpops_pg_connections_used_ratio", row.used / row.max_conn),
        _s("erpops_pg_longest_transaction_seconds", float(row.longest)),
        _s("erpops_pg_locks_waiting", row.waiting),
        _s("erpops_pg_deadlocks_total", row.deadlocks or 0),
        _s("erpops_pg_cache_hit_ratio", hits / (hits + reads) if hits + reads else 1.0),
        _s("erpops_db_size_bytes", row.size, backend="postgresql"),
    ]
    for r in conn.execute(text(
        "SELECT application_name, coalesce(extract(epoch FROM replay_lag), 0) AS lag,"
        " coalesce(pg_wal_lsn_diff(sent_lsn, replay_lsn), 0) AS lag_bytes FROM pg_stat_replication"
    )):
        out += [_s("erpops_pg_replication_lag_seconds", float(r.lag), replica=r.application_name),
                _s("erpops_pg_replication_lag_bytes", float(r.lag_bytes), replica=r.application_name)]
    for r in conn.execute(text(
        "SELECT slot_name, active::int AS active, coalesce(pg_wal_lsn_diff("
        " CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END,"
        " restart_lsn), 0) AS retained FROM pg_replication_slots"
    )):
        out += [_s("erpops_pg_replication_slot_active", r.active, slot=r.slot_name),
                _s("erpops_pg_replication_slot_retained_bytes", float(r.retained), slot=r.slot_name)]
    for r in conn.execute(text(
        "SELECT relname, n_dead_tup, n_live_tup FROM pg_stat_user_tables"
        " WHERE schemaname = current_schema() AND relname = ANY(:tables)"
    ), {"tables": list(BIG_TABLES)}):
        total = r.n_dead_tup + r.n_live_tup
        out += [_s("erpops_pg_dead_tuples", r.n_dead_tup, table=r.relname),
                _s("erpops_pg_dead_tuple_ratio", r.n_dead_tup / total if total else 0.0, table=r.relname)]
    return out


def database_up(result: ProbeResult) -> bool:
    """Whether the probe reached the database (`erpops_db_up 1`)."""
    return any(s.labels["__name__"] == "erpops_db_up" and s.value == 1 for s in result.samples)


def _first_line(exc: Exception) -> str:
    """The driver's own message in one line (SQLAlchemy adds a wrapper name and a link on more lines)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return " ".join(text.splitlines()[:1])[:300] or exc.__class__.__name__
