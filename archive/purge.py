"""The one place a session becomes the archive's purge session.

erpcore's triggers refuse deletes of journal entries, stock moves and posted documents unless the
transaction sets `erpops.allow_purge` AND the login is a member of the `erpops_archive` role (migration 0004;
superusers are members of every role). Grant that role to the login that runs `erpops archive`.

A purge transaction also hands its writes to the kernel for write-back as it goes (`backend_flush_after`,
off by default). A batch evicts the pages it dirtied from shared buffers itself; left in the page cache, they
went to disk in bursts (at write-back, and at each checkpoint's fsyncs) during which the business's commits
waited for their WAL flush: see `purge_settings`.
"""

from __future__ import annotations

from sqlalchemy import Connection, text


def purge_settings(lock_timeout_ms: int) -> dict[str, str]:
    """The settings of a purge transaction: allowed to delete archived rows, giving up on a lock after
    `lock_timeout_ms`, and flushing its data writes every 256 kB.

    The flush: at 5 years x 200 orders/day (2026-12-05, a 2-core machine, one seeded template cloned per trial)
    a run's backend wrote about 173,000 buffers itself, and each checkpoint ended in a burst of 0.4 to 2 GB/s
    of disk writes, in which an OLTP probe's COMMIT took 5 to 24 ms. Without the flush, 15 to 20 of the
    probe's slowest 1% (94 to 99 samples, three runs) fell in such bursts; with it, 3 to 4 of 71 to 104 (three
    runs), and the COMMIT part of the slowest 1% fell from 3.5-4.3 ms to 2.3-2.7 ms. The archive's time did
    not change (60.7-61.5 s against 60.0-61.8 s), nor did the p99 beyond its noise (1.83-2.05x idle against
    1.98-2.02x): the rest of the tail is the probe waiting for a CPU."""
    return {"erpops.allow_purge": "on", "lock_timeout": f"{int(lock_timeout_ms)}ms", "backend_flush_after": "256kB"}


def purge_session(conn: Connection, lock_timeout_ms: int, **settings: str) -> None:
    """Make this transaction a purge transaction (`purge_settings`, with any further `settings`), in one
    round trip."""
    if conn.dialect.name != "postgresql":
        return
    values = {**purge_settings(lock_timeout_ms), **settings}
    calls = ", ".join(f"set_config(:k{i}, :v{i}, true)" for i in range(len(values)))
    params = {f"{kv}{i}": x for i, pair in enumerate(values.items()) for kv, x in zip("kv", pair, strict=True)}
    conn.execute(text(f"SELECT {calls}"), params)
