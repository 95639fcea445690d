"""No plaintext of a sensitive field in a dump of the database (pg_dump of the test's schema; the SQLite file's
bytes), on both engines; without a key the same grep finds them, so the grep can fail."""

from __future__ import annotations

import datetime as dt
import subprocess
from decimal import Decimal as D
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import Engine, text

from erpcore.access import SYSTEM
from erpcore.config import load_settings
from erpcore.crypto import generate_key
from erpcore.services import master, payroll
from erpcore.services.bootstrap import Erp, bootstrap
from opskit.pg import pg_bin_dir

SALARIES = ("4817.39", "5293.61", "6120.47", "3987.53")  # two per department: no department total is one of them
SECRETS = ("NL91ABNA0417164300", "EMP-TAX-4711-0815", "GB-TAXID-918273645", "DE-TAXID-564738291")


def _fill(erp: Erp) -> None:
    payroll.create_department(erp.uow(SYSTEM), "OPS", "Operations", "CC-100")
    payroll.create_department(erp.uow(SYSTEM), "SAL", "Sales", "CC-200")
    for n, salary in enumerate(SALARIES):
        payroll.hire_employee(erp.uow(SYSTEM), f"E{n}", f"Employee {n}", ("OPS", "SAL")[n % 2], D(salary),
                              dt.date(2026, 9, 1), bank_account=f"{SECRETS[0]}{n}", tax_id=f"{SECRETS[1]}{n}")
    master.create_customer(erp.uow(SYSTEM), "C1", "Customer", tax_id=SECRETS[2])
    master.create_supplier(erp.uow(SYSTEM), "S1", "Supplier", tax_id=SECRETS[3])
    payroll.run_payroll(erp.uow(SYSTEM), "2026-10")
    payroll.pay_payroll(erp.uow(SYSTEM), "2026-10")


def dump(engine: Engine) -> bytes:
    """Everything the database holds as a dump or its files show it."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        server = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        done = subprocess.run([str(pg_bin_dir() / "pg_dump"), "--dbname", server, "--schema", schema],
                              capture_output=True, timeout=120, check=True)
        assert b"COPY" in done.stdout and b"employee" in done.stdout
        return done.stdout
    engine.dispose()
    database = Path(str(engine.url.database))
    return b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))


def plaintexts(data: bytes) -> list[str]:
    return [s for s in (*SALARIES, *SECRETS) if s.encode() in data]


def test_a_dump_shows_no_plaintext_of_sensitive_fields(engine: Engine) -> None:
    erp = bootstrap(engine, load_settings(encryption_key=SecretStr(generate_key("k1"))))
    _fill(erp)
    assert payroll.list_employees(engine, erp.keyring)[3]["salary"] == D("3987.53")  # readable with the key
    data = dump(engine)
    assert b"v1:k1:" in data
    assert plaintexts(data) == []


def test_without_a_key_the_same_grep_finds_them(engine: Engine) -> None:
    _fill(bootstrap(engine, load_settings()))
    assert plaintexts(dump(engine)) == [*SALARIES, *SECRETS]
