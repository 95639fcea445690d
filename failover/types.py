"""Words shared by the failover package: faults, roles, attempt outcomes, timeline marks, errors.

    OpsError (opskit.errors)
    ├── FailoverFailed      exit 1   a drill, failover, rewind, rejoin or promotion failed
    ├── UsageError
    │   └── FailoverUsage   exit 2   bad arguments: no such lab, member or engine configuration
    └── Unavailable
        └── LabError        exit 4   a lab server or agent could not be created, started or stopped
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from opskit.errors import OpsError, Unavailable, UsageError

Progress = Callable[[str], None]  # told one line of progress at a time (the CLI writes it to stderr)


class Fault(StrEnum):
    KILL = "kill"  # kill -9 of the PostgreSQL postmaster only
    HANG = "hang"  # SIGSTOP of every PostgreSQL process of the primary
    CRASH = "crash"  # kill -9 of the whole node: PostgreSQL and its HA agent
    SWITCHOVER = "switchover"  # planned: demote the primary cleanly, promote the standby
    ISOLATE = "isolate"  # network partition: every packet to or from the primary's ports is dropped


class EngineName(StrEnum):
    MANUAL = "manual"
    PATRONI = "patroni"
    PG_AUTO_FAILOVER = "pg_auto_failover"


class LoadName(StrEnum):
    BUILTIN = "builtin"  # the built-in SQL writer threads
    O2C = "o2c"  # sales orders through the real ERP API


class Role(StrEnum):
    PRIMARY = "primary"
    STANDBY = "standby"
    DOWN = "down"


class Outcome(StrEnum):
    ACKED = "acked"  # COMMIT returned: the order must exist on the new primary
    ERROR = "error"  # failed before COMMIT was sent: certainly not committed
    IN_DOUBT = "in_doubt"  # COMMIT sent, no answer: the server may or may not have committed


class Mark(StrEnum):
    """The points of a drill's timeline, in the order they normally happen."""

    FAULT = "fault"
    DETECTION = "detection"
    DECISION = "decision"
    FENCING = "fencing"
    PROMOTION = "promotion"
    FIRST_WRITE = "first_write_accepted"
    FIRST_CLIENT_BACK = "first_client_back"
    LAST_CLIENT_BACK = "last_client_back"
    BUSINESS_RTO = "business_rto"
    REWOUND = "old_primary_rewound"
    BACK_IN_SYNC = "back_in_sync"


class LabError(Unavailable):
    """A lab server could not be created, started or stopped (exit 4: the drill could not run)."""

    code = "failover_lab_error"


class FailoverFailed(OpsError):
    """An engine could not fail over, rewind, rejoin or promote; a drill missed its targets (exit 1)."""

    code = "failover_failed"


class FailoverUsage(UsageError):
    """Bad arguments: nothing was done (exit 2)."""

    code = "failover_usage"
