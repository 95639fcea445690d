"""kill -9 at random moments of `erpops archive run`, then rerun: no duplicate, no orphan, same checksums."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from archive.reconcile import reconcile
from archive.runner import run_archive
from archive.runs import run_lock
from archive.verify import verify
from erpcore.check import run_check
from tests.integration.archive.conftest import CLOSED_THROUGH, Pair, table_digests

TRIALS = 10
DOCUMENTS = ["purchase_order", "purchase_order_line", "goods_receipt_line", "supplier_payment",
             "purchase_requisition", "sales_order", "sales_order_line", "shipment_line", "customer_invoice",
             "customer_receipt"]
ROOT = Path(__file__).resolve().parents[3]


def _url(engine: Engine) -> str:
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "sqlite":
        return url
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    return f"{url}?options=-csearch_path%3D{schema}"


def _start(pair: Pair, log: Path) -> subprocess.Popen[bytes]:
    # paced (the archive's own throttle), so that a run outlasts the first kill on a fast machine too: unpaced,
    # 6 of 10 runs had finished before their kill on one (2026-12-05)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ERPOPS_DATABASE_URL": _url(pair.source),
           "ERPOPS_ARCHIVE__SLEEP_SECONDS": "0.05"}
    argv = [sys.executable, "-m", "erpops", "archive", "run", "--destination", _url(pair.dest), "--closed-through",
            CLOSED_THROUGH.isoformat(), "--batch-size", "5", "--no-check", "--quiet"]
    with log.open("ab") as err:
        return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)


@pytest.mark.slow
def test_kill_nine_at_random_points_then_rerun(pair: Pair, tmp_path: Path) -> None:
    original = table_digests(pair.source, DOCUMENTS)
    rng = random.Random(int(os.environ.get("ARCHIVE_KILL_SEED", "15")))
    killed = 0
    for _ in range(TRIALS):
        proc = _start(pair, tmp_path / "run.log")
        time.sleep(rng.uniform(1.0, 3.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        code = proc.wait(timeout=60)
        assert code in (0, -signal.SIGKILL), (tmp_path / "run.log").read_text()[-2000:]
        ax = pair.archive()
        with run_lock(ax):
            reconcile(ax)
        archived = table_digests(pair.dest, DOCUMENTS, dest=True)
        now = table_digests(pair.source, DOCUMENTS)
        assert {n: now[n] + archived[n] for n in DOCUMENTS} == original
        assert run_check(pair.source).ok
    assert killed >= TRIALS // 2, "the runs finished before the kills: make the data larger"
    ax = pair.archive()
    final = run_archive(ax)
    assert final.check_ok
    result = verify(ax)
    assert result.ok, (result.duplicates, result.orphans, [b.reason for b in result.batches if not b.ok])
    archived = table_digests(pair.dest, DOCUMENTS, dest=True)
    now = table_digests(pair.source, DOCUMENTS)
    assert {n: now[n] + archived[n] for n in DOCUMENTS} == original
    assert archived["sales_order"].rows > 0
