"""The SQL rendering of row hashes, without a server: the sum of signed halves is the sum of the rows' numbers."""

from __future__ import annotations

import random

from archive.rowhash import MOD, RECORD, Digest
from archive.sqlhash import aggregate_sql, line_sql, supported, to_digest
from erpcore.models import metadata


def _signed(half: int) -> int:
    return half - (1 << 64) if half >= 1 << 63 else half


def test_sums_of_signed_halves_give_the_unsigned_128_bit_sum() -> None:
    rng = random.Random(15)
    numbers = [rng.getrandbits(128) for _ in range(500)] + [(1 << 128) - 1, 1 << 127, (1 << 64) - 1, 0]
    his = [_signed(n >> 64) for n in numbers]
    los = [_signed(n & ((1 << 64) - 1)) for n in numbers]
    row = (len(numbers), sum(his), sum(los), sum(1 for lo in los if lo < 0), 7)
    assert to_digest(row) == Digest(len(numbers), sum(numbers) % MOD, 7)
    assert to_digest((0, None, None, 0, None)) == Digest()


def test_record_digests_are_the_signed_sum_modulo_two_to_the_64() -> None:
    assert to_digest((2, 0, -3, 0, 0), RECORD) == Digest(2, (1 << 64) - 3, 0, RECORD)
    assert "hash_record_extended(ROW(r.\"id\"," in aggregate_sql(metadata.tables["journal_line"], "x r", kind=RECORD)


def test_every_column_is_rendered_and_json_is_refused() -> None:
    line = line_sql(metadata.tables["sales_order"], "r")
    for column in metadata.tables["sales_order"].columns:
        assert f"'{column.name}='" in line
    assert "to_char((r.\"created_at\" AT TIME ZONE 'UTC')" in line and "round(r.\"net_amount\", 4)" in line
    assert supported(metadata.tables["sales_order"]) == ""
    assert "outbox.payload" in supported(metadata.tables["outbox"])
