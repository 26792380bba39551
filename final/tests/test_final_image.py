"""The finished service's image, built from final/Dockerfile and run for real (issue 17).

Slow: it builds the image (cached layers after the first time) and starts real containers.
The container runs as the image says (its user, its command, production settings) against
the shared PostgreSQL and Redis, in a database and a Redis prefix of its own. Where no
registry is reachable, the build uses stand-in base images (containers/standins.py).
"""

import re
import signal

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from final_images import (
    REPO_ROOT,
    build_service_image,
    engine_or_skip,
    for_container,
    production_secret,
    register_login_and_read,
    unique_name,
)
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from localservices import delete_namespace, new_namespace, temporary_database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def engine():
    return engine_or_skip()


@pytest.fixture(scope="module")
def image(engine) -> str:
    return build_service_image(engine)


@pytest.fixture(scope="module")
def service_environment(engine, postgres_service, redis_service):
    """Production settings, a database and a Redis prefix of this module's own."""
    _, host = engine.host_access()
    prefix = new_namespace("image")
    with temporary_database(postgres_service.url, label="image") as database_url:
        yield {
            "DATABASE_URL": for_container(database_url, host),
            "REDIS_URL": for_container(redis_service.url, host),
            "REDIS_KEY_PREFIX": prefix,
            "SECRET_KEY": production_secret(),
            "HOST_DATABASE_URL": database_url,  # for the test itself, never the container
        }
    delete_namespace(redis_service.url, prefix)


def env_options(environment: dict[str, str]) -> list[str]:
    return [
        option
        for name, value in environment.items()
        if not name.startswith("HOST_")
        for option in ("--env", f"{name}={value}")
    ]


@pytest.fixture(scope="module")
def migrated(engine, image, service_environment) -> str:
    """`alembic upgrade head` run from the image, as compose's migrate service runs it."""
    network, _ = engine.host_access()
    name = unique_name("migrate")
    try:
        engine.run(
            "run",
            "--name",
            name,
            *network,
            *env_options(service_environment),
            image,
            "alembic",
            "upgrade",
            "head",
            check=False,
            timeout=300,
        )
        code = engine.exit_code(name)
        output = engine.logs(name)
    finally:
        engine.remove(name)
    assert code == 0, f"alembic upgrade head in the image exited {code}:\n{output}"
    return output


@pytest.fixture(scope="module")
def service(engine, image, service_environment, migrated):
    """The image's own command in a container, port 8000 published on a free local port."""
    network, _ = engine.host_access()
    name = unique_name("service")
    engine.run(
        "run",
        "--detach",
        "--name",
        name,
        *network,
        "--publish",
        "127.0.0.1::8000",
        *env_options(service_environment),
        image,
    )
    try:
        yield name
    finally:
        engine.remove(name)


async def test_the_image_migrates_an_empty_database_to_the_head_revision(
    migrated, service_environment
):
    alembic_ini = str(REPO_ROOT / "final" / "alembic.ini")
    heads = ScriptDirectory.from_config(Config(alembic_ini)).get_heads()

    database = create_async_engine(service_environment["HOST_DATABASE_URL"])
    async with database.connect() as connection:
        versions = await connection.execute(text("SELECT version_num FROM alembic_version"))
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await database.dispose()

    assert list(versions.scalars()) == heads, f"not at head {heads}:\n{migrated}"
    assert "users" in tables, f"the migration made {sorted(tables)}, no users table"


def test_the_container_runs_as_its_non_root_user_and_its_health_check_reports_healthy(
    engine, image, service
):
    configured = engine.run("image", "inspect", "--format", "{{.Config.User}}", image).stdout
    assert configured.strip().split(":")[0] not in {"", "root", "0"}, (
        f"final/Dockerfile's last USER is {configured.strip() or 'missing'}: the image runs as root"
    )
    status = engine.wait_healthy(service, timeout=180)

    assert status == "healthy", (
        f"The image's HEALTHCHECK reported {status!r} (none: the image has no HEALTHCHECK):\n"
        f"{engine.logs(service)[-3000:]}"
    )
    uid = engine.run("exec", service, "id", "-u").stdout.strip()
    assert uid != "0", "the service's process runs as root (uid 0)"


def test_a_visitor_registers_logs_in_and_reads_their_profile(engine, service):
    assert engine.wait_healthy(service, timeout=180) == "healthy", engine.logs(service)[-3000:]
    port = engine.published_port(service, 8000)

    profile = register_login_and_read(f"http://127.0.0.1:{port}")

    assert profile["email"].startswith("image-")


def test_sigterm_stops_every_worker_cleanly(engine, service, service_environment):
    assert engine.wait_healthy(service, timeout=180) == "healthy", engine.logs(service)[-3000:]
    workers = int(
        engine.run("exec", service, "sh", "-c", "echo $WEB_CONCURRENCY").stdout.strip() or 1
    )

    engine.run("kill", "--signal", signal.SIGTERM.name, service)
    code = engine.exit_code(service, timeout=60)
    logs = engine.logs(service)

    assert code is not None, (
        "60 s after SIGTERM the container still ran: the signal did not reach uvicorn (is "
        f"uvicorn PID 1, through exec?), or its graceful shutdown hung:\n{logs[-3000:]}"
    )
    assert code == 0, f"after SIGTERM the container exited {code}, not 0:\n{logs[-3000:]}"
    stopped = re.findall(r'"message": "stopped"', logs)
    assert len(stopped) == workers, (
        f"each of the {workers} workers should run the lifespan's shutdown and log 'stopped'; "
        f"{len(stopped)} did:\n{logs[-3000:]}"
    )
    assert "Traceback" not in logs, logs[-3000:]
