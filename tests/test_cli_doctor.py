"""`workshop doctor` tells a broken environment (exit 3) from broken code (exit 1), says which
kind of server answered, and tries what the chapters do with them (issue 18 items 1 and 3)."""

import asyncio
import os
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from localservices import plain_postgres_url

DEAD_POSTGRES = {
    "WORKSHOP_POSTGRES_URL": "postgresql://postgres@127.0.0.1:1/postgres",
    "WORKSHOP_NO_EMBEDDED": "1",
}


def test_doctor_names_a_missing_postgres_in_one_sentence_and_exits_3(run_workshop):
    finished = run_workshop("doctor", env=DEAD_POSTGRES)

    assert finished.returncode == 3, finished.stdout + finished.stderr
    postgres_line = next(line for line in finished.stdout.splitlines() if "PostgreSQL" in line)
    assert postgres_line.startswith("[FAIL]")
    assert "PostgreSQL does not answer at 127.0.0.1:1" in postgres_line
    assert "start that server, or unset WORKSHOP_POSTGRES_URL" in postgres_line
    assert "Your environment is not ready" in finished.stdout
    assert "Traceback" not in finished.stdout + finished.stderr


def test_doctor_for_chapter_01_does_not_need_postgres(run_workshop):
    finished = run_workshop("doctor", "01", env=DEAD_POSTGRES)

    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "not needed by chapter 01" in finished.stdout
    assert "[pass] Your code (chapters/01-config)" in finished.stdout


def test_doctor_blames_the_code_when_the_app_does_not_import(run_workshop, workshop_root):
    (workshop_root / "chapters/01-config/app/main.py").write_text("import this_is_a_typo\n")

    finished = run_workshop("doctor", "01")

    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert "ModuleNotFoundError: No module named 'this_is_a_typo'" in finished.stdout
    assert "Your environment is ready; your code is what fails." in finished.stdout


def test_doctor_says_which_kind_of_server_answered_and_tries_what_the_chapters_do(
    run_workshop, postgres_service, redis_service
):
    env = {
        "WORKSHOP_POSTGRES_URL": postgres_service.url,
        "WORKSHOP_REDIS_URL": redis_service.url,
    }

    finished = run_workshop("doctor", env=env)

    assert finished.returncode == 0, finished.stdout + finished.stderr
    lines = finished.stdout.splitlines()
    assert any(
        line.startswith("[pass] PostgreSQL") and "environment server:" in line for line in lines
    )
    assert any(line.startswith("[pass] Redis ") and "environment server:" in line for line in lines)
    assert "[pass] New databases" in finished.stdout
    assert "[pass] Redis scripts" in finished.stdout


def test_doctor_names_the_embedded_redis_and_runs_the_limiters_script_on_it(
    run_workshop, postgres_service
):
    env = {
        "WORKSHOP_POSTGRES_URL": postgres_service.url,
        "WORKSHOP_REDIS_URL": "",
        "WORKSHOP_REDIS_PORT": "1",  # nothing listens there: the embedded Redis starts
        "WORKSHOP_NO_EMBEDDED": "0",
    }

    finished = run_workshop("doctor", "04", env=env)

    assert finished.returncode == 0, finished.stdout + finished.stderr
    lines = finished.stdout.splitlines()
    redis_line = next(line for line in lines if line.startswith("[pass] Redis "))
    assert "embedded server: Redis embedded" in redis_line, redis_line
    assert any(line.startswith("[pass] Redis scripts") for line in lines), finished.stdout


UNFIXED_FAKEREDIS = """
import sys, threading, time
from fakeredis import TcpFakeServer
server = TcpFakeServer(("127.0.0.1", 0), server_type="redis")
threading.Thread(target=server.serve_forever, daemon=True).start()
print(server.server_address[1], flush=True)
time.sleep(600)
"""


def test_doctor_fails_a_redis_that_answers_but_cannot_run_the_limiters_script(run_workshop):
    # fakeredis' own TCP server, without the workshop's fix: it closes the connection after
    # an error reply, so a script run by its SHA (NOSCRIPT first) never runs.
    server = subprocess.Popen(
        [sys.executable, "-c", UNFIXED_FAKEREDIS], stdout=subprocess.PIPE, text=True
    )
    try:
        port = server.stdout.readline().strip()
        finished = run_workshop(
            "doctor", "04", env={"WORKSHOP_REDIS_URL": f"redis://127.0.0.1:{port}/0"}
        )
    finally:
        server.kill()
        server.wait()

    assert finished.returncode == 3, finished.stdout + finished.stderr
    line = next(line for line in finished.stdout.splitlines() if "Redis scripts" in line)
    assert line.startswith("[FAIL]"), line
    assert "closes the connection after an error reply" in line
    assert "the login rate limiter of chapter 04 fails" in line


@pytest.fixture
def role_without_createdb(postgres_service):
    """A login role of this test's own that may not create databases; dropped afterwards."""
    role = f"ws_nocreatedb_{os.getpid()}"
    admin(postgres_service.url, f'CREATE ROLE "{role}" LOGIN NOCREATEDB')
    parts = urlsplit(plain_postgres_url(postgres_service.url))
    url = urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port}"))
    yield role, url
    admin(postgres_service.url, f'DROP ROLE IF EXISTS "{role}"')


def admin(server_url: str, statement: str) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(plain_postgres_url(server_url), timeout=10)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


def test_doctor_fails_a_role_that_may_not_create_databases(run_workshop, role_without_createdb):
    role, url = role_without_createdb

    finished = run_workshop("doctor", "02", env={"WORKSHOP_POSTGRES_URL": url})

    assert finished.returncode == 3, finished.stdout + finished.stderr
    line = next(line for line in finished.stdout.splitlines() if "New databases" in line)
    assert line.startswith("[FAIL]"), line
    assert f"the role `{role}` may not create databases" in line
    assert f'`ALTER ROLE "{role}" CREATEDB;`' in line
    assert "Your environment is not ready" in finished.stdout


def test_serve_with_a_role_that_may_not_create_databases_is_an_environment_error(
    run_workshop, role_without_createdb
):
    role, url = role_without_createdb

    finished = run_workshop("serve", "02", "--port", "0", env={"WORKSHOP_POSTGRES_URL": url})

    assert finished.returncode == 3, finished.stdout + finished.stderr
    assert f"the role `{role}` may not create databases" in finished.stderr
    assert f'ALTER ROLE "{role}" CREATEDB;' in finished.stderr
    assert "Traceback" not in finished.stderr


def test_check_with_a_role_that_may_not_create_databases_blames_the_environment(
    run_workshop, solve_chapter, role_without_createdb
):
    role, url = role_without_createdb
    solve_chapter("02-database")

    finished = run_workshop("check", "02", env={"WORKSHOP_POSTGRES_URL": url})

    assert finished.returncode == 3, finished.stdout + finished.stderr
    assert f"the role `{role}` may not create databases" in finished.stdout
    assert "exercises to go" not in finished.stdout, "the code is not what failed"
