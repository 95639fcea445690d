"""The isolation's nftables tables: what a cut drops, which tables are whose, and that undo touches only ours."""

from __future__ import annotations

import os
import subprocess

import pytest

from failover import isolation
from failover.timeline import Timeline
from failover.types import FailoverFailed


class FakeNft:
    """An nft that keeps tables in a set and records every call."""

    def __init__(self, tables: set[str] | None = None, refuse: bool = False) -> None:
        self.tables = set(tables or ())
        self.refuse = refuse
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, *args: str, script: str | None = None) -> subprocess.CompletedProcess[str]:
        self.calls.append(args)
        if args[:2] == ("list", "tables"):
            out = "".join(f"table inet {t}\n" for t in sorted(self.tables)) + "table ip filter\n"
            return subprocess.CompletedProcess(args, 0, out, "")
        if args[:1] == ("delete",):
            self.tables.discard(args[-1])
            return subprocess.CompletedProcess(args, 0, "", "")
        if args[:2] == ("-f", "-") and script is not None:
            if self.refuse:
                return subprocess.CompletedProcess(args, 1, "", "Error: syntax error")
            self.tables.add(script.split()[2])
            return subprocess.CompletedProcess(args, 0, "", "")
        raise AssertionError(args)


@pytest.fixture
def nft(monkeypatch: pytest.MonkeyPatch) -> FakeNft:
    fake = FakeNft()
    monkeypatch.setattr(isolation, "_nft", fake)
    monkeypatch.setattr(isolation, "unavailable", lambda: None)
    return fake


def test_a_cut_drops_loopback_tcp_both_ways_on_the_input_hook() -> None:
    script = isolation.rules("erpops_iso_1_1", [5433, 5432, 5433])
    assert "hook input priority -300" in script
    assert 'iifname "lo" tcp dport { 5432, 5433 } drop' in script
    assert 'iifname "lo" tcp sport { 5432, 5433 } drop' in script


@pytest.mark.parametrize(("table", "ports", "message"), [
    ("erpops_iso_1_1", [], "isolation needs TCP ports 1..65535"),
    ("erpops_iso_1_1", [70000], "isolation needs TCP ports 1..65535"),
    ("bad; flush ruleset", [5432], "bad nftables table name"),
])
def test_rules_refuse_what_could_reach_beyond_the_lab(table: str, ports: list[int], message: str) -> None:
    with pytest.raises(FailoverFailed, match=message):
        isolation.rules(table, ports)


def test_isolate_names_the_table_after_this_process_and_lift_is_idempotent(nft: FakeNft) -> None:
    cut = isolation.isolate([5432])
    assert cut.table.startswith(f"erpops_iso_{os.getpid()}_") and cut.table in nft.tables
    timeline = Timeline()
    isolation.lift(cut, timeline)
    isolation.lift(cut, timeline)
    assert cut.table not in nft.tables and cut.lifted
    assert [e.mark for e in timeline.events] == ["isolation_lifted", "isolation_lifted"]
    assert sum(1 for call in nft.calls if call[0] == "delete") == 1
    isolation.lift(None, timeline)  # nothing in force: nothing to do


def test_a_refused_script_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeNft(refuse=True)
    monkeypatch.setattr(isolation, "_nft", fake)
    monkeypatch.setattr(isolation, "unavailable", lambda: None)
    with pytest.raises(FailoverFailed, match="nft refused the isolation rules: Error: syntax error"):
        isolation.isolate([5432])
    assert fake.tables == set()


def test_isolate_says_why_it_cannot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(isolation, "unavailable", lambda: "isolating a member needs root (nftables rules)")
    with pytest.raises(FailoverFailed, match="^cannot isolate: isolating a member needs root"):
        isolation.isolate([5432])


def test_leftovers_are_the_tables_of_dead_processes_only(nft: FakeNft) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    mine, dead = f"erpops_iso_{os.getpid()}_7", f"erpops_iso_{gone.pid}_1"
    nft.tables |= {mine, dead, "someone_else"}
    assert isolation.tables() == sorted([dead, mine])
    assert isolation.leftover_tables() == [dead]
    assert isolation.lift_leftovers() == [dead]
    assert nft.tables == {mine, "someone_else"}
    assert isolation.lift_own() == [mine]
    assert nft.tables == {"someone_else"}


def test_a_table_that_will_not_go_is_an_error(nft: FakeNft, monkeypatch: pytest.MonkeyPatch) -> None:
    nft.tables.add("erpops_iso_1_1")

    def stuck(*args: str, script: str | None = None) -> subprocess.CompletedProcess[str]:
        if args[0] == "delete":
            return subprocess.CompletedProcess(args, 1, "", "Error: busy")
        return nft(*args, script=script)

    monkeypatch.setattr(isolation, "_nft", stuck)
    with pytest.raises(FailoverFailed, match="could not lift isolation table erpops_iso_1_1: Error: busy"):
        isolation.Cut("erpops_iso_1_1", (5432,)).lift()
