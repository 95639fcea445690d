"""Resolving `erpops loadtest run`'s options: defaults and profiles, absolute paths, bad options named before work."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from erpcore.exceptions import ConfigError
from loadtest.options import CI_SLO, default_out_dir, resolve
from loadtest.shapes import ShapeKind


def test_defaults_give_an_absolute_output_folder_under_var_loadtest(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    options = resolve()
    assert (options.suite, options.shape.kind, options.shape.users, options.shape.run_time_s) == (
        "o2c", ShapeKind.RAMP, 10, 60.0)
    # Locust runs inside the output folder: a relative one made it write a nested copy the harness never read
    assert options.out_dir.is_absolute()
    assert options.out_dir.parent == tmp_path / "var" / "loadtest"
    assert options.slo_text is None and options.slo_path is None


def test_relative_paths_become_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "slo.yaml").write_text("thresholds: {global: ['p(95) < 1s']}\n")
    (tmp_path / "mine.py").write_text("")
    options = resolve(out=Path("runs/a"), slo=Path("slo.yaml"), locustfile=Path("mine.py"), baseline=Path("b.json"))
    assert options.out_dir == tmp_path / "runs" / "a"
    assert options.slo_path == tmp_path / "slo.yaml"
    assert options.locustfile == tmp_path / "mine.py"
    assert options.baseline == tmp_path / "b.json"


def test_the_ci_profile_brings_its_own_slo_unless_one_is_given(tmp_path: Path) -> None:
    ci = resolve(profile="ci", out=tmp_path)
    assert (ci.suite, ci.shape.users, ci.shape.run_time_s, ci.slo_text) == ("day", 6, 40.0, CI_SLO)
    (tmp_path / "own.yaml").write_text("thresholds: {global: ['p(95) < 1s']}\n")
    own = resolve(profile="ci", out=tmp_path, slo=tmp_path / "own.yaml", users=3)
    assert own.slo_text is None and own.slo_path == tmp_path / "own.yaml" and own.shape.users == 3


def test_remote_workers_default_to_locusts_master_port(tmp_path: Path) -> None:
    assert resolve(out=tmp_path, remote_workers=2).master_port == 5557
    assert resolve(out=tmp_path, workers=2).master_port is None  # a free one, picked at run time


@pytest.mark.parametrize(("given", "named"), [
    ({"suite": "nope"}, "--suite: unknown suite 'nope'"),
    ({"shape": "zigzag"}, "--shape: unknown shape 'zigzag'"),
    ({"profile": "nightly"}, "--profile: unknown profile 'nightly'"),
    ({"run_time": "soon"}, "cannot read the duration 'soon'"),
    ({"slo": Path("no/such/slo.yaml")}, "--slo: no file at no/such/slo.yaml"),
    ({"locustfile": Path("no_such_locustfile.py")}, "--locustfile: no file at no_such_locustfile.py"),
    ({"master_port": 6000}, "--master-bind-host and --master-port need --workers or --remote-workers"),
    ({"shape": "arrival"}, "an arrival shape needs a positive --rate"),
])
def test_bad_options_are_config_errors_that_name_the_option(given: dict[str, object], named: str,
                                                            tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(out=tmp_path / "out", **given)  # type: ignore[arg-type]
    assert named in caught.value.message and caught.value.exit_code == 2
    assert not (tmp_path / "out").exists()  # nothing was done


def test_two_runs_in_the_same_second_get_two_folders(tmp_path: Path) -> None:
    now = dt.datetime(2026, 1, 2, 3, 4, 5)
    first = default_out_dir(tmp_path, now)
    assert first == tmp_path / "20260102-030405"
    first.mkdir()
    second = default_out_dir(tmp_path, now)
    assert second == tmp_path / "20260102-030405-2"
    second.mkdir()
    assert default_out_dir(tmp_path, now).name == "20260102-030405-3"


def test_the_hard_timeout_covers_the_run_workers_and_the_remote_wait(tmp_path: Path) -> None:
    assert resolve(out=tmp_path, run_time="30s").hard_timeout_s == 90.0
    assert resolve(out=tmp_path, run_time="30s", workers=2).hard_timeout_s == 110.0
    assert resolve(out=tmp_path, run_time="30s", remote_workers=1, remote_wait_s=20.0).hard_timeout_s == 110.0
    assert resolve(out=tmp_path, run_time="30s", timeout_s=5.0).hard_timeout_s == 5.0


def test_the_cli_help_names_the_same_choices_as_the_options() -> None:
    from loadtest import cli, options

    assert ", ".join(options.SUITES) == cli.SUITES and ", ".join(options.SHAPES) == cli.SHAPES
    assert cli.DEFAULT_MASTER_PORT == options.DEFAULT_MASTER_PORT
