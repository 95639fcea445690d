"""The manifest's ERP integrity summary under concurrent writes: it is taken at a named restore point
while the ERP tables are SHARE-locked, so the drill, restoring to exactly that point, finds the very
same ledger totals and counts although journal entries were being posted throughout the backup.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select

from backup.catalog import read_catalog
from backup.create import BackupResult, create_backup
from backup.drill import run_drill
from backup.integrity import integrity_summary
from backup.settings import BackupSettings, load_backup_settings
from backup.sites import make_sites
from backup.sites.base import Site
from backup.sites.memory import MemorySite
from backup.walarchive import is_segment
from backup.walstream import WalStreamer
from erpcore.db import make_engine
from erpcore.migrate import upgrade
from erpcore.models import Account, JournalEntry, JournalLine
from opskit.pg import Cluster
from tests.integration.backup.conftest import ship_wal, streaming_cluster, write_config

pytestmark = [pytest.mark.cluster, pytest.mark.slow]
AMOUNT = Decimal("12.34")


@dataclass
class Env:
    settings: BackupSettings
    sites: list[Site]
    cluster: Cluster
    backup: BackupResult
    posted_before: int
    posted_during: int
    posted_total: int
    config: Path


class Poster(threading.Thread):
    """Posts balanced journal entries (cash against expense) as fast as it can until stopped."""

    def __init__(self, engine: Engine, cash: int, expense: int) -> None:
        super().__init__(daemon=True)
        self.engine, self.cash, self.expense = engine, cash, expense
        self.stop = threading.Event()
        self.posted = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                n = self.posted + 1
                with self.engine.begin() as conn:
                    entry = conn.execute(
                        insert(JournalEntry)
                        .values(
                            number=f"T-{n:06d}",
                            entry_date=dt.date.today(),
                            source_type="drill_test",
                            source_id=n,
                            event="post",
                            description="concurrent write during the backup",
                        )
                        .returning(JournalEntry.id)
                    ).scalar_one()
                    conn.execute(
                        insert(JournalLine),
                        [
                            {
                                "journal_entry_id": entry,
                                "account_id": self.expense,
                                "debit": AMOUNT,
                                "credit": 0,
                            },
                            {
                                "journal_entry_id": entry,
                                "account_id": self.cash,
                                "debit": 0,
                                "credit": AMOUNT,
                            },
                        ],
                    )
                self.posted = n
        except BaseException as exc:
            self.error = exc


def _entries(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(JournalEntry)).scalar_one())


@pytest.fixture(scope="module")
def env(shared_dir: Path) -> Iterator[Env]:
    site = shared_dir / "point-site"
    config = write_config(
        shared_dir,
        f'[backup]\ncompression = "lz4"\n[[backup.sites]]\nname = "disk"\npath = "{site}"\n',
        "point.toml",
    )
    cluster = streaming_cluster(shared_dir, "point")
    streamer: WalStreamer | None = None
    engine = make_engine(cluster.url(), pool_size=2)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(
                insert(Account),
                [
                    {"code": "9001", "name": "Test cash", "type": "asset"},
                    {"code": "9002", "name": "Test expense", "type": "expense"},
                ],
            )
            cash, expense = (
                conn.execute(select(Account.id).where(Account.code == c)).scalar_one()
                for c in ("9001", "9002")
            )
        settings = load_backup_settings(config, database_url=cluster.url())
        sites = make_sites(settings)
        streamer = WalStreamer(cluster.url(), make_sites(settings), shared_dir / "point-spool")
        streamer.start()
        poster = Poster(engine, cash, expense)
        poster.start()
        while poster.posted < 20 and poster.error is None:
            threading.Event().wait(0.01)
        before = poster.posted
        backup = create_backup(settings, sites)
        during = poster.posted
        threading.Event().wait(0.3)
        poster.stop.set()
        poster.join(timeout=30)
        assert poster.error is None, poster.error
        ship_wal(cluster.url(), streamer)
        yield Env(settings, sites, cluster, backup, before, during, _entries(engine), config)
    finally:
        engine.dispose()
        if streamer is not None:
            streamer.stop()
        cluster.stop()


def test_summary_is_taken_at_a_restore_point_while_writes_go_on(env: Env) -> None:
    m = env.backup.manifest
    assert m.integrity_point == f"erpops-{m.backup_id}" and m.integrity_lsn
    summarised = int(m.integrity["count.journal_entry"])
    # writes ran before, during and after the backup: the summary is neither the start nor the end state
    assert env.posted_before < summarised < env.posted_total, (
        env.posted_before,
        summarised,
        env.posted_total,
    )
    assert env.posted_during > env.posted_before
    assert Decimal(m.integrity["ledger.debit_total"]) == AMOUNT * summarised
    live = make_engine(env.cluster.url())
    try:
        assert integrity_summary(live) != m.integrity
    finally:
        live.dispose()


def test_drill_restores_to_the_summary_point_and_finds_the_same_summary(env: Env) -> None:
    report = run_drill(env.settings, env.sites, seed=3)
    assert report.ok, report.reason
    steps = {s.name: s for s in report.steps}
    detail = steps["restore backup"].detail
    assert f"recovery target name {env.backup.manifest.integrity_point}" in detail
    # only the WAL up to the restore point is fetched, not what was shipped after it
    fetched = int(re.search(r"with (\d+) WAL files", detail).group(1))  # type: ignore[union-attr]
    shipped = [
        n for n in read_catalog(env.sites).wal if is_segment(n) and n >= (env.backup.manifest.start_wal or "")
    ]
    assert 1 <= fetched < len(shipped), (fetched, shipped)
    assert steps["integrity summary"].ok and "equal the manifest" in steps["integrity summary"].detail


def test_drill_says_so_when_the_wal_holding_the_point_reached_no_site(env: Env) -> None:
    no_wal = MemorySite("no-wal")
    for key in env.sites[0].list_keys("backups/"):
        no_wal.objects[key] = env.sites[0].get_bytes(key)
    report = run_drill(env.settings, [no_wal], alert_url="sqlite://")
    assert not report.ok
    assert "restore backup" in report.reason and "has reached no site yet" in report.reason


def test_progress_estimate_of_the_next_backup_scales_from_this_one(env: Env) -> None:
    from backup.estimate import DATABASE_BYTES, create_total

    m = env.backup.manifest
    assert m.extra[DATABASE_BYTES] > 0
    stored = sum(f.size for f in m.files)
    estimate = create_total(env.cluster.url(), env.sites)
    assert estimate is not None and stored // 2 <= estimate <= stored * 2, (estimate, stored)
    assert estimate < m.extra[DATABASE_BYTES]  # the compression ratio is applied, not the raw size


def test_cli_create_with_progress_bars_on_postgresql(env: Env) -> None:
    import json

    from typer.testing import CliRunner

    from backup.cli import app

    out = CliRunner().invoke(
        app,
        ["create", "--config", str(env.config), "--json", "--label", "cli"],
        env={"ERPOPS_BACKUP__DATABASE_URL": env.cluster.url()},
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["kind"] == "physical" and data["sites"] == {"disk": "ok"} and data["files"] == 1
    catalog = read_catalog(env.sites)
    assert catalog.backup().backup_id == data["backup_id"]
    assert catalog.backup().manifest.integrity_point == f"erpops-{data['backup_id']}"
