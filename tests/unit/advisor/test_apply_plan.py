"""A plan file is checked before anything touches the database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisor.apply import Change, ChangeResult, check_timeout, read_plan
from advisor.errors import AdvisorUsageError


def _plan(tmp_path: Path, recs: list[dict[str, object]]) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"recommendations": recs}))
    return path


REC = {"name": "ix_t_a_b", "table": "t", "keys": [["a", False], ["b", True]], "include": ["c"]}


def test_a_plan_rebuilds_each_index_from_its_parts(tmp_path: Path) -> None:
    [(name, cand)] = read_plan(_plan(tmp_path, [REC]), [])
    assert name == "ix_t_a_b"
    assert cand.ddl(name=name) == "CREATE INDEX CONCURRENTLY ix_t_a_b ON t (a, b DESC) INCLUDE (c)"


def test_only_filters_by_name_and_refuses_unknown_names(tmp_path: Path) -> None:
    other = dict(REC, name="ix_t_z", keys=[["z", False]])
    assert [n for n, _ in read_plan(_plan(tmp_path, [REC, other]), ["ix_t_z"])] == ["ix_t_z"]
    with pytest.raises(AdvisorUsageError, match="--only nope is not in the plan"):
        read_plan(_plan(tmp_path, [REC]), ["nope"])


@pytest.mark.parametrize("bad", [
    dict(REC, name="x; DROP TABLE t"), dict(REC, table="t; --"), dict(REC, keys=[["a) ; drop", False]]),
])
def test_a_plan_naming_anything_but_identifiers_is_refused(tmp_path: Path, bad: dict[str, object]) -> None:
    with pytest.raises(AdvisorUsageError, match="not a plain SQL identifier"):
        read_plan(_plan(tmp_path, [bad]), [])


def test_unreadable_or_foreign_json_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(AdvisorUsageError, match="cannot read the plan"):
        read_plan(tmp_path / "x.json", [])
    (tmp_path / "y.json").write_text("[1, 2]")
    with pytest.raises(AdvisorUsageError, match="analyze --json"):
        read_plan(tmp_path / "y.json", [])
    with pytest.raises(AdvisorUsageError):
        read_plan(tmp_path / "missing.json", [])


def test_lock_timeout_must_be_a_duration() -> None:
    assert check_timeout("5s") == "5s"
    assert check_timeout("250ms") == "250ms"
    with pytest.raises(AdvisorUsageError):
        check_timeout("5s'; DROP TABLE t; --")


def test_the_result_fails_when_an_index_failed_or_came_out_invalid() -> None:
    ok = ChangeResult([Change("a", "t", "created", "", "")])
    assert ok.exit_code == 0 and ok.reason == "1 created"
    bad = ChangeResult([Change("a", "t", "created", "", ""), Change("b", "t", "invalid", "", "")])
    assert bad.exit_code == 1 and bad.reason == "1 created, 1 invalid"
    assert ChangeResult().reason == "nothing to do"
