from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from erpcore.migrate import current, head
from erpcore.models import metadata


def test_migrations_reach_head_and_create_every_table(engine: Engine) -> None:
    assert current(engine) == head()
    tables = set(inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables


@pytest.mark.pg
def test_postgres_refuses_updates_of_journal_rows(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO journal_entry(number, entry_date, source_type, source_id, event, description)"
            " VALUES ('JE-T-1', '2024-01-01', 'test', 1, 'post', 'x')"
        ))
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text("UPDATE journal_entry SET description = 'changed'"))
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM journal_entry"))


@pytest.mark.pg
def test_postgres_freezes_order_and_supplier_invoice_amounts(engine: Engine) -> None:
    from erpcore.services import sales
    from erpcore.services.bootstrap import bootstrap
    from erpcore.services.sales import OrderLineInput
    from tests.factories import make_world, stock_up

    erp = bootstrap(engine)
    w = make_world(erp)
    stock_up(w, "5")
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, Decimal(1))]).id
    for sql in (f"UPDATE sales_order_line SET unit_price = 0.01 WHERE sales_order_id = {so}",
                f"UPDATE sales_order SET net_amount = 1 WHERE id = {so}",
                "UPDATE purchase_order_line SET unit_price = 0.01"):
        with pytest.raises(DBAPIError, match="frozen once written"):
            with engine.begin() as conn:
                conn.execute(text(sql))


@pytest.mark.pg
def test_only_an_archiver_may_purge_posted_rows(engine: Engine) -> None:
    """Setting erpops.allow_purge is not enough: the session's role must be a member of erpops_archive."""
    role = f"erp_app_{abs(hash(str(engine.url))) % 10**8}"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO journal_entry(number, entry_date, source_type, source_id, event, description)"
                          " VALUES ('JE-T-9', '2024-01-01', 'test', 1, 'post', 'x')"))
        conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        conn.execute(text(f"CREATE ROLE {role} NOLOGIN"))
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        conn.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {role}"))
        conn.execute(text(f"GRANT DELETE, SELECT ON journal_entry TO {role}"))
    try:
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(f"SET LOCAL ROLE {role}"))
                conn.execute(text("SET LOCAL erpops.allow_purge = on"))
                conn.execute(text("DELETE FROM journal_entry WHERE number = 'JE-T-9'"))
        with engine.begin() as conn:  # the archive role's members may
            conn.execute(text(f"GRANT erpops_archive TO {role}"))
            conn.execute(text(f"SET LOCAL ROLE {role}"))
            conn.execute(text("SET LOCAL erpops.allow_purge = on"))
            assert conn.execute(text("DELETE FROM journal_entry WHERE number = 'JE-T-9'")).rowcount == 1
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"REVOKE ALL ON journal_entry FROM {role}"))
            conn.execute(text(f"REVOKE ALL ON SCHEMA {schema} FROM {role}"))
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))


def _delete_guards(engine: Engine) -> dict[str, str]:
    """This schema's own triggers that fire on DELETE (only the purge guards do): name -> ROW or STATEMENT."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT t.tgname, CASE WHEN t.tgtype & 1 = 1 THEN 'ROW' ELSE 'STATEMENT' END FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = current_schema()::regnamespace "
            "AND NOT t.tgisinternal AND t.tgtype & 8 = 8"))
        return {str(name): str(level) for name, level in rows}


@pytest.mark.pg
def test_the_purge_guard_runs_once_a_statement(engine: Engine) -> None:
    """A row-level BEFORE DELETE trigger made PostgreSQL lock, and WAL-log the lock of, every row an archive run
    purged (about 2.1 million at the issue's size). The guard is now one check a statement, and refuses as before."""
    guards = _delete_guards(engine)
    assert guards["journal_line_append_only_delete"] == "STATEMENT"
    assert guards["shipment_frozen_delete"] == "STATEMENT"
    assert set(guards.values()) == {"STATEMENT"}, guards
    with engine.begin() as conn:
        for n in range(3):
            conn.execute(text("INSERT INTO journal_entry(number, entry_date, source_type, source_id, event, description)"
                              f" VALUES ('JE-S-{n}', '2024-01-01', 'test', {n}, 'post', 'x')"))
    for sql, refusal in (("DELETE FROM journal_entry", "journal_entry rows are append-only"),
                         ("DELETE FROM journal_entry WHERE id < 0", "append-only"),  # no row: refused all the same
                         ("DELETE FROM shipment WHERE id < 0", "posted shipment rows are never deleted")):
        with pytest.raises(DBAPIError, match=refusal), engine.begin() as conn:
            conn.execute(text(sql))
    with engine.begin() as conn:  # this login is a superuser, so a member of erpops_archive: it may purge
        conn.execute(text("SET LOCAL erpops.allow_purge = on"))
        assert conn.execute(text("DELETE FROM journal_entry WHERE number LIKE 'JE-S-%'")).rowcount == 3


@pytest.mark.pg
def test_the_purge_guard_downgrades_to_row_triggers_and_back(engine: Engine) -> None:
    from alembic import command

    from erpcore.migrate import alembic_config, upgrade

    command.downgrade(alembic_config(engine), "0017_audit_anchor")
    before = _delete_guards(engine)
    assert before["journal_line_append_only"] == "ROW" and "journal_line_append_only_delete" not in before
    assert set(before.values()) == {"ROW"}
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO journal_entry(number, entry_date, source_type, source_id, event, description)"
                          " VALUES ('JE-D-1', '2024-01-01', 'test', 1, 'post', 'x')"))
        assert conn.execute(text("DELETE FROM shipment WHERE id < 0")).rowcount == 0  # a row trigger sees no row
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM journal_entry"))
    upgrade(engine)
    assert current(engine) == head()
    after = _delete_guards(engine)
    assert set(after) == {f"{name}_delete" for name in before} | {"audit_event_append_only_delete"}  # 0019's
    assert set(after.values()) == {"STATEMENT"}


@pytest.mark.pg
def test_audit_entries_are_append_only_but_for_the_archives_purge(engine: Engine) -> None:
    """The trail refuses an edit and a delete (it only told of them before); the archive may still move entries."""
    from alembic import command

    from erpcore import audit
    from erpcore.migrate import alembic_config, upgrade
    from erpcore.services.bootstrap import bootstrap
    from tests.factories import make_world

    make_world(bootstrap(engine))  # master data, each write audited
    with engine.connect() as conn:
        entry = conn.execute(text("SELECT id FROM audit_event ORDER BY id DESC LIMIT 1")).scalar_one()
    for sql, refusal in (("UPDATE audit_event SET actor = 'mallory' WHERE id = :i", r"UPDATE refused"),
                         ("DELETE FROM audit_event WHERE id = :i", r"DELETE refused")):
        with pytest.raises(DBAPIError, match=f"audit_event rows are append-only \\({refusal}\\)"), engine.begin() as conn:
            conn.execute(text(sql), {"i": entry})
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:  # purging deletes, never edits
        conn.execute(text("SET LOCAL erpops.allow_purge = on"))
        conn.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE id = :i"), {"i": entry})
    assert audit.verify_trail(engine).ok
    with engine.begin() as conn:  # this login is a superuser, so a member of erpops_archive: it may purge
        conn.execute(text("SET LOCAL erpops.allow_purge = on"))
        assert conn.execute(text("DELETE FROM audit_event WHERE id = :i"), {"i": entry}).rowcount == 1
    command.downgrade(alembic_config(engine), "0018_purge_guard_per_statement")
    assert not any(name.startswith("audit_event") for name in _delete_guards(engine))
    upgrade(engine)
    assert _delete_guards(engine)["audit_event_append_only_delete"] == "STATEMENT"
