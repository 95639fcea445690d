"""Key rotation while the API serves: values move from k1 to k2 in batches of one row while clients hire and
read employees; every request succeeds, nothing is lost, and afterwards every value is under k2 only."""

from __future__ import annotations

import threading
from decimal import Decimal as D

from sqlalchemy import Engine

from erpcore.access import SYSTEM
from erpcore.api.app import create_app
from erpcore.crypto import Keyring, generate_key, parse_keys
from erpcore.services import keys, payroll
from erpcore.services.bootstrap import bootstrap
from tests.asgi import Client
from tests.e2e.api.conftest import Api

K1, K2 = generate_key("k1"), generate_key("k2")


def test_rotation_runs_while_the_api_hires_and_reads(engine: Engine) -> None:
    old = bootstrap(engine)
    old._keyring = Keyring(parse_keys(K1, "test"), "k1")
    payroll.create_department(old.uow(SYSTEM), "OPS", "Operations", "CC-100")
    for n in range(12):
        payroll.hire_employee(old.uow(SYSTEM), f"E{n:02d}", "Old", "OPS", D("2000.00") + n, tax_id=f"T{n:04d}")
    both = Keyring(parse_keys(f"{K1},{K2}", "test"), "k2")
    erp = bootstrap(engine)
    erp._keyring = both  # the API restarted with k2 added and active, k1 kept for reading
    api = Api(Client(create_app(erp)), erp)
    statuses: list[int] = []

    def clients() -> None:
        for n in range(8):
            statuses.append(api.post("/employees", {"code": f"N{n:02d}", "name": "New", "department": "OPS",
                                                    "salary": "3000.00", "tax_id": f"N{n:04d}"}).status_code)
            listed = api.get("/employees", role="finance")
            statuses.append(listed.status_code)

    serving = threading.Thread(target=clients)
    serving.start()
    result = keys.rotate(engine, both, batch_size=1)
    serving.join()
    assert result.finished and result.batches >= 24  # 12 salaries + 12 tax ids, one row per transaction
    assert set(statuses) == {200, 201} and len(statuses) == 16
    again = keys.rotate(engine, both)
    assert again.finished and sum(again.rewritten.values()) == 0  # nothing left: resumable, idempotent
    counts = {f.field: f.counts for f in keys.status(engine, both).fields}
    assert counts["employee.salary"] == {"k2": 20} and counts["employee.tax_id"] == {"k2": 20}
    only_new = Keyring(parse_keys(K2, "test"), "k2")
    staff = payroll.list_employees(engine, only_new)
    assert [e["salary"] for e in staff[:3]] == [D("2000.00"), D("2001.00"), D("2002.00")]
    assert len(staff) == 20 and staff[-1]["tax_id"] == "N0007"
