"""The root of every expected error of erpops: one line for people, and the exit code it maps to."""

from __future__ import annotations

from opskit.exitcodes import ExitCode


class OpsError(Exception):
    """An expected failure: the CLI prints `error: <message>` and exits with `exit_code`, no traceback."""

    exit_code: int = ExitCode.FAILED
    code = "error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class UsageError(OpsError):
    """Bad arguments, input or configuration: nothing was done."""

    exit_code = ExitCode.USAGE
    code = "usage"


class Unavailable(OpsError):
    """Something the command needs did not answer or could not be started."""

    exit_code = ExitCode.UNAVAILABLE
    code = "unavailable"


class ClusterError(Unavailable):
    """A throw-away PostgreSQL cluster could not be made, started or reached."""

    code = "cluster_failed"
