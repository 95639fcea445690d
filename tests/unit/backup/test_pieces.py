"""Small pure pieces: WAL names and continuity, manifests, settings, status and metrics, verify on fakes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from backup.catalog import read_catalog
from backup.manifest import FileEntry, Manifest, manifest_key, new_backup_id, parse_wal_key, wal_key
from backup.ops import metrics_text, prune, status
from backup.pgtools import conn_from_url, lsn_to_int, segment_name, segment_number
from backup.reach import RecoveryTarget
from backup.settings import load_backup_settings
from backup.sites.memory import MemorySite
from backup.verify import verify
from backup.walarchive import continuity, wanted_wal
from erpcore.exceptions import ConfigError

SHA = "ab" * 32


def manifest(
    backup_id: str, finished: dt.datetime, start_wal: str | None = "000000010000000000000003"
) -> Manifest:
    return Manifest(
        backup_id=backup_id,
        engine="postgresql",
        started_at=(finished - dt.timedelta(seconds=5)).isoformat(),
        finished_at=finished.isoformat(),
        files=(FileEntry("base.tar.zst", 3, SHA, "zstd", False),),
        compression="zstd",
        key_id=None,
        integrity={"count.sales_order": "4"},
        sites={"m": "ok"},
        start_lsn="0/3000028",
        end_lsn="0/3000100",
        timeline=1,
        start_wal=start_wal,
    )


def test_lsn_and_segment_names() -> None:
    assert lsn_to_int("1/2000028") == (1 << 32) + 0x2000028
    assert segment_name("0/2000028", 1) == "000000010000000000000002"
    assert segment_name("1/FF000000", 3) == "0000000300000001000000FF"
    assert segment_number("000000010000000100000000") == 256


def test_wal_keys_and_continuity() -> None:
    key = wal_key("000000010000000000000004", SHA)
    assert parse_wal_key(key) == ("000000010000000000000004", SHA)
    assert parse_wal_key("wal/garbage") is None
    segs = {f"0000000100000000000000{n:02X}" for n in (3, 4, 5, 7, 8)}
    last, gaps = continuity(segs, "000000010000000000000003")
    assert last == "000000010000000000000005" and gaps == ["6"]
    assert continuity(segs, "000000010000000000000002") == (None, ["000000010000000000000002"])
    wal = {n: [] for n in [*segs, "00000002.history", "000000010000000000000001"]}
    assert sorted(wanted_wal(wal, "000000010000000000000004")) == sorted(
        ["00000002.history", *(s for s in segs if s >= "000000010000000000000004")]
    )


def test_manifest_roundtrip_and_degraded() -> None:
    m = manifest(new_backup_id(), dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    again = Manifest.from_json(m.to_json())
    assert again == m and not again.degraded
    assert json.loads(m.to_json())["degraded"] is False
    bad = Manifest.from_json(m.to_json().replace(b'"m": "ok"', b'"m": "failed: x"'))
    assert bad.degraded


def test_settings_from_toml_env_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "erpops.toml"
    cfg.write_text('[backup]\ncompression = "lz4"\n[[backup.sites]]\nname = "a"\npath = "/x"\n')
    assert load_backup_settings(cfg).compression == "lz4"
    monkeypatch.setenv("ERPOPS_BACKUP__COMPRESSION", "none")
    assert load_backup_settings(cfg).compression == "none"
    cfg.write_text('[backup]\n[[backup.sites]]\nname = "a"\nkind = "s3"\n')
    with pytest.raises(ConfigError, match="needs `bucket`"):
        load_backup_settings(cfg)
    cfg.write_text(
        '[backup]\n[[backup.sites]]\nname = "a"\npath = "/x"\n[[backup.sites]]\nname = "a"\npath = "/y"\n'
    )
    with pytest.raises(ConfigError, match="unique"):
        load_backup_settings(cfg)


def test_conn_from_url_and_recovery_targets() -> None:
    conn = conn_from_url("postgresql://app:pw@db.local:6543/erp")
    assert conn.args == ("-h", "db.local", "-p", "6543", "-U", "app") and conn.env["PGPASSWORD"] == "pw"
    assert RecoveryTarget("name", "x").settings() == {"recovery_target_name": "x"}
    assert RecoveryTarget("immediate").settings() == {"recovery_target": "immediate"}
    assert RecoveryTarget().settings() == {}


def _site_with(*manifests: Manifest) -> MemorySite:
    site = MemorySite("m")
    for m in manifests:
        site.objects[manifest_key(m.backup_id)] = m.to_json()
        site.objects[f"backups/{m.backup_id}/base.tar.zst"] = b"abc"
    return site


def test_verify_and_status_on_a_fake_site() -> None:
    import hashlib

    now = dt.datetime(2025, 1, 2, tzinfo=dt.UTC)
    m = manifest("b1", now - dt.timedelta(hours=1))
    m = Manifest.from_json(m.to_json().replace(SHA.encode(), hashlib.sha256(b"abc").hexdigest().encode()))
    site = _site_with(m)
    seg = "000000010000000000000003"
    site.objects[wal_key(seg, hashlib.sha256(b"w").hexdigest())] = b"w"
    report = verify([site])
    assert report.ok and report.backups[0].wal_sites == ["m"]
    st = status([site], now=now)[0]
    assert st.backups == 1 and st.rpo_s == 3600.0 and st.last_duration_s == 5.0
    assert 'erpops_backup_rpo_seconds{site="m"} 3600.0' in metrics_text([st])
    site.objects[wal_key(seg, hashlib.sha256(b"w").hexdigest())] = b"x"
    report = verify([site])
    assert (
        not report.ok
        and not report.backups[0].good
        and "no site holds unbroken WAL" in report.backups[0].reason
    )


def test_prune_dry_run_deletes_nothing_and_real_run_keeps_the_newest(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    old, new = manifest("b-old", now - dt.timedelta(days=30)), manifest("b-new", now - dt.timedelta(days=1))
    site = _site_with(old, new)
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[backup]\n[backup.retention]\nkeep_count = 1\nkeep_days = 0\n[[backup.sites]]\nname = "m"\n'
        'kind = "memory"\n'
    )
    settings = load_backup_settings(cfg)
    before = dict(site.objects)
    plan = prune(settings, [site], dry_run=True)[0].plan
    assert plan.delete == {"b-old": "older than the 0-day window and not among the newest 1"}
    assert site.objects == before
    prune(settings, [site], dry_run=False)
    assert [e.backup_id for e in read_catalog([site]).backups] == ["b-new"]


def test_logical_dumps_neither_freshen_status_nor_crowd_out_base_backups(tmp_path: Path) -> None:
    import dataclasses

    now = dt.datetime.now(dt.UTC)
    base = manifest("b-base", now - dt.timedelta(days=3))
    older = manifest("b-older", now - dt.timedelta(days=9), start_wal="000000010000000000000001")
    dumps = [
        dataclasses.replace(manifest(f"d{i}", now - dt.timedelta(hours=i)), kind="logical", start_wal=None)
        for i in (1, 2)
    ]
    site = _site_with(older, base, *dumps)
    st = status([site], now=now)[0]
    assert st.backups == 2 and st.last_backup == "b-base" and st.dumps == 2
    assert st.last_dump_at == dumps[0].finished_at
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[backup]\n[backup.retention]\nkeep_count = 1\nkeep_days = 0\n[[backup.sites]]\nname = "m"\n'
        'kind = "memory"\n'
    )
    plan = prune(load_backup_settings(cfg), [site], dry_run=True)[0].plan
    # the newest base backup stays although two dumps are newer; one dump of two is kept on its own count
    assert "b-base" in plan.keep and "b-older" in plan.delete
    assert plan.keep["d1"].startswith("logical dump:") and "d2" in plan.delete
    assert plan.wal_floor == "000000010000000000000003"
