from __future__ import annotations

from pathlib import Path

import pytest

from erpcore.config import load_settings, masked


def test_environment_over_file_over_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "erpops.toml"
    config.write_text('database_url = "postgresql://app:s3cret@db/erp"\npool_size = 3\n'
                      '[matching]\nprice_tolerance = "0.05"\n[monitor]\ninterval = 2\n')
    monkeypatch.setenv("ERPOPS_CONFIG", str(config))
    monkeypatch.setenv("ERPOPS_POOL_SIZE", "7")
    settings = load_settings()
    assert settings.pool_size == 7
    assert str(settings.matching.price_tolerance) == "0.05"
    assert settings.database_url == "postgresql://app:s3cret@db/erp"
    assert load_settings(pool_size=1).pool_size == 1


def test_show_masks_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ERPOPS_CONFIG", "")  # no configuration file
    monkeypatch.setenv("ERPOPS_DATABASE_URL", "postgresql://app:s3cret@db/erp")
    monkeypatch.setenv("ERPOPS_ENCRYPTION_KEY", "k" * 32)
    data = masked(load_settings())
    assert data["database_url"] == "postgresql://app:***@db/erp"
    assert data["encryption_key"] == "***"
    assert "s3cret" not in repr(data)


def test_default_database_is_sqlite_under_var(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ERPOPS_CONFIG", "")  # no configuration file
    monkeypatch.delenv("ERPOPS_DATABASE_URL", raising=False)
    assert load_settings().database_url.endswith("var/erpops.sqlite")


def test_validate_names_each_wrong_section_and_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from erpops.cli import app

    config = tmp_path / "erpops.toml"
    config.write_text('[backup]\ncompression = "gzip"\n[monitor]\ninterval = 0.1\n')
    monkeypatch.setenv("ERPOPS_CONFIG", str(config))
    result = CliRunner().invoke(app, ["config", "validate", "--json"])
    assert result.exit_code == 2
    sections = json.loads(result.stdout)["sections"]
    assert sections["core"] == "ok" and sections["failover"] == "ok"
    assert sections["backup"] == "compression: Input should be 'zstd', 'lz4' or 'none'"
    assert sections["monitor"].startswith("interval: Input should be greater than or equal to 1")
    config.write_text('[monitor]\ninterval = 2\n')
    ok = CliRunner().invoke(app, ["config", "validate", "--json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["ok"] is True
    shown = json.loads(CliRunner().invoke(app, ["config", "show", "--json"]).stdout)
    assert shown["monitor"]["interval"] == 2.0 and "database_url" in shown["core"]
