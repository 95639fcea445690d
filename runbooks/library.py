"""The runbooks shipped as package data: find one by alert name, its sections, the commands it names."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable

from erpcore.exceptions import NotFound

SECTIONS = ("Meaning", "Impact", "Diagnosis", "Mitigation")
COMMAND = re.compile(r"`(erpops [^`]+)`")


@dataclass(frozen=True)
class Runbook:
    alert: str
    component: str
    text: str

    @property
    def path(self) -> str:
        return f"runbooks/{self.component}/{self.alert}.md"

    def sections(self) -> dict[str, str]:
        parts = re.split(r"^## +(.+)$", self.text, flags=re.MULTILINE)
        return {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}

    def commands(self) -> list[list[str]]:
        """Every `erpops ...` command the runbook names in inline code, as argv lists."""
        return [shlex.split(m.replace("<", "'<").replace(">", ">'")) for m in COMMAND.findall(self.text)]


def _root() -> Traversable:
    return resources.files("runbooks")


def all_runbooks() -> list[Runbook]:
    out: list[Runbook] = []
    for component in sorted(_root().iterdir(), key=lambda e: e.name):
        if not component.is_dir() or component.name.startswith(("_", ".")):
            continue
        for entry in sorted(component.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".md"):
                out.append(Runbook(entry.name[:-3], component.name, entry.read_text()))
    return out


def find_runbook(alert: str) -> Runbook:
    """The runbook of `alert` (case-insensitive), or `NotFound` naming the close matches."""
    books = all_runbooks()
    for book in books:
        if book.alert.lower() == alert.lower():
            return book
    close = [b.alert for b in books if alert.lower()[:6] in b.alert.lower()]
    hint = f"; did you mean {', '.join(close[:3])}?" if close else "; `erpops runbook list` shows them all"
    raise NotFound(f"no runbook for alert {alert}{hint}")
