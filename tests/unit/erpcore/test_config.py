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


def test_a_named_configuration_file_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from erpcore.config import config_file
    from erpcore.exceptions import ConfigError

    monkeypatch.setenv("ERPOPS_CONFIG", str(tmp_path / "typo.toml"))
    with pytest.raises(ConfigError, match=r"ERPOPS_CONFIG names .*typo\.toml, which does not exist"):
        load_settings()
    monkeypatch.setenv("ERPOPS_CONFIG", str(tmp_path))
    with pytest.raises(ConfigError, match="which is a directory"):
        load_settings()
    monkeypatch.delenv("ERPOPS_CONFIG")
    with config_file(tmp_path / "other.toml"), pytest.raises(ConfigError, match="--config names"):
        load_settings()


def test_no_file_at_all_reads_the_environment_and_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "erpops.toml").write_text("pool_size = 4\n")
    monkeypatch.delenv("ERPOPS_CONFIG", raising=False)
    assert load_settings().pool_size == 4  # ./erpops.toml when nothing names a file
    monkeypatch.setenv("ERPOPS_CONFIG", "")
    assert load_settings().pool_size == 10  # ERPOPS_CONFIG= reads no file
    (tmp_path / "erpops.toml").unlink()
    monkeypatch.delenv("ERPOPS_CONFIG")
    assert load_settings().pool_size == 10  # no ./erpops.toml is no error


def test_broken_toml_names_the_file_and_the_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from erpcore.exceptions import ConfigError

    config = tmp_path / "erpops.toml"
    config.write_text("pool_size = 3\n[matching\n")
    monkeypatch.setenv("ERPOPS_CONFIG", str(config))
    with pytest.raises(ConfigError, match=r"erpops\.toml is not valid TOML: .*line 2"):
        load_settings()


@pytest.mark.parametrize(("variable", "value", "says"), [
    ("ERPOPS_POOL_SIZE", "many", "pool_size: Input should be a valid integer"),
    ("ERPOPS_API__PORT", "70000", "api.port: Input should be less than or equal to 65535"),
    ("ERPOPS_DATABASE_URL", "mysql://app:pw@db/erp", "database_url: scheme mysql:// is not supported"),
])
def test_a_wrong_value_is_a_config_error_naming_the_field(variable: str, value: str, says: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from erpcore.exceptions import ConfigError

    monkeypatch.setenv("ERPOPS_CONFIG", "")
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match="invalid configuration: ") as refused:
        load_settings()
    assert says in refused.value.message and "pw" not in refused.value.message
    assert refused.value.exit_code == 2


@pytest.mark.parametrize(("url", "says"), [
    ("var/erpops.sqlite", "not a URL"),
    ("mysql+pymysql://u@h/db", "scheme mysql+pymysql:// is not supported"),
    ("postgresql+asyncpg://u@h/db", "scheme postgresql+asyncpg:// is not supported"),
    ("postgresql://u:secret@h:port/db", "malformed URL (its port is not a number)"),
])
def test_database_urls_erpops_cannot_use_are_refused_without_their_password(url: str, says: str) -> None:
    from erpcore.config import check_database_url

    with pytest.raises(ValueError, match=r"sqlite:///path.*postgresql://") as refused:
        check_database_url(url)
    assert says in str(refused.value) and "secret" not in str(refused.value)


@pytest.mark.parametrize("url", [
    "sqlite:///var/erpops.sqlite", "sqlite://", "postgres://app@db/erp", "postgresql://app:pw@db:5432/erp",
    "postgresql+psycopg://app@/erp?host=10.0.0.1:5432&host=10.0.0.2:5432&target_session_attrs=read-write",
    "postgresql://postgres@127.0.0.1/test?options=-csearch_path%3Dt_1",
])
def test_the_urls_erpops_runs_on_pass(url: str) -> None:
    from erpcore.config import check_database_url

    assert check_database_url(url) == url


def test_make_engine_refuses_an_unsupported_url_with_a_config_error() -> None:
    from erpcore.db import make_engine
    from erpcore.exceptions import ConfigError

    with pytest.raises(ConfigError, match="database URL: scheme mysql:// is not supported"):
        make_engine("mysql://u@h/db")
