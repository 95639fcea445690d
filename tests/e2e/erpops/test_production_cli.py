"""`erpops production` as a user runs it, on SQLite and PostgreSQL: a BOM, a work order from plan to close, the
production cost report; usage errors exit 2, business refusals exit 1 with one `error:` line."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from erpcore.db import make_engine
from erpcore.migrate import upgrade
from erpcore.services import master
from erpcore.services.bootstrap import bootstrap
from opskit.exitcodes import ExitCode
from tests.factories import make_world, stock_up

D = Decimal


@pytest.fixture
def database_url(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 request: pytest.FixtureRequest) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ERPOPS_CONFIG", "")
    url = f"sqlite:///{tmp_path}/erp.sqlite" if backend == "sqlite" else str(request.getfixturevalue("pg_schema_url"))
    monkeypatch.setenv("ERPOPS_DATABASE_URL", url)
    return url


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "erpops", *argv], capture_output=True, text=True, timeout=300,
                          check=False)


def erpops(*argv: str) -> Any:
    done = run(*argv, "--json")
    assert done.returncode == ExitCode.OK, done.stderr
    return json.loads(done.stdout)


def test_a_work_order_from_plan_to_close_from_the_shell(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    erp = bootstrap(engine)
    w = make_world(erp, cost="2.00")  # the component, bought at 2.00 then 2.60: 20 units, 46.00
    stock_up(w, "10", "2.00")
    stock_up(w, "10", "2.60")
    made = master.create_item(erp.uow(), "KIT-1", "Kit", D(0), D("9.00"), procurement="manufactured").id
    engine.dispose()

    bom = erpops("production", "bom", "add", str(made), "--line", f"{w.item_id}:2:0.25")
    assert [(x["component_id"], D(x["quantity"]), D(x["scrap_factor"])) for x in bom["lines"]] == [
        (w.item_id, D(2), D("0.25"))]
    assert erpops("production", "bom", "show", str(made)) == bom
    wo = erpops("production", "workorder", "plan", str(made), "--quantity", "6")  # 6 x 2 x 1.25 = 15 parts
    assert D(wo["lines"][0]["quantity"]) == 15 and D(wo["planned_cost"]) == D("30.00")
    wo_id = str(wo["id"])
    assert erpops("production", "workorder", "release", wo_id)["status"] == "released"
    # 15 of 20 parts worth 46.00: 34.50
    assert D(erpops("production", "workorder", "issue", wo_id)["issued_cost"]) == D("34.50")
    # 5 of 6 good: 34.50 x 5/6 = 28.75 into stock, 5.75 to variance at close
    assert D(erpops("production", "workorder", "receive", wo_id, "--quantity", "5")["received_cost"]) == D("28.75")
    closed = erpops("production", "workorder", "close", wo_id)
    assert closed["status"] == "closed" and D(closed["variance_amount"]) == D("5.75")
    [listed] = erpops("production", "workorder", "list", "--status", "closed")
    assert listed["id"] == wo["id"]
    cost = erpops("production", "cost", "--work-order", wo_id)
    assert {k: D(cost["totals"][k]) for k in ("planned_cost", "actual_cost", "variance", "in_wip")} == {
        "planned_cost": D("30.00"), "actual_cost": D("34.50"), "variance": D("5.75"), "in_wip": D(0)}
    assert erpops("check")["ok"] is True
    table = run("production", "cost")
    assert table.returncode == ExitCode.OK and "total" in table.stdout and "34.50" in table.stdout

    again = run("production", "workorder", "close", wo_id)
    assert again.returncode == ExitCode.FAILED and again.stderr.startswith("error: work order")
    assert "Traceback" not in again.stderr and len(again.stderr.splitlines()) == 1
    cycle = run("production", "bom", "add", str(w.item_id), "--line", f"{made}:1")
    assert cycle.returncode == ExitCode.FAILED and "manufactured" in cycle.stderr
    bad = run("production", "bom", "add", str(made), "--line", "seven")
    assert bad.returncode == ExitCode.USAGE and "COMPONENT_ID:QUANTITY" in bad.stderr
