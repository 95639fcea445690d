"""The harness's own server and data setup on a real database: stock for every item, books in balance."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import Engine, text

from erpcore.check import run_check
from erpcore.db import make_engine
from loadtest.fixture import MANUFACTURED, STOCK_PER_ITEM, SetupFailed, create_fixture, tokens_from_database
from loadtest.server import start_server
from loadtest.tokens import ROLES
from opskit.errors import Unavailable


def test_server_and_fixture_leave_stock_and_a_clean_check(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'erp.sqlite'}"
    server = start_server(url, tmp_path / "server.log")
    try:
        tokens = tokens_from_database(url, "it")
        assert set(tokens) == set(ROLES)
        fx = create_fixture(server.url, tokens, items=4, customers=2, suppliers=2, seed=7, run_id="run42")
        assert len(fx.items) == 4 and len(fx.customers) == 2 and set(fx.item_supplier.values()) == set(fx.suppliers)
        rows = httpx.get(server.url + "/api/v1/reports/stock-valuation",
                         headers={"Authorization": f"Bearer {tokens['finance']}"}).json()["rows"]
        assert {r["item_id"]: Decimal(r["on_hand"]) for r in rows} == dict.fromkeys(fx.items, STOCK_PER_ITEM)
        with pytest.raises(SetupFailed, match="401") as refused:
            create_fixture(server.url, dict.fromkeys(ROLES, "erp_wrong"), items=1)
        assert refused.value.exit_code == 4  # a harness failure, not a usage error
    finally:
        assert server.stop() is not None
    assert server.process.poll() is not None
    engine = make_engine(url)
    try:
        assert run_check(engine).ok
        with engine.connect() as conn:  # the run's data is scoped by its id: told apart from anyone else's
            codes = {t: sorted(conn.execute(text(f"SELECT {c} FROM {t}")).scalars())
                     for t, c in (("customer", "code"), ("supplier", "code"), ("item", "sku"))}
        assert codes == {"customer": ["LT-run42-C0", "LT-run42-C1"], "supplier": ["LT-run42-S0", "LT-run42-S1"],
                         "item": [f"LT-run42-I{n}" for n in range(4)] + [f"LT-run42-M{n}" for n in range(MANUFACTURED)]}
    finally:
        engine.dispose()


def test_a_server_that_cannot_start_is_unavailable_exit_4_and_leaves_no_process(tmp_path: Path) -> None:
    with pytest.raises(Unavailable) as caught:
        start_server("nosuchdriver://x", tmp_path / "server.log", wait_s=30)
    assert caught.value.exit_code == 4
    assert "nosuchdriver" in caught.value.message  # the server's own last words
    assert not [p for p in psutil.process_iter(["cmdline"]) if "nosuchdriver://x" in (p.info["cmdline"] or [])]


def _ruled(tmp_path: Path, extra_rule: dict[str, object] | None = None) -> tuple[str, Engine]:
    """A database under the default rulebook (as `erpops seed` loads it), plus `extra_rule` if given."""
    from erpcore.migrate import upgrade
    from erpcore.services import rulebook
    from erpcore.services.bootstrap import bootstrap

    url = f"sqlite:///{tmp_path / 'erp.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    erp = bootstrap(engine)
    rulebook.load_rulebook(erp.uow(), rulebook.read_rulebook(rulebook.DEFAULT_RULEBOOK))
    if extra_rule is not None:
        rulebook.set_rule(erp.uow(), extra_rule)
    return url, engine


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (conn.execute(text("SELECT count(*) FROM approval")).scalar_one(),
                conn.execute(text("SELECT count(*) FROM goods_receipt")).scalar_one())


def test_under_the_default_rulebook_held_stock_up_orders_are_decided_by_the_run_s_approvers(tmp_path: Path) -> None:
    """A seeded database holds purchases over 1,000,000 for five approvers besides their creator: the run's two
    buyers and three finance tokens decide them, and the goods come in."""
    url, engine = _ruled(tmp_path)
    server = start_server(url, tmp_path / "server.log")
    try:
        fx = create_fixture(server.url, tokens_from_database(url, "rb"), items=3, customers=1, suppliers=1, seed=3)
        decided, received = _counts(engine)
        assert decided == 5 and received == len(fx.suppliers)  # two buyers, then three from finance
        with engine.connect() as conn:
            assert conn.execute(text("SELECT status FROM purchase_order")).scalars().all() == ["received"]
    finally:
        server.stop()
        engine.dispose()


def test_a_rule_the_run_cannot_satisfy_is_a_setup_failure_naming_the_rulebook(tmp_path: Path) -> None:
    rule = {"code": "po-board", "document_type": "purchase_order", "priority": 99, "conditions": {"amount_over": 1},
            "description": "every purchase needs five finance approvers", "steps": [{"roles": ["finance"],
                                                                                     "required": 5}]}
    url, engine = _ruled(tmp_path, rule)
    server = start_server(url, tmp_path / "server.log")
    try:
        with pytest.raises(SetupFailed, match="stays pending_approval: the rulebook's approval rules") as held:
            create_fixture(server.url, tokens_from_database(url, "rb"), items=3, customers=1, suppliers=1, seed=3)
        assert held.value.exit_code == 4
        decided, received = _counts(engine)
        assert decided >= 2 and received == 0  # the steps it could were decided; nothing was received
    finally:
        server.stop()
        engine.dispose()
