"""The runbook Markdown the alert links point at, read as package data of `runbooks` (its files, not its code).

Tools never import each other, so monitor does not call `runbooks.library`; it reads the same files, laid out
as `runbooks/<component>/<Alert>.md`, the layout `erpops runbook show` reads.
"""

from __future__ import annotations

from importlib import resources

from erpcore.exceptions import NotFound

RUNBOOKS_PACKAGE = "runbooks"


def runbook_markdown(alert: str) -> str:
    """The Markdown of the runbook for `alert` (case-insensitive), or NotFound."""
    wanted = f"{alert.lower()}.md"
    for component in resources.files(RUNBOOKS_PACKAGE).iterdir():
        if not component.is_dir() or component.name.startswith(("_", ".")):
            continue
        for entry in component.iterdir():
            if entry.name.lower() == wanted:
                return entry.read_text()
    raise NotFound(f"no runbook for alert {alert}; `erpops runbook list` shows them all")
