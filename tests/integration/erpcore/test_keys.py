"""`services.keys` on both engines: plain values sealed once a key is set, batches committed one by one (a stop
keeps what was done), a tampered value stops rotation naming its field, and no key means no rotation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from sqlalchemy import text

from erpcore.access import SYSTEM
from erpcore.crypto import DecryptionFailed, Keyring, generate_key, parse_keys
from erpcore.exceptions import ConfigError
from erpcore.services import keys, master, payroll
from erpcore.services.bootstrap import Erp

K1 = Keyring(parse_keys(generate_key("k1"), "test"), "k1")


def _plain_staff(erp: Erp) -> None:
    """Written with no key configured: stored plain."""
    payroll.create_department(erp.uow(SYSTEM), "OPS", "Operations", "CC-100")
    for n in range(5):
        payroll.hire_employee(erp.uow(SYSTEM), f"E{n}", "N", "OPS", D("1000.00") + n, dt.date(2026, 9, 1),
                              tax_id=f"TAX{n}")
    master.create_customer(erp.uow(SYSTEM), "C1", "Customer", tax_id="GB123")


def test_plain_values_are_sealed_by_rotation_once_a_key_is_set(erp: Erp) -> None:
    _plain_staff(erp)
    before = {f.field: f.counts for f in keys.status(erp.engine, K1).fields}
    assert before["employee.salary"] == {"plain": 5} and before["customer.tax_id"] == {"plain": 1}
    with pytest.raises(ConfigError, match="no encryption key is configured"):
        keys.rotate(erp.engine, Keyring())
    stopped = keys.rotate(erp.engine, K1, batch_size=2, max_batches=2)
    assert not stopped.finished and stopped.rewritten == {"employee.salary": 4}
    assert keys.status(erp.engine, K1).totals == {"k1": 4, "plain": 7}  # the two batches stay committed
    done = keys.rotate(erp.engine, K1, batch_size=2)
    assert done.finished and done.rewritten == {"employee.salary": 1, "employee.tax_id": 5, "customer.tax_id": 1}
    assert "every sealed value is under key 'k1'" in done.reason
    assert keys.status(erp.engine, K1).totals == {"k1": 11}
    assert [e["tax_id"] for e in payroll.list_employees(erp.engine, K1)] == [f"TAX{n}" for n in range(5)]


def test_a_tampered_value_stops_rotation_naming_its_field_and_keeps_earlier_batches(erp: Erp) -> None:
    erp._keyring = K1
    _plain_staff(erp)
    with erp.engine.begin() as conn:
        sealed = conn.execute(text("SELECT tax_id FROM employee WHERE code = 'E3'")).scalar_one()
        forged = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
        conn.execute(text("UPDATE employee SET tax_id = :v WHERE code = 'E3'"), {"v": forged})
    k2 = Keyring({**K1.keys, **parse_keys(generate_key("k2"), "test")}, "k2")
    with pytest.raises(DecryptionFailed, match="employee.tax_id: a value sealed with key 'k1' fails authentication"):
        keys.rotate(erp.engine, k2, batch_size=1)
    counts = {f.field: f.counts for f in keys.status(erp.engine, k2).fields}
    assert counts["employee.salary"] == {"k2": 5}
    assert counts["employee.tax_id"] == {"k1": 2, "k2": 3}  # E0..E2 rotated, E3 refused, E4 not reached
