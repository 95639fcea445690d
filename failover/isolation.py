"""Network isolation of one lab member on loopback: an nftables table of its own drops its packets.

Every lab member listens on ports of its own (PostgreSQL, and for Patroni its REST API and its own etcd
client port), so cutting a member off is dropping every TCP packet to or from those ports. The drop is
on the *input* hook: the sender's packet leaves, nobody answers, as in a real partition (a drop on the
output hook would fail `connect()` with EPERM at once, which no real network does). Established
connections stall too: replication, the clients' sessions, the HA agent's link to its store.

Each cut is one table named `erpops_iso_<pid>_<n>` and nothing else; lifting it deletes that table by
name, so an undo never touches a rule it did not add. `leftover_tables` finds the tables of dead
processes (a drill killed with SIGKILL) and `lift_leftovers` deletes them.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from failover.timeline import Timeline
from failover.types import FailoverFailed

PREFIX = "erpops_iso_"
_counter = itertools.count(1)


def nft_path() -> str | None:
    return shutil.which("nft") or next((p for p in ("/usr/sbin/nft", "/sbin/nft") if os.path.exists(p)), None)


def unavailable() -> str | None:
    """None when this process can add nftables rules, else why not (the isolate fault needs them)."""
    nft = nft_path()
    if nft is None:
        return "nft is not installed (scripts/ensure-failover.sh installs the nftables package)"
    if os.geteuid() != 0:
        return "isolating a member needs root (nftables rules)"
    probe = subprocess.run([nft, "list", "tables"], capture_output=True, text=True, timeout=10, check=False)
    if probe.returncode != 0:
        return f"nft cannot list tables: {probe.stderr.strip()}"
    return None


def _nft(*args: str, script: str | None = None) -> subprocess.CompletedProcess[str]:
    nft = nft_path()
    if nft is None:
        raise FailoverFailed(
            "nft is not installed (scripts/ensure-failover.sh installs the nftables package)"
        )
    return subprocess.run([nft, *args], input=script, capture_output=True, text=True, timeout=10, check=False)


@dataclass
class Cut:
    """One isolation in force: the nftables table that drops the member's ports."""

    table: str
    ports: tuple[int, ...]
    lifted: bool = False

    def lift(self) -> None:
        """Delete this cut's table (idempotent); raises only when the table is still there afterwards."""
        if self.lifted:
            return
        done = _nft("delete", "table", "inet", self.table)
        if done.returncode != 0 and self.table in tables():
            raise FailoverFailed(f"could not lift isolation table {self.table}: {done.stderr.strip()}")
        self.lifted = True


def lift(cut: Cut | None, timeline: Timeline | None = None) -> None:
    """Lift `cut`, if there is one, and mark it on `timeline` (not at clean-up, where there is none)."""
    if cut is None:
        return
    cut.lift()
    if timeline is not None:
        timeline.mark("isolation_lifted", f"nftables table {cut.table} deleted: port(s) "
                      f"{', '.join(map(str, cut.ports))} reachable again")


def rules(table: str, ports: Sequence[int]) -> str:
    """The nft script of one cut: drop every TCP packet to or from `ports` arriving on loopback."""
    if not ports or any(not 0 < p < 65536 for p in ports):
        raise FailoverFailed(f"isolation needs TCP ports 1..65535, got {list(ports)}")
    if not re.fullmatch(r"[a-z0-9_]{1,60}", table):
        raise FailoverFailed(f"bad nftables table name {table!r}")
    port_set = ", ".join(str(p) for p in sorted(set(ports)))
    return (
        f"table inet {table} {{\n"
        "  chain input {\n"
        "    type filter hook input priority -300; policy accept;\n"
        f'    iifname "lo" tcp dport {{ {port_set} }} drop\n'
        f'    iifname "lo" tcp sport {{ {port_set} }} drop\n'
        "  }\n"
        "}\n"
    )


def isolate(ports: Sequence[int]) -> Cut:
    """Cut `ports` off the loopback network now; the returned `Cut` must be lifted in a finally block."""
    why = unavailable()
    if why:
        raise FailoverFailed(f"cannot isolate: {why}")
    table = f"{PREFIX}{os.getpid()}_{next(_counter)}"
    cut = Cut(table, tuple(sorted(set(ports))))
    added = _nft("-f", "-", script=rules(table, cut.ports))
    if added.returncode != 0:
        cut.lift()  # a half-applied script leaves nothing behind
        raise FailoverFailed(f"nft refused the isolation rules: {added.stderr.strip()}")
    return cut


def tables() -> list[str]:
    """The erpops isolation tables present now."""
    listed = _nft("list", "tables")
    return [
        line.split()[-1]
        for line in listed.stdout.splitlines()
        if line.startswith("table inet ") and line.split()[-1].startswith(PREFIX)
    ]


def leftover_tables() -> list[str]:
    """Isolation tables whose creating process is gone (a drill that was killed before its finally block)."""
    found = []
    for table in tables():
        match = re.fullmatch(rf"{PREFIX}(\d+)_\d+", table)
        if match and not os.path.exists(f"/proc/{match.group(1)}"):
            found.append(table)
    return found


def lift_leftovers() -> list[str]:
    """Delete the isolation tables of dead processes; returns their names ([] where nft cannot be used).

    Every drill calls this first: a drill killed with SIGKILL (no clean-up possible) leaves its table, and
    the next drill removes it before it measures anything.
    """
    if unavailable():
        return []
    lifted = []
    for table in leftover_tables():
        Cut(table, ()).lift()
        lifted.append(table)
    return lifted


def lift_own() -> list[str]:
    """Delete every isolation table of this process (the last net of a drill's clean-up); returns their names."""
    if unavailable():
        return []
    own = [t for t in tables() if t.startswith(f"{PREFIX}{os.getpid()}_")]
    for table in own:
        Cut(table, ()).lift()
    return own
