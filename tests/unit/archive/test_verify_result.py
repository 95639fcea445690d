"""`archive verify` fails on any finding, the archive side's `erpops check` included."""

from __future__ import annotations

import pytest

from archive.verify import BatchCheck, VerifyResult


def test_a_clean_result_is_ok() -> None:
    assert VerifyResult(batches=[BatchCheck(1, "journal_entries", 4, True, "")]).ok


@pytest.mark.parametrize("finding", [
    {"batches": [BatchCheck(1, "journal_entries", 4, False, "hash differs")]},
    {"duplicates": {"journal_entry": 1}},
    {"orphans": {"journal_line": 2}},
    {"check_violations": ["trial_balance: off by 1.00"]},
    {"archive_check_violations": ["reversals_net_to_zero: entry 7"]},
    {"audit_chain_breaks": ["chain 1 breaks at 9"]},
])
def test_any_finding_fails_verify(finding: dict[str, object]) -> None:
    assert not VerifyResult(**finding).ok  # type: ignore[arg-type]
