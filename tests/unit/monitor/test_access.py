"""Who may use the operations endpoints, and the silence policy the settings give."""

from __future__ import annotations

from pathlib import Path

import pytest

from erpcore.exceptions import ValidationFailed
from monitor.access import OPERATIONS_READ, OPERATIONS_WRITE, AccessRole, may, require
from monitor.operations import create_silence, silence_policy, silence_store
from monitor.settings import MonitorSettings


@pytest.mark.parametrize("role", list(AccessRole))
def test_operations_and_admin_write_and_viewer_also_reads(role: AccessRole) -> None:
    R = AccessRole
    assert may(role, OPERATIONS_READ) is (role in (R.ADMIN, R.OPERATIONS, R.VIEWER, R.AUDITOR))
    assert may(role, OPERATIONS_WRITE) is (role in (R.ADMIN, R.OPERATIONS))


def test_an_unknown_permission_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        require("operations:delete_everything")


def test_the_policy_lists_the_shipped_critical_alerts(tmp_path: Path) -> None:
    policy = silence_policy(MonitorSettings(state_dir=tmp_path, silence_max_duration="2d"))
    names = {c["alertname"] for c in policy.critical}
    assert {"PostgresqlDown", "HostOutOfDiskSpace", "ErpLastBackupTooOld"} <= names
    assert "HostHighCpuLoad" not in names and policy.max_duration == 172800.0


def test_create_silence_applies_the_configured_maximum(tmp_path: Path) -> None:
    settings = MonitorSettings(state_dir=tmp_path, silence_max_duration="1h")
    with pytest.raises(ValidationFailed, match="at most 1h"):
        create_silence(["alertname=HostHighCpuLoad"], "ana", "c", duration="2h", settings=settings)
    made = create_silence(["alertname=HostHighCpuLoad"], "ana", "c", duration="1h", settings=settings)
    assert [s.id for s in silence_store(settings).all()] == [made.id]


def test_a_non_positive_or_endless_maximum_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="positive duration"):
        MonitorSettings(state_dir=tmp_path, silence_max_duration="0s")
