"""`workshop serve final` runs the finished service: its own database migrated to head, its
workers answering on PostgreSQL and Redis, and a clean stop on SIGTERM."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from localservices import delete_namespace, free_port, plain_postgres_url
from workshop.contract import copy_tree
from workshop.manifest import ROOT_ENV

REPO_ROOT = Path(__file__).resolve().parents[1]
# serve's database for the final/ code tree is the participant's own: a name for this run.
PARTICIPANT = f"tests_{os.getpid()}"
FINAL_DATABASE = f"workshop_{PARTICIPANT}_final"
FINAL_CODE = ("app", "migrations", "alembic.ini")


def wait_for(url: str, server: subprocess.Popen, timeout: float = 90) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, server.communicate()[0]
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            time.sleep(0.2)  # polling a server that is starting, not a timing assertion
    raise AssertionError(f"{url} did not answer within {timeout} s")


def on_server(server_url: str, query: str, database: str = "postgres") -> list:
    async def run() -> list:
        url = plain_postgres_url(server_url).rsplit("/", 1)[0] + f"/{database}"
        connection = await asyncpg.connect(url, timeout=10)
        try:
            return [tuple(row) for row in await connection.fetch(query)]
        finally:
            await connection.close()

    return asyncio.run(run())


@pytest.fixture
def final_database(postgres_service, redis_service):
    """serve's database for final/, this run's own; dropped afterwards only if this test
    created it, so a developer's own database is never touched."""
    existed = on_server(
        postgres_service.url, f"SELECT 1 FROM pg_database WHERE datname = '{FINAL_DATABASE}'"
    )
    yield FINAL_DATABASE
    delete_namespace(redis_service.url, f"workshop:{PARTICIPANT}:final:")
    if not existed:
        on_server(postgres_service.url, f'DROP DATABASE IF EXISTS "{FINAL_DATABASE}" WITH (FORCE)')


def test_serve_final_migrates_its_database_and_serves_the_finished_service(
    workshop_root, postgres_service, redis_service, final_database
):
    for name in FINAL_CODE:  # what the workshop_root fixture did not copy already
        source, target = REPO_ROOT / "final" / name, workshop_root / "final" / name
        if target.exists():
            continue
        if source.is_dir():
            copy_tree(source, target)
        else:
            target.write_bytes(source.read_bytes())
    head = ScriptDirectory.from_config(Config(str(REPO_ROOT / "final" / "alembic.ini")))
    port = free_port()
    env = {name: value for name, value in os.environ.items() if name != "SECRET_KEY"}
    env = dict(
        env,
        **{
            ROOT_ENV: str(workshop_root),
            "WORKSHOP_POSTGRES_URL": postgres_service.url,
            "WORKSHOP_REDIS_URL": redis_service.url,
            "WORKSHOP_PARTICIPANT": PARTICIPANT,
        },
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "workshop", "serve", "final", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        live = wait_for(f"{base}/health/live", server)
        ready = httpx.get(f"{base}/health/ready", timeout=10)
        anonymous = httpx.get(f"{base}/users/me", timeout=10)
        openapi = httpx.get(f"{base}/openapi.json", timeout=10)
        (uvicorn,) = psutil.Process(server.pid).children()
        uvicorn_command, uvicorn_directory = uvicorn.cmdline(), uvicorn.cwd()
        versions = on_server(
            postgres_service.url, "SELECT version_num FROM alembic_version", final_database
        )
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0]

    assert live.status_code == 200, live.text
    assert ready.status_code == 200, f"the finished service reaches both services: {ready.text}"
    assert ready.json()["checks"] == {"postgres": "ok", "redis": "ok"}
    assert anonymous.status_code == 401, "the finished service's auth, not a chapter's"
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert "/auth/refresh" in openapi.json()["paths"]
    assert versions == [(head.get_current_head(),)], "serve migrates its database to head"
    assert uvicorn_directory == str(workshop_root / "final")
    assert "--workers" in uvicorn_command, f"final is served with workers: {uvicorn_command}"
    assert uvicorn_command[uvicorn_command.index("--workers") + 1] == "2", uvicorn_command
    assert "--reload" not in uvicorn_command, "the finished service runs as it ships"
    assert server.returncode == 0, output
    assert "Applying migrations: alembic upgrade head" in output
    assert f"Serving the finished service from {workshop_root / 'final'}" in output
    # Issue 13, finding 1: never the public default key, which anyone could sign tokens with.
    assert "SECRET_KEY: this clone's own random key" in output
    assert "SECRET_KEY is the public default" not in output
    key = (workshop_root / ".workshop/serve-secret-key").read_text().strip()
    assert len(key) >= 32
    assert (workshop_root / ".workshop/serve-secret-key").stat().st_mode & 0o077 == 0
