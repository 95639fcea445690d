"""`erpops loadtest slo check`: the shipped example is valid; every bad file is one line naming the key at fault."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from erpcore.exceptions import ConfigError
from erpops.cli import main
from loadtest.slo import check_slo, load_slo

EXAMPLE = Path(__file__).resolve().parents[3] / "loadtest" / "slo.yaml"


def test_the_shipped_example_is_valid_and_gates_what_the_readme_run_measures() -> None:
    slo = check_slo(EXAMPLE)
    assert slo.selectors == ["global", "POST /sales-orders/[id]/approve", "order_to_cash"]
    assert {t.metric for t in slo.thresholds if t.selector == "global"} == {"p(95)", "rate(errors)", "rate(checks)"}
    assert [t.abort_on_fail for t in slo.thresholds].count(True) == 1 and slo.baseline is None


@pytest.mark.parametrize(("text", "named"), [
    ("thresholds:\n  global: ['p(95) < 1s']\nthreshold: {}\n", "threshold: unknown key"),
    ("global: ['p(95) < 1s']\n", "global: unknown key"),
    ("baseline: x.json\n", "thresholds: missing or empty"),
    ("thresholds: {}\n", "thresholds: missing or empty"),
    ("thresholds:\n  global: []\n", "thresholds.global: no expressions"),
    ("thresholds:\n  global: ['p(95) < 1s', 'p(95) <<< 3']\n", "thresholds.global[1]: cannot read 'p(95) <<< 3'"),
    ("thresholds:\n  global: ['rate(errors) < 3ms']\n", "thresholds.global[0]: 'rate(errors) < 3ms': unit 'ms'"),
    ("thresholds:\n  order_to_cash: p(95) < soon\n", "thresholds.order_to_cash: cannot read 'p(95) < soon'"),
    ("thresholds:\n  global:\n    - threshold: p(99) < 1s\n      abort: true\n",
     "thresholds.global[0].abort: unknown key"),
    ("thresholds:\n  global:\n    - threshold: p(99) < 1s\n      abort_on_fail: maybe\n",
     "thresholds.global[0].abort_on_fail: 'maybe' is not true or false"),
    ("thresholds:\n  global:\n    - abort_on_fail: true\n", "thresholds.global[0].threshold: None is not a threshold"),
    ("thresholds:\n  global: [95]\n", "thresholds.global[0]: 95 is not a threshold"),
    ("thresholds:\n  global: ['p95 within +5% of baseline']\n", "baseline: missing"),
    ("thresholds:\n  global: ['p(95) < 1s']\nbaseline: [1]\n", "baseline: [1] is not a path"),
    ("- p(95) < 1s\n", "the SLO file is not a mapping"),
    ("thresholds:\n  global: [p(95) < 1s\n", "not YAML at line 3, column 1"),
])
def test_a_bad_file_is_one_line_naming_the_file_and_the_key(text: str, named: str, tmp_path: Path) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_slo(path)
    message = caught.value.message
    assert message.startswith(f"{path}: ") and named in message, message
    assert "\n" not in message and caught.value.exit_code == 2


def test_a_relative_slo_whose_baseline_is_missing_or_not_a_verdict_fails_the_check(tmp_path: Path) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text("thresholds:\n  global: ['p95 within +15% of baseline']\nbaseline: runs/verdict.json\n")
    assert load_slo(path).baseline == tmp_path / "runs" / "verdict.json"  # a run would fail only when it starts
    with pytest.raises(ConfigError, match=r"slo.yaml: baseline: cannot read the baseline .*runs/verdict.json"):
        check_slo(path)
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "verdict.json").write_text(json.dumps({"metrics": {"global": {"p(95)": 120.0}}}))
    assert check_slo(path).relative


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(["loadtest", "slo", "check", *args])
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


def test_cli_check_of_the_example_exits_0_with_a_table_or_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(capsys, str(EXAMPLE))
    assert code == 0 and err == ""
    assert "POST /sales-orders/[id]/approve" in out  # not eaten as rich markup
    assert "ok: 5 thresholds over 3 selectors" in out
    code, out, _ = _cli(capsys, str(EXAMPLE), "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] is True and data["file"] == str(EXAMPLE)
    assert [(t["selector"], t["limit"]) for t in data["thresholds"]][:2] == [("global", 2000.0), ("global", 0.01)]


def test_cli_check_of_a_bad_file_is_one_error_line_and_exit_2(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text("thresholds:\n  global: ['p(95) < 1s']\n  order_to_cash:\n    - threshold: p(9) < 2s\n"
                    "      abort_on_fail: yes please\n")
    code, out, err = _cli(capsys, str(path), "--json")
    assert code == 2 and out == ""
    assert err == f"error: {path}: thresholds.order_to_cash[0].abort_on_fail: 'yes please' is not true or false\n"
    code, out, err = _cli(capsys, str(tmp_path / "missing.yaml"))
    assert code == 2 and out == "" and err.startswith("error: cannot read the SLO file ") and err.count("\n") == 1
