"""Order-independent hashes: equal for the same rows in any order and on either engine's types."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from archive.rowhash import Digest, canonical, combine, digest
from erpcore.models import metadata

LINE = metadata.tables["journal_line"]


def rows() -> list[dict[str, object]]:
    return [{"id": i, "journal_entry_id": 1, "account_id": 2, "debit": Decimal(f"{i}.5000"), "credit": Decimal(0),
             "customer_id": None, "supplier_id": 3} for i in range(1, 6)]


def test_the_order_of_rows_does_not_matter() -> None:
    forward, backward = digest(LINE, rows()), digest(LINE, list(reversed(rows())))
    assert forward == backward and forward.rows == 5 and len(forward.hex) == 32


def test_any_change_a_lost_or_a_duplicated_row_changes_the_hash() -> None:
    base = digest(LINE, rows())
    changed = rows()
    changed[2]["debit"] = Decimal("3.5001")
    assert digest(LINE, changed) != base
    assert digest(LINE, rows()[:-1]).value != base.value
    doubled = rows() + rows()[:1]
    assert digest(LINE, doubled).value != base.value  # XOR would cancel a pair out; a sum does not


def test_sqlite_floats_and_postgres_decimals_hash_alike() -> None:
    from_pg = rows()
    from_sqlite = [{**r, "debit": float(r["debit"]), "credit": 0.0} for r in rows()]  # type: ignore[arg-type]
    assert digest(LINE, from_sqlite) == digest(LINE, from_pg)


def test_canonical_values() -> None:
    aware = dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert canonical(aware) == "2024-01-01T10:00:00"
    assert canonical(dt.datetime(2024, 1, 1, 10, 0)) == "2024-01-01T10:00:00"
    assert canonical(None) == "\\N" and canonical(True) == "t"
    assert canonical(Decimal("1.5"), 4) == "1.5000" and canonical(0.1 + 0.2, 4) == "0.3000"
    assert canonical({"b": 1, "a": [2]}) == '{"a":[2],"b":1}'
    assert canonical(dt.date(2024, 2, 29)) == "2024-02-29"


def test_digests_add_up_like_the_sets_they_stand_for() -> None:
    whole = digest(LINE, rows())
    parts = combine([digest(LINE, rows()[:2]), digest(LINE, rows()[2:])])
    assert parts == whole and combine([]) == Digest()


def test_the_fast_path_hashes_like_the_canonical_lines() -> None:
    from archive.rowhash import row_line, row_number, scales

    mixed = [*rows(), {**rows()[0], "id": 9, "debit": 2.25, "customer_id": 4}]
    expected = sum(row_number(row_line(LINE, r, scales(LINE))) for r in mixed) % (1 << 128)
    assert digest(LINE, mixed).value == expected


def test_record_digests_say_their_kind_and_never_mix_with_canonical_ones() -> None:
    import pytest

    from archive.rowhash import RECORD, kind_of

    record = Digest(2, (1 << 64) - 1, 0, RECORD) + Digest(1, 2, 0, RECORD)
    assert record == Digest(3, 1, 0, RECORD)  # modulo 2**64
    assert record.hex == "record:0000000000000001" and kind_of(record.hex) == RECORD
    assert kind_of(digest(LINE, rows()).hex) == ""
    assert combine([Digest(), record]) == record  # the empty digest adds to either kind
    with pytest.raises(ValueError, match="cannot add"):
        _ = record + digest(LINE, rows())
