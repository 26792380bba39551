"""Fixtures of chapter 05: real PostgreSQL and Redis, the app under its lifespan, a client,
factories, and two ways to read what the app logs.

The plugin gives the session its own database and Redis namespace; each test gets a fresh
app, truncated tables and a Redis prefix of its own.
"""

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from uuid import UUID, uuid4

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import Settings
from app.database import Base
from app.logs import request_id_var
from app.main import create_app
from app.users import service
from app.users.models import Role
from app.users.schemas import UserCreate

TEST_SECRET_KEY = "test-secret-key-long-enough-for-hs256-0123456789"
DEFAULT_PASSWORD = "correct horse battery staple"
JSON_HANDLER_NAME = "app-json"  # app.logs.HANDLER_NAME


@pytest.fixture
def settings(database_url: str, redis_url: str, redis_namespace: str) -> Settings:
    return Settings(
        _env_file=None,
        environment="test",
        database_url=database_url,
        redis_url=redis_url,
        redis_key_prefix=f"{redis_namespace}{uuid4().hex[:8]}:",
        secret_key=TEST_SECRET_KEY,
        allowed_hosts=["test", "localhost", "127.0.0.1"],
        # A busy machine can stall Redis past the production timeout: fail-open code would
        # then behave differently from one run to the next.
        redis_socket_timeout_seconds=5.0,
        # Cheap argon2 keeps the suite fast; chapter 04 proves the real parameters.
        password_hash_time_cost=1,
        password_hash_memory_cost_kib=1024,
        password_hash_parallelism=1,
    )


@pytest.fixture(scope="session")
def database_schema(database_url: str) -> None:
    """The tables, created once for the session's database."""

    async def create_tables() -> None:
        engine = create_async_engine(database_url)
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        await engine.dispose()

    asyncio.run(create_tables())


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app under its lifespan (httpx's transport does not run it), tables emptied first."""
    application = create_app(settings)
    async with LifespanManager(application):
        async with application.state.resources.engine.begin() as connection:
            tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
            await connection.execute(text(f"TRUNCATE {tables}"))
        yield application


LOST_HEADERS_OWNER = "errors.request_id"


def headers_kept(exercise: str | None) -> Callable[[Response], Awaitable[None]]:
    """A response hook: every answer with a body says what it is. One without a Content-Type
    lost its headers in a middleware, which fails every exercise for one reason: explained
    in the exercise that owns it, pointed to from the others."""

    async def check(response: Response) -> None:
        if response.headers.get("content-length") == "0" or "content-type" in response.headers:
            return
        what = f"The answer to {response.request.method} {response.request.url.path}"
        if exercise != LOST_HEADERS_OWNER:
            pytest.fail(
                f"{what} has no Content-Type header: a middleware loses the answers' headers, "
                f"as exercise {LOST_HEADERS_OWNER} reports. Fix that one first (see there)."
            )
        pytest.fail(
            f"{what} has no Content-Type header (its headers: {sorted(response.headers)}): "
            "RequestIdMiddleware replaced the answer's headers instead of adding one. Add "
            "yours to the message's own list: MutableHeaders(scope=message) edits it in place "
            f"(exercise {LOST_HEADERS_OWNER})."
        )

    return check


def client_for(application: FastAPI, exercise: str | None = None) -> AsyncClient:
    # raise_app_exceptions=False: an error no handler takes comes back as the 500 a real
    # client would see, instead of being raised into the test.
    transport = ASGITransport(app=application, raise_app_exceptions=False)
    hooks = {"response": [headers_kept(exercise)]}
    return AsyncClient(transport=transport, base_url="http://test", event_hooks=hooks)


def exercise_of(request: pytest.FixtureRequest) -> str | None:
    marker = request.node.get_closest_marker("exercise")
    return marker.args[0] if marker else None


@pytest.fixture
def client_of(request: pytest.FixtureRequest) -> Callable[[FastAPI], AsyncClient]:
    """`async with client_of(app) as client:` for an app a test starts itself."""
    return lambda application: client_for(application, exercise_of(request))


@pytest.fixture
async def app(settings: Settings, database_schema: None) -> AsyncIterator[FastAPI]:
    async with running_app(settings) as application:
        yield application


@pytest.fixture
async def client(app: FastAPI, request: pytest.FixtureRequest) -> AsyncIterator[AsyncClient]:
    async with client_for(app, exercise_of(request)) as http_client:
        yield http_client


AppWith = Callable[..., AbstractAsyncContextManager[tuple[FastAPI, AsyncClient]]]


@pytest.fixture
def app_with(settings: Settings, database_schema: None, request: pytest.FixtureRequest) -> AppWith:
    """`async with app_with(log_level="WARNING") as (app, client):` other settings, same rest."""

    @asynccontextmanager
    async def start(**overrides: object) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
        async with (
            running_app(settings.model_copy(update=overrides)) as application,
            client_for(application, exercise_of(request)) as http_client,
        ):
            yield application, http_client

    return start


@dataclass(frozen=True)
class TestUser:
    id: UUID
    email: str
    password: str


CreateUser = Callable[..., Awaitable[TestUser]]


@pytest.fixture
def create_user(app: FastAPI) -> CreateUser:
    """Factory: `await create_user(role=Role.ADMIN)` inserts a user through the service."""

    async def factory(
        *, email: str | None = None, password: str = DEFAULT_PASSWORD, role: Role = Role.USER
    ) -> TestUser:
        email = email or f"user-{uuid4().hex[:10]}@example.com"
        resources = app.state.resources
        async with resources.sessionmaker() as session:
            user = await service.create_user(
                session,
                data=UserCreate(email=email, password=password, full_name="Ada Lovelace"),
                password_hasher=resources.password_hasher,
            )
            if role != Role.USER:
                user.role = role
                await session.commit()
        return TestUser(id=user.id, email=email, password=password)

    return factory


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


Login = Callable[[TestUser], Awaitable[Tokens]]


@pytest.fixture
def login(client: AsyncClient) -> Login:
    """Factory: `tokens = await login(user)` logs in through POST /auth/token."""

    async def log_in(user: TestUser) -> Tokens:
        response = await client.post(
            "/auth/token", data={"username": user.email, "password": user.password}
        )
        assert response.status_code == 200, (
            f"Logging in with the right password should answer 200; it answered "
            f"{response.status_code}: {response.text[:300]}"
        )
        body = response.json()
        return Tokens(access_token=body["access_token"], refresh_token=body["refresh_token"])

    return log_in


# --- what the app logs, two ways ----------------------------------------------------------------


class CapturedLines:
    """What the JSON handler wrote during a `json_logs.capture()` block, one dict per line."""

    def __init__(self, buffer: io.StringIO) -> None:
        self._buffer = buffer

    @property
    def text(self) -> str:
        return self._buffer.getvalue()

    def all(self) -> list[dict]:
        lines = []
        for line in self.text.splitlines():
            try:
                parsed = json.loads(line)
            except json.JSONDecodeError:
                parsed = None
            if not isinstance(parsed, dict):
                pytest.fail(
                    f"Every log line should be one JSON object; this one is not: {line!r}. "
                    "Give the handler a JsonFormatter in configure_logging, app/logs.py "
                    "(exercise errors.json_logs)."
                )
            lines.append(parsed)
        # The test's own HTTP client logs through the root logger too: not the service's.
        return [line for line in lines if line.get("logger") != "httpx"]

    def with_message(self, message: str) -> list[dict]:
        return [line for line in self.all() if line.get("message") == message]


class JsonLogs:
    @contextmanager
    def capture(self) -> Iterator[CapturedLines]:
        """Swap the stream of the root handler named "app-json" for a buffer, for a while."""
        handlers = [h for h in logging.getLogger().handlers if h.get_name() == JSON_HANDLER_NAME]
        if not handlers:
            pytest.fail(
                f"The root logger has no handler named {JSON_HANDLER_NAME!r} (HANDLER_NAME), "
                "so no JSON log line is written. configure_logging in app/logs.py should "
                "add one (exercise errors.json_logs)."
            )
        handler = handlers[-1]
        if not isinstance(handler, logging.StreamHandler):
            pytest.fail(
                f"The {JSON_HANDLER_NAME!r} handler should be a logging.StreamHandler writing "
                f"to stdout; it is a {type(handler).__name__} (exercise errors.json_logs)."
            )
        buffer = io.StringIO()
        previous = handler.setStream(buffer)
        try:
            yield CapturedLines(buffer)
        finally:
            handler.setStream(previous)


@pytest.fixture
def json_logs() -> JsonLogs:
    """`with json_logs.capture() as lines:` the app's JSON log lines, after create_app ran."""
    return JsonLogs()


@dataclass(frozen=True)
class SeenRecord:
    """A log record as it was when logged: before any handler's filter touched it."""

    logger: str
    level: int
    message: str
    fields: dict  # every attribute of the record, `extra=` ones included
    request_id_in_context: str | None  # what request_id_var held while it was logged

    def get(self, name: str, default: object = None) -> object:
        return self.fields.get(name, default)


class RecordSnapshots(logging.Handler):
    """First among the root's handlers, it copies every record before the others see it, so
    what a test reads is what the code logged, whatever app/logs.py's filter does later."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[SeenRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(
            SeenRecord(
                logger=record.name,
                level=record.levelno,
                message=record.getMessage(),
                fields=dict(vars(record)),
                request_id_in_context=request_id_var.get(),
            )
        )

    def named(self, logger: str, message: str | None = None) -> list[SeenRecord]:
        return [
            record
            for record in self.records
            if record.logger == logger and (message is None or record.message == message)
        ]


@pytest.fixture
def log_records() -> Iterator[RecordSnapshots]:
    """Every record logged from now on (the loggers' own levels still apply), as it was sent."""
    snapshots = RecordSnapshots()
    root = logging.getLogger()
    root.handlers.insert(0, snapshots)
    try:
        yield snapshots
    finally:
        root.removeHandler(snapshots)
