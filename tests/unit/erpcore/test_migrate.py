"""A database that cannot be used is one `Unavailable` line (exit 4) naming it, never the driver's traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from erpcore.db import make_engine
from erpcore.migrate import current, open_database, require_current, upgrade
from opskit.errors import Unavailable
from opskit.exitcodes import ExitCode


def test_a_sqlite_file_that_is_a_folder_is_unavailable(tmp_path: Path) -> None:
    folder = tmp_path / "erp.sqlite"
    folder.mkdir()
    engine = make_engine(f"sqlite:///{folder}")
    for step in (current, upgrade, require_current):
        with pytest.raises(Unavailable, match=r"cannot use the database sqlite:///.*erp\.sqlite: unable to open") as e:
            step(engine)
        assert e.value.exit_code == ExitCode.UNAVAILABLE
    engine.dispose()


def test_open_database_on_a_server_that_does_not_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    from opskit.ports import free_port

    monkeypatch.setenv("ERPOPS_CONFIG", "")
    monkeypatch.setenv("ERPOPS_DATABASE_URL", f"postgresql://app:s3cret@127.0.0.1:{free_port()}/erp")
    with pytest.raises(Unavailable, match=r"cannot use the database postgresql\+psycopg://app:\*\*\*@127\.0\.0\.1") as e:
        open_database()
    assert "s3cret" not in e.value.message and "check ERPOPS_DATABASE_URL" in e.value.message
