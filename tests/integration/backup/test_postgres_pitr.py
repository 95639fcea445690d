"""PostgreSQL: one base backup to two local and two S3 sites, WAL shipped to all four, and
point-in-time restores that bring back exactly the rows committed before the chosen point.

Runbook shape: take a backup, commit `before`, mark the point, commit `after`, ship WAL, restore to
the point into a new data directory, start it, read.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from backup.catalog import read_catalog
from backup.create import BackupResult, create_backup
from backup.reach import RecoveryTarget
from backup.restore import restore_postgres
from backup.settings import BackupSettings, load_backup_settings
from backup.sites import make_sites
from backup.sites.base import Site
from backup.verify import verify
from backup.walstream import WalStreamer
from erpcore.db import make_engine
from erpcore.migrate import upgrade
from opskit.pg import Cluster
from tests.integration.backup.conftest import S3Server, ship_wal, site_toml, streaming_cluster, write_config

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


@dataclass
class Env:
    shared: Path
    settings: BackupSettings
    sites: list[Site]
    cluster: Cluster
    backup: BackupResult
    before_time: str
    before_xid: str


def _rows(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [str(r[0]) for r in conn.execute("SELECT note FROM probe ORDER BY id")]


@pytest.fixture(scope="module")
def env(shared_dir: Path, s3_servers: list[S3Server]) -> Iterator[Env]:
    config = write_config(shared_dir, site_toml(shared_dir, s3_servers))
    cluster = streaming_cluster(shared_dir)
    streamer: WalStreamer | None = None
    try:
        engine = make_engine(cluster.url())
        upgrade(engine)
        engine.dispose()
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("CREATE TABLE probe (id serial PRIMARY KEY, note text NOT NULL)")
            conn.execute("INSERT INTO probe (note) VALUES ('in-backup')")
        settings = load_backup_settings(config, database_url=cluster.url())
        sites = make_sites(settings)
        streamer = WalStreamer(cluster.url(), make_sites(settings), shared_dir / "spool")
        streamer.start()
        backup = create_backup(settings, sites)
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            row = conn.execute(
                "INSERT INTO probe (note) VALUES ('before') RETURNING txid_current()::text"
            ).fetchone()
            assert row is not None
            conn.execute("SELECT pg_create_restore_point('erpops_before')")
            stamp = conn.execute("SELECT clock_timestamp()").fetchone()
            assert stamp is not None
            time.sleep(0.2)
            conn.execute("INSERT INTO probe (note) VALUES ('after')")
        ship_wal(cluster.url(), streamer)
        yield Env(shared_dir, settings, sites, cluster, backup, stamp[0].isoformat(), row[0])
    finally:
        if streamer is not None:
            streamer.stop()
        cluster.stop()


def _restore_and_read(env: Env, name: str, target: RecoveryTarget) -> tuple[list[str], str]:
    restored = Cluster(env.shared / "clusters" / name)
    try:
        result = restore_postgres(env.settings, env.sites, restored.data_dir, target, owner=restored.user)
        restored.start()
        restored.wait_ready()
        return _rows(restored.url()), result.reason
    finally:
        restored.remove()


def test_backup_reaches_all_four_sites_with_one_manifest(env: Env) -> None:
    result = env.backup
    assert not result.degraded, result.reason
    assert set(result.ok_sites) == {"local0", "local1", "s30", "s31"}
    m = result.manifest
    assert m.start_lsn and m.end_lsn and m.timeline == 1 and m.start_wal
    assert m.files[0].name == "base.tar.zst"
    manifests = {s.name: s.get_bytes(f"backups/{m.backup_id}/manifest.json") for s in env.sites}
    assert len(set(manifests.values())) == 1
    assert m.integrity["count.sales_order"] == "0"
    catalog = read_catalog(env.sites)
    assert catalog.backup().sites == ["local0", "local1", "s30", "s31"]
    assert all(len(catalog.wal[m.start_wal]) == 4 for _ in [0])


def test_restore_to_named_point_has_rows_before_and_not_after(env: Env) -> None:
    rows, reason = _restore_and_read(env, "by-name", RecoveryTarget("name", "erpops_before"))
    assert rows == ["in-backup", "before"], reason


def test_restore_to_time_and_to_xid(env: Env) -> None:
    rows, _ = _restore_and_read(env, "by-time", RecoveryTarget("time", env.before_time))
    assert rows == ["in-backup", "before"]
    rows, _ = _restore_and_read(env, "by-xid", RecoveryTarget("xid", env.before_xid))
    assert rows == ["in-backup", "before"]


def test_restore_latest_from_s3_only_replays_everything(env: Env) -> None:
    s3_only = [s for s in env.sites if s.name.startswith("s3")]
    restored = Cluster(env.shared / "clusters" / "latest-s3")
    try:
        result = restore_postgres(env.settings, s3_only, restored.data_dir, owner=restored.user)
        assert result.site in {"s30", "s31"} and result.wal_files >= 2
        restored.start()
        restored.wait_ready()
        assert _rows(restored.url()) == ["in-backup", "before", "after"]
    finally:
        restored.remove()


def test_verify_finds_every_object_intact_and_wal_unbroken(env: Env) -> None:
    report = verify(env.sites)
    assert report.ok, (report.reason, report.bad)
    verdict = report.backups[-1]
    assert verdict.good and set(verdict.wal_sites) == {"local0", "local1", "s30", "s31"}
    assert dt.datetime.fromisoformat(env.backup.manifest.finished_at) <= dt.datetime.now(dt.UTC)


def test_drill_passes_on_a_good_backup_and_reports_rto_rpo(env: Env) -> None:
    from backup.drill import run_drill

    report = run_drill(env.settings, env.sites, seed=7)
    assert report.ok, report.reason
    names = [s.name for s in report.steps]
    assert {"pg_amcheck", "erpops check", "integrity summary", "restore to a random commit"} <= set(names)
    assert report.rto_s is not None and report.rto_s > 0
    assert report.rpo_s is not None and report.rpo_s >= 0
    assert report.alert is None


def test_drill_fails_loudly_on_a_broken_backup_and_raises_an_alert(env: Env, tmp_path: Path) -> None:
    from sqlalchemy import select

    from backup.drill import run_drill
    from backup.sites.memory import MemorySite
    from erpcore.models import OutboxMessage

    broken = MemorySite("broken")
    source = env.sites[0]
    for key in source.list_keys(""):
        broken.objects[key] = source.get_bytes(key)
    backup_id = env.backup.manifest.backup_id
    broken.corrupt(f"backups/{backup_id}/base.tar.zst")
    alerts = make_engine(f"sqlite:///{tmp_path / 'erp.sqlite'}")
    upgrade(alerts)
    report = run_drill(env.settings, [broken], alert_url=str(alerts.url))
    assert not report.ok
    assert "restore backup" in report.reason and "healthy copy" in report.reason
    assert report.alert == "BackupDrillFailed alert recorded"
    with alerts.connect() as conn:
        payloads = [r.payload for r in conn.execute(select(OutboxMessage))]
    assert payloads[0]["alertname"] == "BackupDrillFailed"
    assert payloads[0]["labels"]["backup_id"] == backup_id  # type: ignore[index]
    alerts.dispose()


def test_restore_one_table_from_a_point_in_time_beside_the_live_one(env: Env) -> None:
    from backup.tablerestore import restore_tables

    result = restore_tables(
        env.settings, env.sites, ["probe"], "probe_at_before", RecoveryTarget("name", "erpops_before")
    )
    assert result.tables == {"probe": 2}
    with psycopg.connect(env.cluster.url()) as conn:
        side = [r[0] for r in conn.execute("SELECT note FROM probe_at_before.probe ORDER BY id")]
        live = [r[0] for r in conn.execute("SELECT note FROM probe ORDER BY id")]
    assert side == ["in-backup", "before"]
    assert live == ["in-backup", "before", "after"]
    from backup.errors import BackupError

    with pytest.raises(BackupError, match="already exists"):
        restore_tables(env.settings, env.sites, ["probe"], "probe_at_before")
