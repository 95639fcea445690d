"""SQLite backups through the online backup API, and what sites do when things go wrong: a site down,
an object rotting, an upload killed half-way, S3 throttling, a wrong encryption key."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from backup.catalog import read_catalog
from backup.create import create_backup
from backup.errors import SiteError, WrongKey
from backup.restore import restore_sqlite
from backup.settings import SiteSettings, load_backup_settings
from backup.sites.local import LocalSite
from backup.sites.memory import MemorySite
from backup.sites.s3 import S3Site
from backup.verify import verify
from erpcore.db import make_engine
from erpcore.migrate import upgrade
from erpcore.models import TaxCode, Warehouse
from tests.integration.backup.conftest import S3Server

KEY = "11" * 32


def no_config(tmp_path: Path) -> Path:
    """An erpops.toml with nothing in it: the settings come from the arguments (a missing file is an error)."""
    path = tmp_path / "empty.toml"
    path.write_text("")
    return path


@pytest.fixture
def erp(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'erp.sqlite'}")
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(Warehouse).values(code="W1", name="Main"))
        conn.execute(insert(TaxCode).values(code="VAT", name="VAT", rate="0.2"))
    return engine


def s3_site(server: S3Server, name: str, **extra: Any) -> S3Site:
    return S3Site(
        SiteSettings(
            name=name,
            kind="s3",
            endpoint_url=server.endpoint,
            bucket=server.bucket,
            prefix=name,
            access_key_id="testing",
            secret_access_key="testing",
            part_size_mb=5,
            max_attempts=3,
            **extra,
        )
    )


def test_sqlite_backup_to_local_and_s3_restores_identical_data(
    erp: Engine, tmp_path: Path, s3_servers: list[S3Server]
) -> None:
    settings = load_backup_settings(no_config(tmp_path), database_url=str(erp.url), encryption_key=KEY)
    sites = [LocalSite("disk", tmp_path / "disk"), s3_site(s3_servers[0], "sqlite-s3")]
    result = create_backup(settings, sites)
    assert not result.degraded and result.manifest.engine == "sqlite"
    assert result.manifest.key_id is not None and result.manifest.files[0].encrypted
    assert (
        b"SQLite format"
        not in (tmp_path / "disk" / "backups" / result.manifest.backup_id / "database.sqlite").read_bytes()[
            :100
        ]
    )
    restored = tmp_path / "restored.sqlite"
    out = restore_sqlite(settings, sites[1:], restored)
    assert out.site == "sqlite-s3"
    copy = make_engine(f"sqlite:///{restored}")
    with copy.connect() as conn, erp.connect() as live:
        codes = conn.execute(select(Warehouse.code).order_by(Warehouse.code)).scalars().all()
        assert "W1" in codes
        assert codes == live.execute(select(Warehouse.code).order_by(Warehouse.code)).scalars().all()
    copy.dispose()
    assert verify(sites).ok


def test_wrong_key_refuses_to_restore_with_a_clear_message(erp: Engine, tmp_path: Path) -> None:
    site = MemorySite("m")
    create_backup(
        load_backup_settings(no_config(tmp_path), database_url=str(erp.url), encryption_key=KEY), [site]
    )
    wrong = load_backup_settings(no_config(tmp_path), database_url=str(erp.url), encryption_key="22" * 32)
    with pytest.raises(WrongKey, match="was encrypted with key id .* set backup.encryption_key"):
        restore_sqlite(wrong, [site], tmp_path / "r.sqlite")
    none = load_backup_settings(no_config(tmp_path), database_url=str(erp.url))
    with pytest.raises(WrongKey, match="is encrypted .* no backup.encryption_key"):
        restore_sqlite(none, [site], tmp_path / "r.sqlite")
    assert not (tmp_path / "r.sqlite").exists()


def test_site_down_leaves_others_good_and_backup_degraded_then_catch_up(erp: Engine, tmp_path: Path) -> None:
    from backup.ops import catch_up

    settings = load_backup_settings(no_config(tmp_path), database_url=str(erp.url))
    good, down = MemorySite("good"), MemorySite("down")
    down.down = True
    result = create_backup(settings, [good, down])
    assert result.degraded and result.ok_sites == ["good"]
    assert result.manifest.sites["down"].startswith("failed: site down: unreachable")
    assert "degraded: 1 of 2 sites failed (down)" in result.reason
    assert read_catalog([good]).backup().manifest.degraded
    down.down = False
    report = catch_up([good, down])
    assert report[1].copied and not report[1].errors
    assert read_catalog([down]).backup().backup_id == result.manifest.backup_id


def test_corrupted_object_found_by_verify_and_skipped_by_restore(erp: Engine, tmp_path: Path) -> None:
    settings = load_backup_settings(no_config(tmp_path), database_url=str(erp.url))
    rotten, healthy = MemorySite("rotten"), MemorySite("healthy")
    backup_id = create_backup(settings, [rotten, healthy]).manifest.backup_id
    key = f"backups/{backup_id}/database.sqlite"
    rotten.corrupt(key)
    report = verify([rotten, healthy])
    assert not report.ok and [(c.site, c.key) for c in report.bad] == [("rotten", key)]
    assert report.backups[0].good and report.backups[0].file_sites == ["healthy"]
    out = restore_sqlite(settings, [rotten, healthy], tmp_path / "r.sqlite")
    assert out.site == "healthy" and "rotten" in out.skipped and "manifest says" in out.skipped["rotten"]
    assert (
        hashlib.sha256((tmp_path / "r.sqlite").read_bytes()).hexdigest()
        == hashlib.sha256(b"".join(healthy.read(key))).hexdigest()
    )


def test_s3_multipart_roundtrip_with_ranged_parallel_reads(s3_servers: list[S3Server]) -> None:
    site = s3_site(s3_servers[1], "mp")
    data = os.urandom(12 * (1 << 20) + 123)
    info = site.put_chunks("big/object", [data[i : i + 700_000] for i in range(0, len(data), 700_000)])
    assert info.size == len(data) and info.sha256 == hashlib.sha256(data).hexdigest()
    assert site.stats.parts_uploaded == 3
    assert site.get_bytes("big/object") == data
    assert site.stats.ranged_gets == 3
    assert site.list_keys("big/") == {"big/object": len(data)}


def test_killed_upload_resumes_instead_of_starting_over(s3_servers: list[S3Server], tmp_path: Path) -> None:
    class Killed(BaseException):
        pass

    source = tmp_path / "segment"
    source.write_bytes(os.urandom(4 * 5 * (1 << 20) + 99))  # five parts
    first = s3_site(s3_servers[1], "resume")
    sent = 0

    def kill_after_two(**_: Any) -> None:
        nonlocal sent
        sent += 1
        if sent > 2:
            raise Killed()

    first.client.meta.events.register("before-call.s3.UploadPart", kill_after_two)
    with pytest.raises(Killed):
        first.put_file("wal/big", source)
    assert "wal/big" not in first.list_keys("wal/")
    second = s3_site(s3_servers[1], "resume")  # a new process: nothing remembered locally
    info = second.put_file("wal/big", source)
    assert (second.stats.parts_reused, second.stats.parts_uploaded) == (2, 3)
    assert info.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert second.sha256("wal/big") == (source.stat().st_size, info.sha256)


def test_throttling_is_retried_with_backoff(s3_servers: list[S3Server]) -> None:
    from botocore.exceptions import ClientError

    site = s3_site(s3_servers[0], "throttle")
    calls = 0

    def throttle_twice(**_: Any) -> None:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "slow down"}}, "PutObject")

    site.client.meta.events.register("before-call.s3.PutObject", throttle_twice)
    info = site.put_bytes("small", b"ledger")
    assert info.size == 6 and site.stats.retries == 2
    assert site.stats.errors == ["put small: SlowDown", "put small: SlowDown"]


def test_unreachable_s3_fails_with_site_error_after_retries() -> None:
    from opskit.ports import free_port

    site = S3Site(
        SiteSettings(
            name="gone",
            kind="s3",
            endpoint_url=f"http://127.0.0.1:{free_port()}",
            bucket="b",
            access_key_id="x",
            secret_access_key="y",
            max_attempts=2,
            timeout_seconds=2,
        )
    )
    with pytest.raises(SiteError, match="site gone: put k"):
        site.put_bytes("k", b"x")
    assert site.stats.retries == 1
