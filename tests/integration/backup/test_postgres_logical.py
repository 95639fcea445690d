"""PostgreSQL logical dumps: `pg_dump -Fd -j 2` to a local and an S3 site, encrypted, with the same manifest
style as base backups; listed and verified like them; one table or one schema brought back with
`pg_restore -j` into a new database beside the live one, rows asserted; a rotten copy skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from backup.catalog import read_catalog
from backup.cli import app
from backup.create import BackupResult
from backup.dumprestore import restore_dump
from backup.errors import BackupError, NoUsableCopy
from backup.logical import create_logical
from backup.settings import BackupSettings, load_backup_settings
from backup.sites import make_sites
from backup.sites.base import Site
from backup.verify import verify
from erpcore.db import make_engine
from erpcore.migrate import upgrade
from opskit.pg import Cluster
from tests.integration.backup.conftest import S3Server, streaming_cluster, write_config

pytestmark = [pytest.mark.cluster, pytest.mark.slow]
KEY = "3c" * 32


@dataclass
class Env:
    shared: Path
    config: Path
    settings: BackupSettings
    sites: list[Site]
    cluster: Cluster
    dump: BackupResult


def _rows(url: str, sql: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [str(r[0]) for r in conn.execute(sql.encode())]


@pytest.fixture(scope="module")
def env(shared_dir: Path, s3_servers: list[S3Server]) -> Iterator[Env]:
    srv = s3_servers[1]
    config = write_config(
        shared_dir,
        (
            f'[backup]\ncompression = "zstd"\nencryption_key = "{KEY}"\ndump_jobs = 2\n'
            f'[[backup.sites]]\nname = "disk"\npath = "{shared_dir / "logical-disk"}"\n'
            f'[[backup.sites]]\nname = "cloud"\nkind = "s3"\nendpoint_url = "{srv.endpoint}"\nbucket = "{srv.bucket}"\n'
            'prefix = "logical"\naccess_key_id = "testing"\nsecret_access_key = "testing"\npart_size_mb = 5\n'
        ),
        "logical.toml",
    )
    cluster = streaming_cluster(shared_dir, "logical")
    try:
        engine = make_engine(cluster.url())
        upgrade(engine)
        engine.dispose()
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("CREATE TABLE probe (id serial PRIMARY KEY, note text NOT NULL)")
            conn.execute("INSERT INTO probe (note) VALUES ('one'), ('two'), ('three')")
            conn.execute("CREATE SCHEMA side")
            conn.execute("CREATE TABLE side.item (id int PRIMARY KEY, amount numeric(12, 2) NOT NULL)")
            conn.execute("INSERT INTO side.item SELECT g, g * 1.25 FROM generate_series(1, 500) g")
        settings = load_backup_settings(config, database_url=cluster.url())
        sites = make_sites(settings)
        dump = create_logical(settings, sites, label="before-cleanup")
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("INSERT INTO probe (note) VALUES ('after the dump')")
            conn.execute("DELETE FROM side.item WHERE id > 10")
        yield Env(shared_dir, config, settings, sites, cluster, dump)
    finally:
        cluster.stop()


def test_dump_reaches_both_sites_with_one_manifest_of_hashed_encrypted_files(env: Env) -> None:
    m = env.dump.manifest
    assert not env.dump.degraded and set(env.dump.ok_sites) == {"disk", "cloud"}, env.dump.reason
    assert m.kind == "logical" and m.engine == "postgresql" and m.label == "before-cleanup"
    names = {f.name for f in m.files}
    assert "dump/toc.dat.zst" in names and len(names) > 3  # toc plus one data file per table
    assert all(
        f.encrypted and f.compression == "zstd" and len(f.sha256) == 64 and f.size > 0 for f in m.files
    )
    assert m.key_id is not None and m.extra["jobs"] == 2
    assert m.integrity["count.sales_order"] == "0"
    manifests = {s.name: s.get_bytes(f"backups/{m.backup_id}/manifest.json") for s in env.sites}
    assert len(set(manifests.values())) == 1
    raw = (env.shared / "logical-disk" / "backups" / m.backup_id / "dump" / "toc.dat.zst").read_bytes()
    assert raw.startswith(b"ERPB") and b"probe" not in raw


def test_listed_and_verified_like_base_backups_but_never_taken_for_one(env: Env) -> None:
    catalog = read_catalog(env.sites)
    assert catalog.backup(kind="logical").backup_id == env.dump.manifest.backup_id
    with pytest.raises(NoUsableCopy, match="no backup found"):
        catalog.backup()  # a physical restore or drill must not pick a dump
    report = verify(env.sites)
    assert report.ok, report.reason
    assert report.backups[-1].good and report.backups[-1].file_sites == ["disk", "cloud"]
    out = CliRunner().invoke(app, ["list", "--config", str(env.config), "--json"])
    assert out.exit_code == 0, out.stdout
    assert [(b["kind"], b["sites"]) for b in json.loads(out.stdout)] == [("logical", ["disk", "cloud"])]


def test_one_table_comes_back_as_dumped_beside_the_live_one(env: Env) -> None:
    result = restore_dump(env.settings, env.sites, "erp_probe", tables=["probe"], jobs=2)
    assert result.tables == {"probe": 3}, result.reason
    copy = env.cluster.url("erp_probe")
    assert _rows(copy, "SELECT note FROM probe ORDER BY id") == ["one", "two", "three"]
    assert _rows(copy, "SELECT count(*) FROM pg_tables WHERE tablename = 'sales_order'") == ["0"]
    assert _rows(env.cluster.url(), "SELECT count(*) FROM probe") == ["4"]  # live untouched
    with pytest.raises(BackupError, match="already exists"):
        restore_dump(env.settings, env.sites, "erp_probe", tables=["probe"])


def test_one_schema_comes_back_through_the_cli_from_s3_when_the_disk_copy_is_rotten(env: Env) -> None:
    disk = env.shared / "logical-disk" / "backups" / env.dump.manifest.backup_id / "dump"
    victims = [p for p in disk.iterdir() if p.name != "toc.dat.zst"]
    for path in victims:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    out = CliRunner().invoke(
        app,
        [
            "restore-dump",
            "--config",
            str(env.config),
            "--into-database",
            "erp_side",
            "-n",
            "side",
            "--jobs",
            "2",
            "--json",
        ],
        env={"ERPOPS_BACKUP__DATABASE_URL": env.cluster.url()},
    )
    assert out.exit_code == 0, out.stdout
    data = json.loads(out.stdout)
    assert data["tables"] == {"side.item": 500}
    assert any(k.startswith("disk:") for k in data["skipped"])
    total = _rows(env.cluster.url("erp_side"), "SELECT sum(amount) FROM side.item")
    assert total == ["156562.50"]  # 1.25 * (1 + ... + 500): the rows as dumped, not the 10 left live


def test_bad_input_is_refused_with_a_clear_message(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    from erpops.cli import main

    with pytest.raises(BackupError, match="not a plain SQL name"):
        restore_dump(env.settings, env.sites, "erp; DROP", tables=["probe"])
    with pytest.raises(BackupError, match="the dump has no table nosuch"):
        restore_dump(env.settings, env.sites, "erp_nosuch", tables=["nosuch"])
    assert _rows(env.cluster.url(), "SELECT count(*) FROM pg_database WHERE datname = 'erp_nosuch'") == ["0"]
    with pytest.raises(BackupError, match="is a logical backup, not physical"):
        read_catalog(env.sites).backup(env.dump.manifest.backup_id)
    for argv, message in [
        (["create", "--jobs", "2"], "error: --jobs applies to --logical dumps only"),
        (
            ["restore-dump", "--into-database", "erp_x", "--jobs", "0"],
            "error: --jobs must be at least 1, got 0",
        ),
        (["restore-dump", "--into-database", "erp x"], "error: not a plain SQL name: 'erp x'"),
        (
            ["restore", "--to", str(env.shared / "nowhere"), "--backup", env.dump.manifest.backup_id],
            "restore-dump",
        ),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            main(["backup", *argv, "--config", str(env.config)])
        err = capsys.readouterr().err
        assert exit_info.value.code in (1, 2) and message in err and len(err.strip().splitlines()) == 1, (
            argv,
            err,
        )
        assert exit_info.value.code == (1 if argv[0] == "restore" else 2)


def test_a_database_without_the_erp_schema_is_dumped_with_the_reason_for_no_summary(env: Env) -> None:
    with psycopg.connect(env.cluster.url(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE plain")
    with psycopg.connect(env.cluster.url("plain"), autocommit=True) as conn:
        conn.execute("CREATE TABLE note (id int PRIMARY KEY, body text)")
        conn.execute("INSERT INTO note VALUES (1, 'kept')")
    settings = load_backup_settings(env.config, database_url=env.cluster.url("plain"), compression="lz4")
    dump = create_logical(settings, env.sites[:1], jobs=1)
    assert (
        "unavailable" in dump.manifest.integrity and "sales_order" in dump.manifest.integrity["unavailable"]
    )
    assert {f.compression for f in dump.manifest.files} == {"lz4"}
    result = restore_dump(settings, env.sites[:1], "plain_copy", backup_id=dump.manifest.backup_id)
    assert result.tables == {"note": 1}
    assert _rows(env.cluster.url("plain_copy"), "SELECT body FROM note") == ["kept"]
