"""Audit entries as an archive family: a prefix of each hash chain leaves with the chain's anchor, `erpops audit
verify` still passes on what stays and still finds tampering with it, the archived segment verifies up to exactly
the anchor (an anchor moved without archiving is found), and a restore of the newest entries moves the anchor back
while any other selection is refused."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, delete, func, insert, select, text, update

from archive.plan import make_plan
from archive.restore import Selection, restore
from archive.runner import run_archive
from archive.verify import verify
from erpcore import audit
from erpcore.audit import verify_trail
from erpcore.domain.audit import GENESIS, Entry, chain_of
from erpcore.exceptions import Conflict
from erpcore.models import AuditChain, AuditEvent
from tests.factories import intruder
from tests.integration.archive.conftest import TODAY, Pair, table_digests

ROOT = Path(__file__).resolve().parents[3]
START = dt.datetime(2021, 1, 5, 12, tzinfo=dt.UTC)
UNTIL = dt.date(2023, 6, 29)  # TODAY less three years of residence (closed periods reach 2024-12-31)
DOCUMENTS = [("sales_order", n, f"SO-T-{n:04d}") for n in range(1, 6)]
LATE = ("sales_order", 99, "SO-T-0099")  # a chain whose old entry follows a newer one: it cannot leave first


def _append(conn: Connection, document: tuple[str, int, str], at: dt.datetime, n: int) -> None:
    entity, entity_id, ref = document
    audit.append(conn, "ann", "sales_clerk", [Entry("sales.order.update", entity, entity_id, ref, {"n": n - 1},
                                                    {"n": n})], at=at)


def make_trail(pair: Pair) -> int:
    """Five documents' histories, one entry a fortnight from 2021 to TODAY, appended in time order, and a sixth
    chain written out of time order; returns how many entries are old enough to move."""
    assert len({chain_of(entity, ref, n) for entity, n, ref in [*DOCUMENTS, LATE]}) == 6  # six distinct chains
    old = 0
    with pair.source.begin() as conn:
        for day in (dt.datetime(2021, 2, 1, 12, tzinfo=dt.UTC), dt.datetime(2025, 2, 1, 12, tzinfo=dt.UTC),
                    dt.datetime(2021, 3, 1, 12, tzinfo=dt.UTC)):
            _append(conn, LATE, day, day.month)
        at, n = START, 0
        while at.date() <= TODAY:  # the newest entry holds the highest id (SQLite keeps that one anyway)
            _append(conn, DOCUMENTS[n % len(DOCUMENTS)], at, n)
            old += at.date() <= UNTIL
            at, n = at + dt.timedelta(days=14), n + 1
    return old + 1  # the late chain's first entry; its third stays behind its newer second


def _entries(conn: Connection, where: Any = True) -> list[dict[str, Any]]:
    stmt = select(AuditEvent.__table__).where(where).order_by(AuditEvent.chain, AuditEvent.seq)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def _count(pair: Pair) -> int:
    with pair.source.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one())


@contextmanager
def tampered(pair: Pair, *statements: Any) -> Iterator[None]:
    """Run `statements` on production, then put every audit row and anchor back as it was."""
    with pair.source.connect() as conn:
        rows = _entries(conn)
        chains = [dict(r._mapping) for r in conn.execute(select(AuditChain.__table__))]
    with intruder(pair.source) as conn:
        for statement in statements:
            conn.execute(statement)
    try:
        yield
    finally:
        with intruder(pair.source) as conn:
            conn.execute(delete(AuditEvent))
            conn.execute(insert(AuditEvent), rows)
            for chain in chains:
                conn.execute(update(AuditChain).where(AuditChain.chain == chain["chain"]).values(**chain))


def test_old_audit_entries_leave_with_their_anchors_and_come_back(pair: Pair) -> None:
    old = make_trail(pair)
    total = _count(pair)
    before = table_digests(pair.source, ["audit_event"])
    ax = pair.archive(batch_size=7)
    assert not ax.server_side(ax.closures["audit_entries"])  # anchors move in Python

    planned = {f.family: f for f in make_plan(ax, ["audit_entries"], today=TODAY).families}["audit_entries"]
    assert planned.until == UNTIL and planned.movable == old and planned.skipped == {"chain_order": 1}
    assert "entry 2 of audit chain" in planned.examples[0].reason
    result = run_archive(ax, families=["audit_entries"], today=TODAY)
    assert result.check_ok and result.family_rows == {"audit_entries": old}, result.check_violations

    trail = verify_trail(pair.source)
    assert trail.ok and trail.checked == total - old and trail.archived == old, trail.reason
    assert "6 of them from their archive anchor" in trail.reason
    with pair.dest.connect() as conn:
        archived = _entries(conn)
    last = {r["chain"]: (r["seq"], r["row_hash"]) for r in archived}  # ordered by seq: the last one wins
    assert trail.anchors == last and len(archived) == old
    assert last[chain_of("sales_order", LATE[2], 99)][0] == 1
    checked = verify(ax)
    assert checked.ok and f"{old} archived audit entries verified" in checked.audit_chains, checked
    _tampering_is_still_found(pair, ax)

    with pytest.raises(Conflict, match="only the newest archived entries of a chain"):
        restore(ax, Selection(family="audit_entries", date_to=dt.date(2022, 6, 30)))
    assert _count(pair) == total - old
    back = restore(ax, Selection(family="audit_entries", date_from=dt.date(2023, 1, 1)))
    assert 0 < back.documents < old and _count(pair) == total - old + back.documents
    trail = verify_trail(pair.source)
    assert trail.ok and trail.archived == old - back.documents, trail.reason
    assert verify(ax).ok
    restore(ax, Selection(family="audit_entries", date_from=dt.date(2000, 1, 1)))
    trail = verify_trail(pair.source)
    assert trail.ok and trail.anchors == {} and trail.checked == total, trail.reason
    assert table_digests(pair.source, ["audit_event"]) == before
    assert verify(ax).ok


def _tampering_is_still_found(pair: Pair, ax: Any) -> None:
    with pair.source.connect() as conn:
        anchors = audit.anchors(conn)
        chain = chain_of("sales_order", DOCUMENTS[0][2], 1)
        first = _entries(conn, (AuditEvent.chain == chain) & (AuditEvent.seq == anchors[chain][0] + 1))[0]
    for statement, words in [
        (update(AuditEvent).where(AuditEvent.id == first["id"]).values(actor="mallory"), "edited"),
        (delete(AuditEvent).where(AuditEvent.id == first["id"]), "deleted"),
        (insert(AuditEvent).values({**first, "id": first["id"] + 10**6, "seq": anchors[chain][0]}),
         "at or below its chain's archive anchor"),
    ]:
        with tampered(pair, statement):
            trail = verify_trail(pair.source)
            assert not trail.ok and trail.breaks[0].chain == chain and words in trail.reason, trail.reason
    forward = update(AuditChain).where(AuditChain.chain == chain).values(anchor_seq=first["seq"],
                                                                          anchor_hash=first["row_hash"])
    with tampered(pair, forward):  # the anchor moved over an entry still in production
        assert "the anchor was moved without archiving" in verify_trail(pair.source).reason
    with tampered(pair, forward, delete(AuditEvent).where(AuditEvent.id == first["id"])):
        assert verify_trail(pair.source).ok  # production alone cannot tell: the archive can
        checked = verify(ax)
        assert not checked.ok and f"archived audit chain {chain}" in checked.audit_chain_breaks[0]
        assert "moved without archiving" in checked.audit_chain_breaks[0]
    with tampered(pair, update(AuditChain).where(AuditChain.chain == chain).values(anchor_hash=GENESIS)):
        assert "previous-hash does not match" in verify_trail(pair.source).reason
    assert verify_trail(pair.source).ok and verify(ax).ok


def _erpops(*args: str, database: str, folder: Path) -> Any:
    (folder / "none.toml").touch()  # an empty configuration: no developer's erpops.toml leaks in
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ERPOPS_DATABASE_URL": database,
           "ERPOPS_CONFIG": str(folder / "none.toml")}
    proc = subprocess.run([sys.executable, "-m", "erpops", *args], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout) if "--json" in args else proc.stdout


def test_the_cli_plans_the_family_and_audit_verify_names_the_anchors(sqlite_pair: Pair, tmp_path: Path) -> None:
    old = make_trail(sqlite_pair)
    run_archive(sqlite_pair.archive(), families=["audit_entries"], today=TODAY)
    source = sqlite_pair.source.url.render_as_string(hide_password=False)
    dest = sqlite_pair.dest.url.render_as_string(hide_password=False)
    plan = _erpops("archive", "plan", "--json", "--destination", dest, "--closed-through", "2024-12-31",
                   database=source, folder=tmp_path)
    (family,) = [f for f in plan["families"] if f["family"] == "audit_entries"]
    assert family["tables"] == ["audit_event"] and family["residence_years"] == 3
    verdict = _erpops("audit", "verify", "--json", database=source, folder=tmp_path)
    assert verdict["ok"] and sum(a["seq"] for a in verdict["anchors"].values()) == old, verdict
    shown = _erpops("audit", "verify", database=source, folder=tmp_path)
    assert "from their archive anchor" in shown and all(a["hash"][:8] in shown for a in verdict["anchors"].values())
    with sqlite_pair.source.connect() as conn:
        assert conn.execute(text("SELECT SUM(anchor_seq) FROM audit_chain")).scalar_one() == old
