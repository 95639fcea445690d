"""A run's tokens on SQLite and PostgreSQL: one per role under the run's id, all revoked at the end, no other touched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from erpcore.access import create_token, list_tokens
from erpcore.services.bootstrap import bootstrap
from loadtest.tokens import ROLES, RunTokens, new_run_id, token_name
from opskit.errors import Unavailable
from tests.dbhelpers import pg_schema_engine, pg_url, sqlite_engine


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        with sqlite_engine(tmp_path) as engine:
            yield engine.url.render_as_string(hide_password=False)
        return
    url = pg_url()
    if url is None:
        pytest.skip("no PostgreSQL configured (ERPOPS_TEST_PG_URL) and none answers on 127.0.0.1:5432")
    with pg_schema_engine(url) as engine:
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def _active(url: str) -> list[str]:
    from erpcore.db import make_engine

    engine = make_engine(url)
    try:
        return sorted(str(t["name"]) for t in list_tokens(bootstrap(engine)) if t["revoked_at"] is None)
    finally:
        engine.dispose()


def _other_token(url: str, name: str) -> None:
    from erpcore.db import make_engine

    engine = make_engine(url)
    try:
        create_token(bootstrap(engine), "admin", name)
    finally:
        engine.dispose()


def test_a_run_creates_a_token_per_role_and_revokes_only_its_own(database_url: str) -> None:
    _other_token(database_url, "shop-frontend")
    _other_token(database_url, "loadtest-otherrun-admin")  # another run's, still going
    tokens = RunTokens(database_url, new_run_id())
    created = tokens.create()
    assert set(created) == set(ROLES) and len(set(created.values())) == len(ROLES)
    assert _active(database_url) == sorted(["shop-frontend", "loadtest-otherrun-admin",
                                            *(token_name(tokens.run_id, r) for r in ROLES)])
    assert tokens.revoke() == len(ROLES) and tokens.problem is None
    assert _active(database_url) == ["loadtest-otherrun-admin", "shop-frontend"]
    assert tokens.revoke() == len(ROLES)  # a second call (clean-up after clean-up) finds nothing more to do
    assert tokens.to_json() == {"created": len(ROLES), "revoked": len(ROLES), "problem": None}


def test_a_token_written_before_an_interruption_is_revoked_by_name(database_url: str) -> None:
    run_id = new_run_id()
    _other_token(database_url, token_name(run_id, "admin"))  # the row of a create() cut short before it returned
    tokens = RunTokens(database_url, run_id, attempted=True)
    assert tokens.revoke() == 1 and _active(database_url) == []


def test_nothing_is_revoked_when_creation_never_began(database_url: str) -> None:
    run_id = new_run_id()
    _other_token(database_url, token_name(run_id, "admin"))
    assert RunTokens(database_url, run_id).revoke() == 0  # revoke() in clean-up before create() ran
    assert _active(database_url) == [token_name(run_id, "admin")]


def test_an_unreachable_database_is_unavailable_on_create_and_a_problem_on_revoke(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing' / 'erp.sqlite'}"
    tokens = RunTokens(url, new_run_id())
    with pytest.raises(Unavailable, match="cannot create the run's tokens in the database") as caught:
        tokens.create()
    assert caught.value.exit_code == 4 and "\n" not in caught.value.message
    assert tokens.revoke() == 0  # never raises in clean-up: the verdict carries the problem
    assert tokens.problem is not None and tokens.problem.startswith("the run's tokens stay active")
