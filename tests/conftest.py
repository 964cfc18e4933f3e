"""Fixtures shared by every test: a real database (SQLite and PostgreSQL), rolled back per test.

Every test that takes `session` (or anything built on it) runs once per database. PostgreSQL
is used when it answers at CITYOPS_TEST_POSTGRES_URL (default: localhost, trust auth); where
it does not, those runs skip with one line saying why, except in CI (CI=true), where a
missing PostgreSQL is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from cityops.db import Base, import_all_models, make_engine

POSTGRES_ADMIN_URL = os.environ.get(
    "CITYOPS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@localhost:5432/postgres"
)


def _postgres_unavailable() -> str | None:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {type(exc).__name__}"
    return None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped afterwards."""
    reason = _postgres_unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"cityops_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own, for tests whose transactions must really commit
    (servers in child processes, concurrent writers); dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    base, _, _ = request.getfixturevalue("postgres_url").rpartition("/")
    name = f"cityops_fresh_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _create_schema(engine: Engine) -> None:
    import_all_models()
    Base.metadata.create_all(engine)


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("db") / "test.db"
    engine = make_engine(f"sqlite:///{path}", synchronous="NORMAL")
    _create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    _create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The database engine; every test using it runs on SQLite and on PostgreSQL."""
    name = "sqlite_engine" if request.param == "sqlite" else "postgres_engine"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture
def session_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions joined to one outer transaction that is rolled back after the test.

    Code under test may commit as it does in production: its commits release savepoints
    inside the outer transaction, so nothing survives the test.
    """
    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield factory
    outer.rollback()
    connection.close()


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    s = session_factory()
    yield s
    s.close()


@pytest.fixture
def clock() -> Any:
    from tests.factories import EPOCH
    from tests.fakes import FakeClock

    return FakeClock(EPOCH)


@pytest.fixture
def district(session: Session) -> Any:
    """The small test district (regions, departments, staff, duty, catalog slice), committed."""
    from tests.factories import make_district

    d = make_district(session)
    session.commit()
    return d


@pytest.fixture
def context(session_factory: sessionmaker[Session], clock: Any, tmp_path: Path) -> Any:
    """The application context on the test database, with a fake clock and local storage."""
    from cityops.bootstrap import build_context
    from cityops.config import Settings
    from cityops.kit.storage import LocalStorage

    settings = Settings(
        database_url="sqlite://", storage_dir=tmp_path / "blobs", district_code="500103",
        sms_backend="memory",
    )  # fmt: skip
    return build_context(
        settings, sessions=session_factory, clock=clock, storage=LocalStorage(tmp_path / "blobs")
    )


@pytest.fixture
def client(context: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """An HTTP client for the app, on the test district."""
    request.getfixturevalue("district")
    from fastapi.testclient import TestClient

    from cityops.app import create_app

    app = create_app(context.settings, context=context, check_schema=False)
    with TestClient(app) as c:
        yield c


@pytest.fixture
def login(client: Any) -> Any:
    """`login("dispatcher")` → headers with that person's bearer token."""
    from tests.factories import PASSWORD

    tokens: dict[str, dict[str, str]] = {}

    def _login(username: str) -> dict[str, str]:
        if username not in tokens:
            r = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.text
            tokens[username] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        return tokens[username]

    return _login


@pytest.fixture
def frigate() -> Iterator[Any]:
    """Frigate's snapshot endpoint on a local port (see `tests.fakes.FakeFrigate`)."""
    import threading
    from http.server import ThreadingHTTPServer

    from tests.fakes import FakeFrigate, frigate_handler

    fake = FakeFrigate(base_url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), frigate_handler(fake))
    server.daemon_threads = True
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield fake
    fake.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)
