"""The Patroni configuration erpops generates: fast timers that stay safe, sync mode, rewind on."""

from __future__ import annotations

from pathlib import Path

import yaml

from failover.patroni_lab import TIMERS, PatroniLab, PatroniMember, member_config


def lab(tmp_path: Path) -> PatroniLab:
    members = [PatroniMember(f"pg{i}", 6000 + i, 7000 + i, tmp_path / f"pg{i}", tmp_path / f"pg{i}.yml")
               for i in (1, 2, 3)]
    return PatroniLab(tmp_path, "erpops-test", 2379, members)


def test_timers_obey_patronis_safety_rule_and_fail_over_within_ten_seconds() -> None:
    assert TIMERS["loop_wait"] + 2 * TIMERS["retry_timeout"] <= TIMERS["ttl"]
    assert TIMERS["ttl"] <= 10


def test_member_config_is_synchronous_with_rewind_and_a_short_retry_interval(tmp_path: Path) -> None:
    member = lab(tmp_path).members[0]
    config = member_config("erpops-test", member, 2379, tmp_path)
    dcs = config["bootstrap"]["dcs"]
    assert dcs["synchronous_mode"] is True
    assert dcs["primary_start_timeout"] == 0  # fail over at once, but only ever to the sync standby
    assert dcs["ttl"] == 5 and isinstance(dcs["ttl"], int)  # etcd leases are whole seconds
    assert dcs["postgresql"]["use_pg_rewind"] is True
    assert dcs["postgresql"]["parameters"]["wal_retrieve_retry_interval"] == "200ms"
    assert dcs["postgresql"]["parameters"]["wal_log_hints"] == "on"
    assert config["postgresql"]["listen"] == "127.0.0.1:6001"
    assert config["restapi"]["listen"] == "127.0.0.1:7001"
    assert config["etcd3"]["hosts"] == ["127.0.0.1:2379"]


def test_written_configs_are_documented_yaml_for_every_member(tmp_path: Path) -> None:
    paths = lab(tmp_path).write_configs()
    assert [p.name for p in paths] == ["pg1.yml", "pg2.yml", "pg3.yml"]
    text = paths[2].read_text()
    assert text.startswith("# erpops-generated Patroni configuration")
    assert yaml.safe_load(text)["name"] == "pg3"


def test_each_member_reaches_etcd_through_its_own_port_only_and_its_postgres_over_the_unix_socket(
        tmp_path: Path) -> None:
    members = [PatroniMember(f"pg{i}", 6000 + i, 7000 + i, tmp_path / f"pg{i}", tmp_path / f"pg{i}.yml", 8000 + i)
               for i in (1, 2, 3)]
    configs = [member_config("erpops-test", m, 2379, tmp_path) for m in members]
    # No discovery of etcd's other client URLs: an isolated member must not reach the DCS another way.
    assert [c["etcd3"] for c in configs] == [{"hosts": [f"127.0.0.1:{8000 + i}"], "use_proxies": True}
                                             for i in (1, 2, 3)]
    assert all(c["postgresql"]["use_unix_socket"] is True for c in configs)
    assert members[0].network_ports() == (6001, 7001, 8001)
    assert "host=" + str(tmp_path) in members[0].local_dsn
