"""The audit trail's hash chain as data: a chain built entry by entry verifies; an edited, deleted, inserted or
reordered entry breaks it, and the verdict names the first broken link."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from erpcore.domain.audit import (
    CHAINS,
    GENESIS,
    Entry,
    Link,
    chain_of,
    continuing,
    dumps,
    link,
    moment,
    verify,
    verify_archived,
)

AT = "2026-01-02T03:04:05.000006Z"


def chain(n: int, c: int = 3) -> list[Link]:
    links, prev = [], GENESIS
    for seq in range(1, n + 1):
        made = link(prev, c, seq, AT, "ann", "sales_clerk", Entry("sales.order.create", "sales_order", seq,
                                                                     f"SO-2026-{seq:06d}", None, {"n": seq}))
        links.append(dataclasses.replace(made, id=seq * 10))
        prev = made.row_hash
    return links


def heads(links: list[Link]) -> dict[int, tuple[int, str]]:
    return {links[-1].chain: (links[-1].seq, links[-1].row_hash)}


def test_an_untouched_chain_verifies() -> None:
    links = chain(5)
    verdict = verify(links, heads(links))
    assert verdict.ok and verdict.checked == 5 and "every link intact" in verdict.reason
    assert links[0].prev_hash == GENESIS and links[1].prev_hash == links[0].row_hash


def test_an_edited_entry_is_named() -> None:
    links = chain(5)
    good = heads(links)
    links[2] = dataclasses.replace(links[2], after='{"n":999}')
    verdict = verify(links, good)
    assert not verdict.ok and (verdict.breaks[0].seq, verdict.breaks[0].id) == (3, 30)
    assert "edited" in verdict.reason and "chain 3 entry 3 (id 30)" in verdict.reason


def test_a_deleted_entry_is_named_in_the_middle_and_at_the_end() -> None:
    links = chain(5)
    good = heads(links)
    verdict = verify(links[:2] + links[3:], good)
    assert verdict.breaks[0].seq == 4 and "deleted" in verdict.breaks[0].reason
    tail = verify(links[:4], good)
    assert tail.breaks[0].seq == 5 and "deleted" in tail.breaks[0].reason


def test_an_inserted_entry_is_named_even_when_its_own_hash_is_right() -> None:
    links = chain(5)
    good = heads(links)
    forged = link(links[1].row_hash, 3, 3, AT, "mallory", "admin", Entry("x.y.z", "sales_order", 99))
    shifted = [dataclasses.replace(lk, seq=lk.seq + 1) for lk in links[2:]]
    verdict = verify([*links[:2], forged, *shifted], good)
    assert verdict.breaks[0].seq == 4 and "inserted" in verdict.breaks[0].reason  # the next link no longer holds
    stray = link(GENESIS, 7, 1, AT, "mallory", "admin", Entry("x.y.z", "y", 1))
    assert "inserted" in verify([*links, stray], good).reason


def test_reordered_entries_are_named() -> None:
    links = chain(5)
    good = heads(links)
    swapped = [links[0], dataclasses.replace(links[2], seq=2), dataclasses.replace(links[1], seq=3), *links[3:]]
    verdict = verify(swapped, good)
    assert verdict.breaks[0].seq == 2 and not verdict.ok
    in_place = [links[0], links[2], links[1], *links[3:]]  # read back in the wrong order
    assert verify(in_place, good).breaks[0].seq == 3


def test_each_chain_reports_its_own_first_break() -> None:
    a, b = chain(3, c=1), chain(3, c=2)
    hs = heads(a) | heads(b)
    b[0] = dataclasses.replace(b[0], actor="someone else")
    verdict = verify([*a, *b], hs)
    assert [(x.chain, x.seq) for x in verdict.breaks] == [(2, 1)]


def test_values_are_canonical_and_timestamps_utc() -> None:
    assert dumps({"b": Decimal("1.50"), "a": dt.date(2026, 1, 2)}) == '{"a":"2026-01-02","b":"1.50"}'
    naive = dt.datetime(2026, 1, 2, 3, 4, 5, 6)
    assert moment(naive) == moment(naive.replace(tzinfo=dt.UTC)) == AT
    assert moment(dt.datetime(2026, 1, 2, 4, 4, 5, 6, tzinfo=dt.timezone(dt.timedelta(hours=1)))) == AT
    assert 0 <= chain_of("sales_order", "SO-1", 1) < CHAINS
    assert chain_of("sales_order", "SO-1", 1) == chain_of("sales_order", "SO-1", 2)


def test_a_chain_verifies_from_its_anchor_once_its_oldest_entries_are_archived() -> None:
    links = chain(5)
    anchor = {3: (2, links[1].row_hash)}
    verdict = verify(links[2:], heads(links), anchor)
    assert verdict.ok and verdict.checked == 3 and verdict.anchors == anchor and verdict.archived == 2
    assert "1 of them from their archive anchor (2 older entries archived)" in verdict.reason
    assert verify(links, heads(links), {3: (0, GENESIS)}).anchors == {}  # nothing archived: from GENESIS
    assert not verify(links[2:], heads(links)).ok  # without the anchor the first two are missing


def test_an_anchor_moved_without_archiving_is_found_on_one_side_or_the_other() -> None:
    links = chain(5)
    forward = {3: (3, links[2].row_hash)}
    kept = verify(links[2:], heads(links), forward)  # entry 3 moved past, but still in production
    assert kept.breaks[0].seq == 3 and "moved without archiving" in kept.reason
    assert verify(links[3:], heads(links), forward).ok  # entry 3 dropped: production alone cannot tell
    archived = verify_archived(links[:2], forward)  # the archive can: its segment ends at entry 2
    assert not archived.ok and "production anchor is entry 3" in archived.reason
    assert verify_archived(links[:3], forward).ok
    assert "previous-hash" in verify(links[2:], heads(links), {3: (2, GENESIS)}).reason


def test_continuing_stops_at_the_first_entry_that_does_not_link() -> None:
    links = chain(5)
    assert [lk.seq for lk in continuing((0, GENESIS), links)] == [1, 2, 3, 4, 5]
    assert [lk.seq for lk in continuing((2, links[1].row_hash), links[2:])] == [3, 4, 5]
    edited = [*links[:3], dataclasses.replace(links[3], actor="mallory"), links[4]]
    assert [lk.seq for lk in continuing((0, GENESIS), edited)] == [1, 2, 3]
    assert list(continuing((1, links[0].row_hash), links[2:])) == []  # entry 2 missing
