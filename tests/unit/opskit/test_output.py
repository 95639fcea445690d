"""The one output contract: exact JSON for machines, tables that never cut a number."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import subprocess
import sys
from decimal import Decimal

import pytest

from opskit import output


class Colour(enum.StrEnum):
    RED = "red"


@dataclasses.dataclass
class Row:
    amount: Decimal
    day: dt.date
    colour: Colour


def test_to_jsonable_keeps_decimals_exact_and_names_enums() -> None:
    got = output.to_jsonable({"rows": [Row(Decimal("0.10"), dt.date(2026, 1, 2), Colour.RED)]})
    assert got == {"rows": [{"amount": "0.10", "day": "2026-01-02", "colour": "red"}]}


def test_stream_json_writes_one_valid_array(capsys: pytest.CaptureFixture[str]) -> None:
    count = output.stream_json({"n": i} for i in range(3))
    assert count == 3
    assert json.loads(capsys.readouterr().out) == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_stream_json_of_nothing_is_an_empty_array(capsys: pytest.CaptureFixture[str]) -> None:
    assert output.stream_json(iter(())) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_piped_table_never_cuts_a_money_column() -> None:
    """A table printed to a pipe keeps every digit however wide it is (rich would cut at 80 columns)."""
    code = (
        "from opskit import output\n"
        "rows = [[f'account number {i} with a long descriptive name', '1234567890123.45', '9876543210987.65',"
        " 'x' * 40] for i in range(3)]\n"
        "output.stdout().print(output.table('t', ['name', 'debit', 'credit', 'note'], rows))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.count("1234567890123.45") == 3
    assert done.stdout.count("9876543210987.65") == 3


def test_error_is_one_line_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    output.error("the site 'nas' is not configured")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: the site 'nas' is not configured\n"


def test_quiet_progress_has_the_same_methods() -> None:
    with output.progress(quiet=True) as bar:
        task = bar.add_task("x", total=3)
        bar.advance(task)
        bar.update(task, completed=3)


def test_table_cells_are_data_not_markup() -> None:
    code = ("from opskit import output\n"
            "output.stdout().print(output.table('t', ['route'], [['POST /sales-orders/[id]/approve']]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "/sales-orders/[id]/approve" in done.stdout
