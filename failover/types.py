"""Words shared by the failover package: faults, roles, attempt outcomes, timeline marks, errors."""

from __future__ import annotations

from enum import StrEnum

from erpcore.exceptions import ErpError


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


class LabError(ErpError):
    """A lab server could not be created, started or stopped."""

    code = "failover_lab_error"


class FailoverFailed(ErpError):
    """An engine could not fail over, rewind or rejoin."""

    code = "failover_failed"
