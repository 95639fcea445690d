"""The root command: every command teaches (help with an example), refuses a bogus option with exit 2 and one
`error:` line, and `erpops --help` stays fast."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import typer

from erpcore.migrate import head
from erpops.cli import app, main
from opskit.exitcodes import ExitCode


def _commands(group: Any, prefix: str = "") -> list[tuple[str, Any]]:
    # typer vendors its own click, so groups are recognised by having sub-commands
    found: list[tuple[str, Any]] = []
    for name, cmd in group.commands.items():
        path = f"{prefix} {name}".strip()
        if hasattr(cmd, "commands"):
            found.extend(_commands(cmd, path))
        else:
            found.append((path, cmd))
    return found


def _tree(group: Any, prefix: str = "") -> list[str]:
    """Every command of the `erpops` tree, groups included, the root as ""."""
    paths = [prefix]
    for name, cmd in group.commands.items():
        path = f"{prefix} {name}".strip()
        paths += _tree(cmd, path) if hasattr(cmd, "commands") else [path]
    return paths


COMMANDS = _commands(typer.main.get_command(app))
TREE = _tree(typer.main.get_command(app))

def _invoke(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The real entry point in-process (its error mapping included): exit code, stdout, stderr."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0 if code is None else 1), out, err


@pytest.mark.parametrize("path", [pytest.param(p, id=p or "erpops") for p in TREE])
def test_every_command_help_exits_0_and_shows_an_example(path: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _invoke([*path.split(), "--help"], capsys)
    assert code == ExitCode.OK, err
    assert "Example" in out, f"`erpops {path} --help` shows no example:\n{out}"


@pytest.mark.parametrize("path", [pytest.param(p, id=p or "erpops") for p in TREE])
def test_every_command_refuses_a_bogus_option_with_exit_2_and_one_error_line(
        path: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _invoke([*path.split(), "--no-such-option-xyz"], capsys)
    assert code == ExitCode.USAGE
    assert "Traceback" not in out + err
    command = " ".join(["erpops", *path.split()])
    assert err.splitlines() == [f"error: No such option: --no-such-option-xyz (see `{command} --help`)"], err


def test_the_core_and_every_tool_are_mounted() -> None:
    names = {path.split()[0] for path, _ in COMMANDS}
    assert {"check", "seed", "serve", "demo", "db", "config", "token", "report"} <= names
    groups = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert {"monitor", "runbook", "loadtest", "archive", "advisor", "backup", "failover"} <= groups


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_has_help_with_an_example(path: str, command: Any) -> None:
    assert command.help, f"`erpops {path}` has no help"
    assert "Example:" in command.help, f"`erpops {path}` help shows no example"


def test_root_help_imports_no_heavy_modules() -> None:
    code = ("import sys; from erpops.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('boto3', 'locust', 'gevent', 'psycopg', 'pandas', 'uvicorn', 'fastapi') "
            "if m in sys.modules]\nprint('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out, out


def test_expected_errors_print_one_line_and_exit_with_their_code(tmp_path: object) -> None:
    env_url = f"sqlite:///{tmp_path}/empty.sqlite"
    proc = subprocess.run([sys.executable, "-m", "erpops", "check"], capture_output=True, text=True, check=False,
                          env={"ERPOPS_DATABASE_URL": env_url, "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: database is at revision none (empty), this erpops needs {head()}: run `erpops db upgrade`"]


def _readme_commands() -> list[list[str]]:
    import re
    from pathlib import Path

    readme = Path(__file__).resolve().parents[3] / "README.md"
    found = []
    for match in re.finditer(r"\.venv/bin/erpops ([a-z][a-z -]*)", readme.read_text()):
        found.append(match.group(1).split())
    return found


@pytest.mark.parametrize("words", _readme_commands(), ids=lambda w: " ".join(w))
def test_every_command_the_readme_shows_exists(words: list[str]) -> None:
    node: Any = typer.main.get_command(app)
    for word in words:
        if not hasattr(node, "commands"):
            break  # the rest are arguments of a leaf command
        assert word in node.commands, f"README names `erpops {' '.join(words)}`, but `{word}` is no command"
        node = node.commands[word]
    assert not hasattr(node, "commands") or words[-1] == "--help", f"`erpops {' '.join(words)}` is a group"


@pytest.mark.parametrize("argv", [["failover", "drill", "--engine", "bogus"], ["nosuch"],
                                  ["check", "--no-such-option"]])
def test_a_usage_error_is_a_message_and_exit_2_not_a_traceback(argv: list[str]) -> None:
    done = subprocess.run([sys.executable, "-m", "erpops", *argv], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1, done.stderr
