"""PostgreSQL with AES-256-GCM, lz4, and an S3 site that is down the whole time: the backup is degraded
but good, rotten copies on the local site are skipped for the healthy S3 copies, and a wrong key is
refused before anything is downloaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from backup.create import BackupResult, create_backup
from backup.errors import WrongKey
from backup.reach import RecoveryTarget
from backup.restore import restore_postgres
from backup.settings import BackupSettings, load_backup_settings
from backup.sites import make_sites
from backup.sites.base import Site
from backup.verify import verify
from backup.walstream import WalStreamer
from opskit.pg import Cluster
from opskit.ports import free_port
from tests.integration.backup.conftest import S3Server, ship_wal, streaming_cluster, write_config

pytestmark = [pytest.mark.cluster, pytest.mark.slow]
KEY = "5a" * 32


@dataclass
class Env:
    shared: Path
    settings: BackupSettings
    sites: list[Site]
    backup: BackupResult
    streamer: WalStreamer


@pytest.fixture(scope="module")
def env(shared_dir: Path, s3_servers: list[S3Server]) -> Iterator[Env]:
    local = shared_dir / "enc-local"
    srv = s3_servers[0]
    config = write_config(
        shared_dir,
        (
            f'[backup]\ncompression = "lz4"\nencryption_key = "{KEY}"\n'
            f'[[backup.sites]]\nname = "disk"\npath = "{local}"\n'
            f'[[backup.sites]]\nname = "cloud"\nkind = "s3"\nendpoint_url = "{srv.endpoint}"\nbucket = "{srv.bucket}"\n'
            'prefix = "enc"\naccess_key_id = "testing"\nsecret_access_key = "testing"\npart_size_mb = 5\n'
            f'[[backup.sites]]\nname = "down"\nkind = "s3"\nendpoint_url = "http://127.0.0.1:{free_port()}"\n'
            'bucket = "gone"\naccess_key_id = "x"\nsecret_access_key = "y"\nmax_attempts = 2\ntimeout_seconds = 2\n'
        ),
        "enc.toml",
    )
    cluster = streaming_cluster(shared_dir, "enc-primary")
    streamer: WalStreamer | None = None
    try:
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("CREATE TABLE probe (id serial PRIMARY KEY, note text NOT NULL)")
            conn.execute("INSERT INTO probe (note) VALUES ('secret-in-backup')")
        settings = load_backup_settings(config, database_url=cluster.url())
        streamer = WalStreamer(
            cluster.url(),
            make_sites(settings),
            shared_dir / "enc-spool",
            settings.key_bytes(),
            slot="enc_slot",
        )
        streamer.start()
        backup = create_backup(settings, make_sites(settings))
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("INSERT INTO probe (note) VALUES ('before')")
            conn.execute("SELECT pg_create_restore_point('enc_point')")
            conn.execute("INSERT INTO probe (note) VALUES ('after')")
        ship_wal(cluster.url(), streamer)
        yield Env(shared_dir, settings, make_sites(settings), backup, streamer)
    finally:
        if streamer is not None:
            streamer.stop()
        cluster.stop()


def test_site_down_during_backup_leaves_the_others_good_and_marks_degraded(env: Env) -> None:
    result = env.backup
    assert result.degraded and result.ok_sites == ["disk", "cloud"]
    assert result.manifest.sites["down"].startswith("failed: site down:")
    assert result.manifest.files[0].name == "base.tar.lz4" and result.manifest.files[0].encrypted
    assert env.streamer.stats.degraded and not env.streamer.stats.errors
    assert all(r.failed.keys() == {"down"} for r in env.streamer.stats.degraded)
    stored = (env.shared / "enc-local" / "backups" / result.manifest.backup_id / "base.tar.lz4").read_bytes()
    assert b"secret-in-backup" not in stored


def test_wrong_key_refused_before_download(env: Env, tmp_path: Path) -> None:
    wrong = env.settings.model_copy(
        update={"encryption_key": env.settings.encryption_key.__class__("6b" * 32)}
    )
    target = tmp_path / "never"
    with pytest.raises(WrongKey, match=f"key id {env.backup.manifest.key_id}"):
        restore_postgres(wrong, env.sites, target)
    assert not target.exists()


def test_rotten_local_copies_skipped_for_healthy_s3_copies_then_pitr(env: Env) -> None:
    disk = env.shared / "enc-local"
    base = disk / "backups" / env.backup.manifest.backup_id / "base.tar.lz4"
    data = bytearray(base.read_bytes())
    data[len(data) // 2] ^= 0xFF
    base.write_bytes(bytes(data))
    wal = max((disk / "wal").iterdir())
    wal.write_bytes(b"\0" * wal.stat().st_size)

    report = verify(env.sites)
    assert {(c.site, Path(c.key).name) for c in report.bad} == {("disk", base.name), ("disk", wal.name)}
    assert "down" in report.unreachable and not report.ok
    assert report.backups[-1].good and report.backups[-1].file_sites == ["cloud"]

    restored = Cluster(env.shared / "clusters" / "enc-restored")
    try:
        result = restore_postgres(
            env.settings,
            env.sites,
            restored.data_dir,
            RecoveryTarget("name", "enc_point"),
            owner=restored.user,
        )
        assert result.site == "cloud"
        assert "failed authentication" in result.skipped["disk"]
        assert any(k.endswith("@disk") for k in result.skipped)
        restored.start()
        restored.wait_ready()
        with psycopg.connect(restored.url()) as conn:
            rows = [r[0] for r in conn.execute("SELECT note FROM probe ORDER BY id")]
        assert rows == ["secret-in-backup", "before"]
    finally:
        restored.remove()
