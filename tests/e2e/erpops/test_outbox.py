"""`erpops outbox` as a user runs it: a deliverer process keeps going through a receiver outage and every event
arrives (exactly once after deduplication by Idempotency-Key); SIGTERM stops it cleanly; dead letters replay.
An encryption key is configured throughout: subscription secrets are stored sealed and opened by the deliverer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from erpcore.crypto import generate_key
from erpcore.db import make_engine
from erpcore.migrate import upgrade
from erpcore.models import OutboxMessage, OutboxSubscription
from erpcore.services import purchasing
from erpcore.services.bootstrap import Erp, bootstrap
from erpcore.services.purchasing import PurchaseLineInput
from erpops.cli import main
from opskit.exitcodes import ExitCode
from tests.factories import World, make_world
from tests.webhooks import WebhookReceiver

ROOT = Path(__file__).resolve().parents[3]
SECRET = "e2e-secret-0123456789"
KEY = generate_key("e2e")


@pytest.fixture(params=["sqlite", "pg"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'erp.sqlite'}"
    return str(request.getfixturevalue("pg_schema_url"))


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of every command here, in this process (in-process runs) and for the deliverer process."""
    settings = {"ERPOPS_DATABASE_URL": database_url, "ERPOPS_CONFIG": "",
                "ERPOPS_OUTBOX__BACKOFF_BASE_S": "0.1", "ERPOPS_OUTBOX__BACKOFF_CAP_S": "0.4",
                "ERPOPS_OUTBOX__MAX_ATTEMPTS": "100", "ERPOPS_OUTBOX__POLL_INTERVAL_S": "0.05",
                "ERPOPS_OUTBOX__TIMEOUT_S": "2", "ERPOPS_OUTBOX__BATCH_SIZE": "5", "ERPOPS_ENCRYPTION_KEY": KEY}
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    engine = make_engine(database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture
def erp(env: dict[str, str]) -> Iterator[Erp]:
    engine = make_engine(env["ERPOPS_DATABASE_URL"])
    try:
        yield bootstrap(engine)
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def erpops(capsys: pytest.CaptureFixture[str]) -> Callable[..., Ran]:
    """`erpops ARGS` through the real entry point, in this process (a process per command took ~5 s each)."""

    def run(*args: str) -> Ran:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exited:
            main(list(args))
        out, err = capsys.readouterr()
        code = exited.value.code
        return Ran(code if isinstance(code, int) else 0 if code is None else 1, out, err)

    return run


def _approve_orders(w: World, n: int) -> None:
    for _ in range(n):
        po = purchasing.create_purchase_order(w.erp.uow(), w.supplier_id, [PurchaseLineInput(w.item_id, Decimal(1))])
        purchasing.approve_purchase_order(w.erp.uow(), po.id)


def _event_ids(erp: Erp) -> list[str]:
    with erp.engine.connect() as conn:
        return [str(e) for e in conn.scalars(select(OutboxMessage.event_id).order_by(OutboxMessage.id))]


@pytest.mark.slow
def test_every_event_arrives_through_a_receiver_outage(env: dict[str, str], erp: Erp,
                                                       erpops: Callable[..., Ran]) -> None:
    receiver = WebhookReceiver(SECRET).start()
    deliverer: subprocess.Popen[str] | None = None
    try:
        made = erpops("outbox", "subscribe", "purchasing.*", receiver.url, "--secret", SECRET, "--json")
        assert made.returncode == 0, made.stderr
        assert json.loads(made.stdout)["secret"] == SECRET
        w = make_world(erp)
        _approve_orders(w, 10)
        deliverer = subprocess.Popen([sys.executable, "-m", "erpops", "outbox", "deliver", "--loop",
                                      "--max-duration", "90", "--json"], env=env, cwd=ROOT, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert len(receiver.wait_for(3)) >= 3
        receiver.stop()  # the receiver goes down mid-run ...
        _approve_orders(w, 10)  # ... while the ERP keeps writing events
        time.sleep(1.5)
        during = json.loads(erpops("outbox", "status", "--json").stdout)
        assert during["counts"]["pending"] > 0 and during["oldest_pending_age_s"] >= 0
        with erp.engine.connect() as conn:
            errors = conn.scalars(select(OutboxMessage.last_error).where(OutboxMessage.attempts > 0,
                                                                         OutboxMessage.status == "pending")).all()
        assert errors and all("ConnectError" in str(e) for e in errors)  # it tried, and failed, during the outage
        receiver.start()  # ... and comes back on the same port
        expected = _event_ids(erp)
        assert len(expected) == 20
        assert receiver.wait_for(20, timeout=60) == sorted(expected)  # no loss; exactly once after dedup
        deliverer.send_signal(signal.SIGTERM)
        out, err = deliverer.communicate(timeout=30)
        assert deliverer.returncode == ExitCode.TERMINATED, err
        assert "Traceback" not in err
        summary = json.loads(out)
        assert summary["reason"].endswith("stopped by a stop request")
        assert summary["totals"]["delivered"] == 20
        assert Counter(a["status"] for a in summary["attempts"])["delivered"] == 20
        duplicates = len(receiver.keys()) - len(set(receiver.keys()))
        print(f"20 events through an outage: {len(receiver.keys())} posts received, {duplicates} duplicate(s)")
        after = json.loads(erpops("outbox", "status", "--json").stdout)
        assert after["counts"] == {"pending": 0, "delivered": 20, "dead": 0}
        assert all(r.signed for r in receiver.received)
    finally:
        if deliverer is not None and deliverer.poll() is None:
            deliverer.kill()
            deliverer.communicate(timeout=10)
        receiver.stop()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the commands' contract: once is enough
def test_dead_letters_show_in_status_and_replay(env: dict[str, str], erp: Erp, erpops: Callable[..., Ran],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    receiver = WebhookReceiver(SECRET).start()
    try:
        receiver.fail_with = 500
        sub = json.loads(erpops("outbox", "subscribe", "*", receiver.url, "--secret", SECRET, "--json").stdout)
        listed = json.loads(erpops("outbox", "subscriptions", "--json").stdout)
        assert [(s["id"], s["secret"]) for s in listed] == [(sub["id"], "***")]
        assert SECRET not in erpops("outbox", "subscriptions").stdout
        with erp.engine.connect() as conn:
            assert str(conn.scalar(select(OutboxSubscription.secret))).startswith("v1:e2e:")
        keys = json.loads(erpops("keys", "status", "--json").stdout)
        assert keys["fields"]["outbox_subscription.secret"] == {"e2e": 1}
        _approve_orders(make_world(erp), 1)
        monkeypatch.setenv("ERPOPS_OUTBOX__MAX_ATTEMPTS", "1")
        failed = erpops("outbox", "deliver", "--json")
        assert failed.returncode == ExitCode.FAILED
        assert json.loads(failed.stdout)["attempts"][0]["status"] == "dead"
        status = json.loads(erpops("outbox", "status", "--json").stdout)
        assert status["counts"]["dead"] == 1 and "HTTP 500" in status["dead"][0]["last_error"]
        message_id = status["dead"][0]["id"]
        receiver.fail_with = None
        monkeypatch.setenv("ERPOPS_OUTBOX__MAX_ATTEMPTS", "100")
        replayed = erpops("outbox", "replay", str(message_id), "--json")
        assert json.loads(replayed.stdout)["was"] == "dead"
        done = erpops("outbox", "deliver")
        assert done.returncode == 0 and "1 delivered" in done.stdout
        assert receiver.keys() == _event_ids(erp)
        missing = erpops("outbox", "replay", "424242")
        assert missing.returncode == ExitCode.FAILED and missing.stderr.startswith("error: outbox message 424242")
        gone = json.loads(erpops("outbox", "unsubscribe", str(sub["id"]), "--json").stdout)
        assert gone["id"] == sub["id"] and gone["secret"] == "***"
        bad = erpops("outbox", "subscribe", "*", "ftp://nowhere")
        assert bad.returncode != 0 and bad.stderr.startswith("error: webhook URL must be http(s)")
    finally:
        receiver.stop()
