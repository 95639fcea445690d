"""What the backup CLI shows for each engine result, and the engines' refusals before any work starts."""

from __future__ import annotations

import datetime as dt
from hashlib import sha256
from pathlib import Path

import pytest
from rich.console import Console

from backup import views
from backup.catalog import read_catalog
from backup.create import BackupResult
from backup.errors import UsageError
from backup.manifest import FileEntry, Manifest, file_key, manifest_key
from backup.ops import CatchUp, CatchUpReport, SitePrune, SiteStatus, status_reason
from backup.retention import RetentionPlan
from backup.settings import load_backup_settings
from backup.sites.memory import MemorySite
from backup.verify import verify

BACKUP_ID = "20260301T100000Z-0001"


def empty_config(tmp_path: Path) -> Path:
    path = tmp_path / "erpops.toml"
    path.write_text("[backup]\n")
    return path


def rendered(table: object) -> str:
    console = Console(width=200, record=True)
    console.print(table)
    return console.export_text()


def manifest(sites: dict[str, str], sha: str = "ab" * 32) -> Manifest:
    return Manifest(
        backup_id=BACKUP_ID,
        engine="sqlite",
        started_at="2026-03-01T10:00:00+00:00",
        finished_at="2026-03-01T10:00:02+00:00",
        files=(FileEntry("database.sqlite", 4, sha, "none", False),),
        compression="none",
        key_id=None,
        integrity={},
        sites=sites,
    )


def test_create_view_keeps_its_stable_json_keys_and_marks_the_failed_site() -> None:
    result = BackupResult(manifest({"a": "ok", "b": "failed: disk full"}), 4, 1.23456, "degraded: b failed")
    data, table = views.create_view(result)
    assert data["degraded"] and data["sites"]["b"] == "failed: disk full" and data["seconds"] == 1.235
    assert set(data) >= {"backup_id", "kind", "size", "files", "start_lsn", "end_lsn", "reason"}
    text = rendered(table)
    assert "failed: disk full" in text and f"backup {BACKUP_ID}" in text


def test_list_view_and_catalog_reason_on_fake_sites() -> None:
    site = MemorySite("a")
    site.objects[manifest_key(BACKUP_ID)] = manifest({"a": "ok"}).to_json()
    site.objects[file_key(BACKUP_ID, "database.sqlite")] = b"good"
    down = MemorySite("b")
    down.down = True
    catalog = read_catalog([site, down], with_wal=False)
    data, table = views.list_view(catalog.backups)
    assert [d["backup_id"] for d in data] == [BACKUP_ID] and data[0]["size"] == 4 and not data[0]["encrypted"]
    assert catalog.reason.startswith("1 backups; unreachable sites:") and "'b'" in catalog.reason
    assert BACKUP_ID in rendered(table)


def test_status_reason_names_the_unreachable_site() -> None:
    statuses = [SiteStatus("a", True, backups=1), SiteStatus("b", False, error="site b: unreachable")]
    assert status_reason(statuses) == "1 of 2 sites reachable; unreachable: b (site b: unreachable)"
    assert "RPO s" in rendered(views.status_table(statuses))


@pytest.mark.parametrize(("dry_run", "action"), [(True, "would delete"), (False, "delete")])
def test_prune_view_says_what_it_would_do_or_did(dry_run: bool, action: str) -> None:
    plan = RetentionPlan(
        {"new": "newest 1"},
        {"old": "older than 7 days"},
        ["000000010000000000000001"],
        "000000010000000000000002",
        "keep 1, delete 1",
    )
    data, table = views.prune_view([SitePrune("a", plan)], dry_run)
    assert data[0]["dry_run"] is dry_run and data[0]["delete"] == {"old": "older than 7 days"}
    text = rendered(table)
    assert action in text and (dry_run or "would delete" not in text)
    assert "1 WAL" in text and "before 000000010000000000000002" in text


def test_catch_up_report_takes_the_verify_status_and_a_copy_error_fails_it() -> None:
    site = MemorySite("a")
    site.objects[manifest_key(BACKUP_ID)] = manifest({"a": "ok"}).to_json()
    site.objects[file_key(BACKUP_ID, "database.sqlite")] = b"rot!"
    report = CatchUpReport([CatchUp("a", [], [], "a: copied 0 objects, 0 errors")], verify([site]))
    assert report.status == "failed"  # the only copy is bad: not restorable
    data, table = views.catch_up_view(report)
    assert data["verify"]["status"] == "failed" and "NOT restorable" in data["reason"]
    assert "verify" in rendered(table)
    report = CatchUpReport([CatchUp("a", [], ["site a: no space"], "a: copied 0 objects, 1 errors")])
    assert report.status == "failed" and report.verify is None
    assert CatchUpReport([CatchUp("a", ["k"], [], "a: copied 1 objects, 0 errors")]).status == "ok"


def test_verify_json_has_status_reason_and_the_bad_copies() -> None:
    good, bad = MemorySite("a"), MemorySite("b")
    for site, body in ((good, b"good"), (bad, b"rot!")):
        site.objects[manifest_key(BACKUP_ID)] = manifest(
            {"a": "ok", "b": "ok"}, sha256(b"good").hexdigest()
        ).to_json()
        site.objects[file_key(BACKUP_ID, "database.sqlite")] = body
    report = verify([good, bad])
    data = views.verify_json(report)
    assert data["status"] == "degraded" and data["objects"] == 2 and [c.site for c in data["bad"]] == ["b"]
    assert "still restorable from site a" in data["reason"]
    assert "BAD COPY" in rendered(views.verify_table(report))


def test_jobs_without_logical_is_refused_before_anything_runs(tmp_path: Path) -> None:
    from backup.take import take_backup

    settings = load_backup_settings(empty_config(tmp_path), database_url="sqlite:///nowhere.sqlite")
    with pytest.raises(UsageError, match="--jobs applies to --logical dumps only"):
        take_backup(settings, [MemorySite("a")], None, "", logical=False, jobs=2)


def test_a_sqlite_backup_refuses_a_point_in_time(tmp_path: Path) -> None:
    from backup.reach import RecoveryTarget
    from backup.restore import restore

    site = MemorySite("a")
    site.objects[manifest_key(BACKUP_ID)] = manifest({"a": "ok"}).to_json()
    settings = load_backup_settings(empty_config(tmp_path), database_url="sqlite:///nowhere.sqlite")
    when = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC).isoformat()
    with pytest.raises(UsageError, match="needs PostgreSQL"):
        restore(settings, [site], tmp_path / "x.sqlite", RecoveryTarget("time", when))
    assert not (tmp_path / "x.sqlite").exists()
