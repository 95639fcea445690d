"""Every shipped rule has a runbook with the four sections, and every command a runbook names exists."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from monitor.rules import all_rules, load_rules
from runbooks.cli import app as runbook_app
from runbooks.library import SECTIONS, Runbook, all_runbooks, find_runbook

RULES = all_rules(load_rules())
BOOKS = all_runbooks()
META_ALERTS = ["MonitorNoData", "MonitorRuleError", "SupplierInvoiceOnHold"]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.alert)
def test_each_rule_has_its_runbook(rule: Any) -> None:
    book = find_runbook(rule.alert)
    assert rule.runbook_url == f"/api/monitor/runbooks/{rule.alert}"  # served by the API (tests/e2e/monitor)
    assert book.path == f"runbooks/{book.component}/{rule.alert}.md"
    assert book.component == rule.labels["component"]


@pytest.mark.parametrize("alert", META_ALERTS)
def test_alerts_raised_outside_rules_have_runbooks(alert: str) -> None:
    assert find_runbook(alert).alert == alert


@pytest.mark.parametrize("book", BOOKS, ids=lambda b: b.alert)
def test_each_runbook_has_the_four_sections_with_commands(book: Runbook) -> None:
    sections = book.sections()
    assert list(sections) == list(SECTIONS)
    assert all(len(text) > 30 for text in sections.values())
    assert any(cmd[:2] == ["erpops", cmd[1]] for cmd in book.commands()), "Diagnosis names no erpops command"


def _resolve(argv: list[str]) -> str | None:
    """None when `argv` names an existing command with known options, else the reason it does not."""
    from erpops.cli import app

    node: Any = typer.main.get_command(app)
    for i, word in enumerate(argv[1:], start=1):
        if hasattr(node, "commands"):
            if word == "--help":
                return None
            if word not in node.commands:
                return f"{' '.join(argv[:i])} has no command {word!r}"
            node = node.commands[word]
            continue
        if word.startswith("-"):
            name = word.split("=", 1)[0]
            known = {o for p in node.params for o in (*p.opts, *p.secondary_opts)} | {"--help"}
            if name not in known:
                return f"{' '.join(argv[:i])} has no option {name}"
    return None


@pytest.mark.parametrize("book", BOOKS, ids=lambda b: b.alert)
def test_every_command_named_in_a_runbook_exists(book: Runbook) -> None:
    problems = [reason for cmd in book.commands() if (reason := _resolve(cmd))]
    assert problems == []


def test_postgresql_down_promotes_with_the_failover_command() -> None:
    mitigation = find_runbook("PostgresqlDown").sections()["Mitigation"]
    named = [cmd for cmd in find_runbook("PostgresqlDown").commands() if cmd[:2] == ["erpops", "failover"]]
    assert ["erpops", "failover", "promote"] in named and "`erpops failover promote`" in mitigation
    assert ["erpops", "failover", "promote", "--standby", "<dsn>"] in named
    assert ["erpops", "failover", "--help"] not in named  # no longer "the drill lists its commands"


def test_resolver_catches_missing_commands_and_options() -> None:
    assert _resolve(["erpops", "monitor", "nope"]) == "erpops monitor has no command 'nope'"
    assert _resolve(["erpops", "monitor", "probe", "--nope"]) == "erpops monitor probe has no option --nope"
    assert _resolve(["erpops", "monitor", "silence", "add", "x=1", "-a", "me"]) is None


def test_runbook_show_renders_and_unknown_alert_fails() -> None:
    runner = CliRunner()
    shown = runner.invoke(runbook_app, ["show", "PostgresqlDown"])
    assert shown.exit_code == 0 and "Mitigation" in shown.output
    raw = runner.invoke(runbook_app, ["show", "watchdog", "--raw"])
    assert raw.output.startswith("# Watchdog\n")
    missing = runner.invoke(runbook_app, ["show", "NoSuchAlert"])
    assert missing.exit_code != 0


def test_runbook_show_json_has_the_sections_and_commands() -> None:
    import json

    shown = CliRunner().invoke(runbook_app, ["show", "PostgresqlDown", "--json"])
    data = json.loads(shown.stdout)
    assert list(data["sections"]) == list(SECTIONS)
    assert "erpops failover promote" in data["commands"] and data["path"] == "runbooks/postgres/PostgresqlDown.md"


@pytest.mark.parametrize("book", BOOKS, ids=lambda b: b.alert)
def test_the_api_serves_the_same_markdown_the_cli_shows(book: Runbook) -> None:
    from monitor.runbook_pages import runbook_markdown

    assert runbook_markdown(book.alert) == book.text == runbook_markdown(book.alert.upper())


def test_the_api_names_the_list_for_an_unknown_runbook() -> None:
    from erpcore.exceptions import NotFound
    from monitor.runbook_pages import runbook_markdown

    with pytest.raises(NotFound, match="erpops runbook list"):
        runbook_markdown("NoSuchAlert")
