"""Where alert links point: the rule and its runbook as the ERP API serves them, never a page that is not there.

`generatorURL` is `{api_url}/api/monitor/rules/{alert}` (the rule, its expression and runbook), and a
runbook given as a path (`/api/monitor/runbooks/X`, or the older `runbooks/<component>/X.md`) becomes
`{api_url}/api/monitor/runbooks/X`; an absolute `http(s)://` runbook URL is kept as written.
"""

from __future__ import annotations

from urllib.parse import quote

RULES_PATH = "/api/monitor/rules"
RUNBOOKS_PATH = "/api/monitor/runbooks"


def rule_url(api_url: str, alert: str) -> str:
    """The API URL that shows rule `alert`."""
    return f"{api_url.rstrip('/')}{RULES_PATH}/{quote(alert, safe='')}"


def runbook_url(api_url: str, alert: str) -> str:
    """The API URL that serves the runbook of `alert`."""
    return f"{api_url.rstrip('/')}{RUNBOOKS_PATH}/{quote(alert, safe='')}"


def resolve_runbook(api_url: str, value: str) -> str:
    """A rule's `runbook_url` annotation as a URL people can open."""
    if value.startswith(("http://", "https://")):
        return value
    if value.startswith(RUNBOOKS_PATH + "/"):
        return f"{api_url.rstrip('/')}{value}"
    name = value.rstrip("/").rsplit("/", 1)[-1]
    return runbook_url(api_url, name.removesuffix(".md"))
