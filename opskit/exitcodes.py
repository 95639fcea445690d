"""The one exit-code table of every `erpops` command (documented in the README and in `erpops --help`)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What an `erpops` command's exit status means; the same number means the same thing in every tool."""

    OK = 0  # done, and every check passed
    FAILED = 1  # a check failed or the operation failed (integrity violation, SLO breach, failed drill)
    USAGE = 2  # bad arguments, input or configuration: nothing was done
    DEGRADED = 3  # done, but not everywhere (a site of several failed; a copy bad, others good)
    UNAVAILABLE = 4  # something the command needs did not answer (database, API server, binaries, workers)
    INTERRUPTED = 130  # stopped by SIGINT, after the same clean-up as a failure
    TERMINATED = 143  # stopped by SIGTERM, after the same clean-up as a failure


def table_text() -> str:
    """The exit-code table as lines for `--help` epilogs and the README."""
    meaning = {
        ExitCode.OK: "ok",
        ExitCode.FAILED: "a check or the operation failed",
        ExitCode.USAGE: "bad arguments, input or configuration; nothing done",
        ExitCode.DEGRADED: "done, but not everywhere (e.g. one site of several failed)",
        ExitCode.UNAVAILABLE: "a service the command needs did not answer",
        ExitCode.INTERRUPTED: "interrupted (SIGINT), cleaned up",
        ExitCode.TERMINATED: "terminated (SIGTERM), cleaned up",
    }
    return "Exit codes: " + "; ".join(f"{int(code)} {text}" for code, text in meaning.items()) + "."
