"""The advisor's expected errors, under the one exception tree (they print one `error:` line)."""

from __future__ import annotations

from erpcore.exceptions import ConfigError, ErpError


class AdvisorUsageError(ConfigError):
    """Bad input: an unreadable workload file, a URL of the wrong engine, an unknown option value (exit 2)."""

    code = "advisor_usage"


class AdvisorUnavailable(ErpError):
    """Something the advisor needs is missing or does not answer: hypopg, pg_stat_statements, the server (exit 4)."""

    exit_code = 4
    code = "advisor_unavailable"


class AdvisorFailed(ErpError):
    """An operation failed: an index came out invalid, a lock was not granted in time (exit 1)."""

    code = "advisor_failed"
