"""Exercise deployment.compose: the stack starts in order, healthy, with no secret in the file."""

import re
import secrets
from urllib.parse import urlsplit
from uuid import uuid4

import httpx
import pytest
from built_image import REPOSITORY, engine_or_note, replacing
from deploy_files import (
    COMPOSE_FILE,
    graceful_timeout_seconds,
    read_compose,
    read_dockerfile,
    run_tool,
)

from workshop.compose_stack import ComposeStack, StackError, compose_command

pytestmark = pytest.mark.exercise("deployment.compose")

WHERE = "Edit docker-compose.yml (exercise deployment.compose)."
SERVICES = {"postgres", "redis", "migrate", "app"}
INTERPOLATED_SECRET = re.compile(r"\$\{SECRET_KEY(:?[-?][^}]*)?\}")


def services() -> dict[str, dict]:
    found = read_compose().get("services") or {}
    missing = SERVICES - found.keys()
    assert not missing, (
        f"docker-compose.yml should define the services {sorted(SERVICES)}; {sorted(missing)} "
        f"missing. {WHERE}"
    )
    return found


def depends_on(service: dict) -> dict[str, str]:
    """{dependency: condition}; the short list form means service_started."""
    value = service.get("depends_on") or {}
    if isinstance(value, list):
        return dict.fromkeys(value, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in value.items()}


def plain_list_means(service: dict) -> str:
    """What a depends_on written as a plain list of names asks for, if it is one."""
    if isinstance(service.get("depends_on"), list):
        return " (a plain list of names means condition: service_started: started, not ready)"
    return ""


def command_text(value) -> str:
    return " ".join(value) if isinstance(value, list) else str(value or "")


def seconds(duration: str | int) -> float:
    """A compose duration ('30s', '1m30s', '1500ms') in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", str(duration))
    return sum(float(number) * units[unit] for number, unit in parts)


def test_the_file_follows_the_compose_specification_and_has_the_four_services():
    result = run_tool(
        "check-jsonschema", "--builtin-schema", "vendor.compose-spec", "docker-compose.yml"
    )

    assert result.returncode == 0, (
        f"docker-compose.yml does not follow the compose specification:\n{result.stdout}"
        f"{result.stderr}{WHERE}"
    )
    services()


def test_postgres_redis_and_the_app_have_health_checks():
    found = services()

    for name in ("postgres", "redis", "app"):
        check = (found[name].get("healthcheck") or {}).get("test")
        assert check, (
            f"Service {name} has no healthcheck: depends_on cannot wait for it to be healthy, "
            f"only for it to be started. {WHERE}"
        )
    app_check = command_text(found["app"]["healthcheck"]["test"])
    assert "/health/ready" in app_check, (
        f"The app's health check should call /health/ready, so that healthy means it can "
        f"serve (the image's own check is liveness); it runs {app_check!r}. {WHERE}"
    )


def test_the_migration_runs_once_after_postgres_is_healthy():
    migrate = services()["migrate"]

    assert "alembic upgrade head" in command_text(migrate.get("command")), (
        f"The migrate service should run `alembic upgrade head` as its command; it runs "
        f"{migrate.get('command')!r}. {WHERE}"
    )
    assert depends_on(migrate).get("postgres") == "service_healthy", (
        "migrate should wait for postgres with condition: service_healthy (started is not "
        "ready: PostgreSQL takes seconds to accept connections); it waits for "
        f"{depends_on(migrate).get('postgres', 'nothing')}{plain_list_means(migrate)}. {WHERE}"
    )
    assert str(migrate.get("restart", "no")) == "no", (
        f'migrate is a one-shot job: restart: "no", or a finished migration runs again. {WHERE}'
    )


def test_the_app_starts_after_the_migration_and_healthy_dependencies():
    app = services()["app"]

    wanted = {
        "migrate": "service_completed_successfully",
        "postgres": "service_healthy",
        "redis": "service_healthy",
    }
    conditions = depends_on(app)
    wrong = [name for name in wanted if conditions.get(name) != wanted[name]]
    as_given = "; ".join(f"{name}: {conditions.get(name, 'missing')}" for name in wrong)
    assert not wrong, (
        "The app should wait for migrate with condition: service_completed_successfully (the "
        "migration must have finished, and succeeded, before any worker serves) and for "
        f"postgres and redis with condition: service_healthy. Not yet: {as_given}"
        f"{plain_list_means(app)}. {WHERE}"
    )


def environment_of(service: dict) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment if "=" in item)
    return {str(name): str(value) for name, value in environment.items()}


def test_the_secret_comes_from_the_environment_never_the_file():
    found = services()

    for name in ("migrate", "app"):
        value = environment_of(found[name]).get("SECRET_KEY", "")
        assert INTERPOLATED_SECRET.fullmatch(value), (
            f"Service {name} should get SECRET_KEY from your shell or a .env file beside the "
            f"compose file: SECRET_KEY: ${{SECRET_KEY:?set SECRET_KEY}}. It has {value!r}; a "
            f"literal secret in a committed file is a leaked secret. {WHERE}"
        )


def test_the_app_stops_gracefully_and_publishes_only_its_own_port_on_localhost():
    found = services()
    stages = read_dockerfile()
    commands = stages[-1].all("CMD") if stages else []
    command = commands[-1].exec_form if commands else None
    graceful = graceful_timeout_seconds(command or [])
    assert graceful, (
        "The Dockerfile's CMD has no --timeout-graceful-shutdown yet: finish the exercise "
        "deployment.server first."
    )

    grace = seconds(found["app"].get("stop_grace_period", "10s"))
    assert grace > graceful, (
        f"The app's stop_grace_period ({grace:g} s) should be longer than uvicorn's "
        f"--timeout-graceful-shutdown ({graceful} s), or Docker kills the server (SIGKILL) "
        f"before the requests in flight finish. {WHERE}"
    )
    for name, service in found.items():
        ports = [str(port) for port in service.get("ports") or []]
        if name == "app":
            assert ports, f"The app should publish its port 8000. {WHERE}"
            assert all(port.startswith("127.0.0.1:") for port in ports), (
                f"Publish the app on 127.0.0.1 only ({ports}): 8000:8000 listens on every "
                f"interface of the machine. {WHERE}"
            )
        else:
            assert not ports, (
                f"Service {name} publishes {ports}: only the app needs to be reached from "
                f"outside; the others talk on compose's network. {WHERE}"
            )


def test_migrate_builds_the_chapters_image_and_the_app_runs_it():
    found = services()
    migrate, app = found["migrate"], found["app"]

    build = migrate.get("build")
    assert build, (
        "Service migrate should build this chapter's image (a `build:` from this folder, with "
        f"the `project` context ../.., where uv.lock lives) and name it with `image:`. {WHERE}"
    )
    named = (build.get("additional_contexts") or {}) if isinstance(build, dict) else {}
    assert named.get("project") == "../..", (
        f"migrate's build has no `project` context (../..), where uv.lock lives: the "
        f"Dockerfile takes pyproject.toml and uv.lock from it, so the build fails. Name it "
        f"in the build's `additional_contexts` (the long form of `build:`); migrate has "
        f"build: {build!r}. {WHERE}"
    )
    assert (build.get("context", "."), build.get("dockerfile", "Dockerfile")) in {
        (".", "Dockerfile"),
        ("./", "Dockerfile"),
    }, (
        f"migrate should build this folder's Dockerfile (context: .); its build is {build!r}. "
        f"{WHERE}"
    )
    image = migrate.get("image")
    assert image, (
        f"migrate builds the image but gives it no name: add `image:`, so the app can run the "
        f"same image by name. {WHERE}"
    )
    others = [name for name, service in found.items() if "build" in service and name != "migrate"]
    assert not others, (
        f"Service {', '.join(others)} has a `build:` of its own. Only `migrate` builds the "
        f"image; the app runs it by name (`image:` only), so `up --build` builds once. {WHERE}"
    )
    assert app.get("image") == image, (
        f"The app should run the same `image:` as migrate ({image!r}); it names "
        f"{app.get('image')!r}, so it would run another image, or none. {WHERE}"
    )


def default_of(value: str) -> str:
    """A value with compose's `${NAME:-default}` / `${NAME-default}` replaced by the default."""
    return re.sub(r"\$\{\w+:?-([^}]*)\}", r"\1", value)


def assert_they_reach_postgres_and_redis(found: dict[str, dict]) -> None:
    """migrate's and the app's DATABASE_URL and REDIS_URL name the services, with the
    credentials the postgres service creates."""
    postgres_env = environment_of(found["postgres"])
    user = postgres_env.get("POSTGRES_USER", "postgres")
    password = postgres_env.get("POSTGRES_PASSWORD", "")
    database = postgres_env.get("POSTGRES_DB", user)

    for name in ("migrate", "app"):
        environment = environment_of(found[name])
        for variable in ("DATABASE_URL", "REDIS_URL"):
            assert variable in environment, (
                f"Service {name} has no {variable}: in its container the settings' default "
                f"(127.0.0.1, the container itself) applies, and it cannot reach "
                f"{'PostgreSQL' if variable == 'DATABASE_URL' else 'Redis'}. {WHERE}"
            )
        database_url = urlsplit(default_of(environment["DATABASE_URL"]))
        assert database_url.scheme == "postgresql+asyncpg", (
            f"{name}'s DATABASE_URL should start with postgresql+asyncpg:// (the app's driver); "
            f"it is {environment['DATABASE_URL']!r}. {WHERE}"
        )
        assert database_url.hostname == "postgres", (
            f"{name}'s DATABASE_URL names the host {database_url.hostname!r}; on compose's "
            f"network the database is reached by its service name: @postgres:5432. {WHERE}"
        )
        given = (database_url.username, database_url.password, database_url.path.lstrip("/"))
        assert given == (user, password, database), (
            f"{name}'s DATABASE_URL logs in as {given[0]!r} with password {given[1]!r} to "
            f"database {given[2]!r}, but the postgres service creates user {user!r} with "
            f"password {password!r} and database {database!r} (POSTGRES_USER, "
            f"POSTGRES_PASSWORD, POSTGRES_DB): the login would be refused. {WHERE}"
        )
        redis_url = urlsplit(default_of(environment["REDIS_URL"]))
        assert (redis_url.scheme, redis_url.hostname) == ("redis", "redis"), (
            f"{name}'s REDIS_URL is {environment['REDIS_URL']!r}; on compose's network Redis "
            f"is reached by its service name: redis://redis:6379/0. {WHERE}"
        )


def test_migrate_and_the_app_reach_postgres_and_redis_by_their_service_names():
    assert_they_reach_postgres_and_redis(services())


def test_the_app_is_told_which_proxies_to_believe():
    environment = environment_of(services()["app"])

    trusted = default_of(environment.get("FORWARDED_ALLOW_IPS", ""))
    assert trusted, (
        "Give the app FORWARDED_ALLOW_IPS in its environment: the proxies (or load balancer) "
        "in front of it, whose X-Forwarded-For uvicorn may believe. The deployment knows "
        "them, the image does not; with nothing in front, 127.0.0.1. "
        f"{WHERE}"
    )
    assert "*" not in trusted, (
        'FORWARDED_ALLOW_IPS="*" trusts every client: anyone could send X-Forwarded-For and '
        "pick their own address, and with it their own rate-limit bucket (chapter 04). Name "
        f"the proxies you trust. {WHERE}"
    )


def test_the_stack_comes_up_in_order_and_the_app_is_ready(workshop_note, tmp_path):
    found = services()
    assert all(found[name].get("healthcheck") for name in ("postgres", "redis", "app")), (
        f"Finish the checks above first (health checks, the migration, the URLs): then, where "
        f"Docker or Podman is at hand, the stack is brought up for real. {WHERE}"
    )
    assert_they_reach_postgres_and_redis(found)
    engine = engine_or_note(workshop_note)
    if engine is None:
        return  # the report says the stack was not started; the checks above stand for it
    if compose_command(engine) is None:
        workshop_note(
            f"The stack was not started: {engine.name} answers, but no compose for it does "
            f"(`docker compose`, or podman-compose, in the authors group: `uv sync --group "
            f"authors`)."
        )
        return

    stack = ComposeStack(
        engine,
        COMPOSE_FILE,
        project=f"workshop-check-07-{uuid4().hex[:8]}",
        scratch=tmp_path,
        environment={"SECRET_KEY": secrets.token_urlsafe(48)},
        build_contexts={"project": REPOSITORY},
    )
    built = [
        service["image"] for service in found.values() if "build" in service and "image" in service
    ]
    with replacing(engine, built), stack:
        try:
            stack.up()
        except StackError as error:
            raise AssertionError(f"{error}\n{WHERE}") from None
        port = stack.published_port("app", 8000)
        ready = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=10)

    assert ready.status_code == 200, (
        f"The stack is up, but the app answers GET /health/ready with {ready.status_code}: "
        f"{ready.text[:300]}. {WHERE}"
    )
    workshop_note(
        f"The compose stack came up in order on {engine.describe()} (migration done, app "
        f"healthy), and GET /health/ready answered 200."
    )
