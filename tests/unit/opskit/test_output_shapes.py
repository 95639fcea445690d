"""The output contract's less common shapes: rows, paths and nested dataclasses as JSON, CSV cells, table
alignment and footers, and `render` choosing JSON or the view."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import pytest
from rich.console import Console

from opskit import output


class Level(enum.IntEnum):
    HIGH = 3


class Point(NamedTuple):
    name: str
    at: dt.datetime


@dataclasses.dataclass(frozen=True)
class Outer:
    where: Path
    points: tuple[Point, ...]
    levels: frozenset[Level]


def test_rows_paths_and_nested_dataclasses_become_plain_json() -> None:
    value = Outer(Path("/var/backups/a"), (Point("p", dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)),),
                  frozenset({Level.HIGH}))
    assert output.to_jsonable(value) == {"where": "/var/backups/a",
                                         "points": [{"name": "p", "at": "2026-01-02T03:04:00+00:00"}],
                                         "levels": [3]}
    assert output.to_jsonable({1: dt.time(9, 30), "x": None}) == {"1": "09:30:00", "x": None}
    assert output.to_jsonable(Outer) is Outer  # a class is not an instance to flatten


def test_csv_keeps_decimals_exact_dates_iso_and_none_empty(capsys: pytest.CaptureFixture[str]) -> None:
    output.print_csv(["code", "amount", "day", "note"],
                     [("A,1", Decimal("0.10"), dt.date(2026, 2, 28), None), ("B", Decimal("1E+2"), None, "x")])
    assert capsys.readouterr().out == 'code,amount,day,note\n"A,1",0.10,2026-02-28,\nB,1E+2,,x\n'


def rendered(table: object) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(table)
    return console.export_text()


def test_numeric_columns_align_right_and_the_footer_comes_last_below_a_rule() -> None:
    t = output.table("totals", ["name", "debit", "score"], [("cash", Decimal("1.00"), 7), ("bank", None, 12)],
                     numeric={"score"}, footer=("total", Decimal("1.00"), None))
    assert [c.justify for c in t.columns] == ["left", "right", "right"]
    assert [c.no_wrap for c in t.columns] == [False, True, True]
    text = rendered(t).splitlines()
    body = [line for line in text if "cash" in line or "bank" in line or "total " in line]
    assert body[-1].split("│")[1].strip() == "total"
    assert text.index(body[-1]) > text.index(body[-2]) + 1  # a rule separates the footer
    assert "None" not in rendered(t)


def test_render_writes_json_or_the_view(capsys: pytest.CaptureFixture[str]) -> None:
    output.render({"amount": Decimal("2.50")}, True, lambda r: "never")
    assert json.loads(capsys.readouterr().out) == {"amount": "2.50"}
    output.render({"amount": Decimal("2.50")}, False, lambda r: f"amount {r['amount']}")
    assert capsys.readouterr().out == "amount 2.50\n"


def test_a_shown_progress_bar_goes_to_stderr_only(capsys: pytest.CaptureFixture[str]) -> None:
    with output.progress(transient=False) as bar:
        task = bar.add_task("copying", total=2)
        bar.advance(task, 2)
    captured = capsys.readouterr()
    assert captured.out == "" and "copying" in captured.err and "2/2" in captured.err
