"""The advisor's expected errors, under the one exception tree (each prints one `error:` line and exits with its
code from `opskit.exitcodes`)."""

from __future__ import annotations

from opskit.errors import OpsError, Unavailable, UsageError


class AdvisorUsageError(UsageError):
    """Bad input: an unreadable workload or plan file, a URL of the wrong engine, an unknown name (exit 2)."""

    code = "advisor_usage"


class AdvisorUnavailable(Unavailable):
    """Something the advisor needs is missing or does not answer: hypopg, pg_stat_statements, the server (exit 4)."""

    code = "advisor_unavailable"


class AdvisorFailed(OpsError):
    """An operation failed: an index came out invalid, a lock was not granted in time (exit 1)."""

    code = "advisor_failed"
