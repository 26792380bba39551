"""docker-compose.yml brought up for real (issue 17): its services start in the order its
depends_on conditions give, the app becomes healthy and serves a visitor, and stopping it lets
every worker shut down cleanly.

Slow. On Podman the conditions are waited for by workshop/compose_stack.py (its docstring says
why compose cannot do it there); ports are published on free local ports, and a project name
of the test's own keeps its containers, network and volumes apart.
"""

import re

import pytest
from final_images import (
    COMPOSE_FILE,
    compose_services,
    engine_or_skip,
    production_secret,
    register_login_and_read,
    unique_name,
)

from workshop.compose_stack import ComposeStack, compose_command, dependencies

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


def entry_service() -> str:
    """Where visitors come in: a service publishing a port that no other service needs."""
    services = compose_services()
    needed = {name for service in services.values() for name in dependencies(service)}
    entries = [name for name, s in services.items() if s.get("ports") and name not in needed]
    assert entries, "docker-compose.yml publishes no port for visitors"
    return "proxy" if "proxy" in entries else entries[0]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    engine = engine_or_skip()
    if compose_command(engine) is None:
        pytest.fail(f"no compose for {engine.name}: `uv sync` installs podman-compose")
    profiles = sorted(
        {
            profile
            for service in compose_services().values()
            for profile in service.get("profiles", [])
        }
    )
    with ComposeStack(
        engine,
        COMPOSE_FILE,
        project=unique_name("stack"),
        scratch=tmp_path_factory.mktemp("compose"),
        profiles=profiles,
        environment={"SECRET_KEY": production_secret()},
    ) as running:
        running.up()
        yield running


def test_every_service_starts_in_order_and_the_app_is_healthy(stack):
    for container in stack.containers("app"):
        assert stack.engine.health(container) == "healthy", stack.logs("app")
    order = [step.split()[1].rstrip(":") for step in stack.steps if step.startswith("up ")]

    assert order.index("postgres") < order.index("migrate") < order.index("app"), stack.steps
    assert "migrate exited 0" in stack.steps, stack.steps


def test_a_visitor_registers_logs_in_and_reads_their_profile_through_the_stack(stack):
    port = stack.published_port(entry_service(), int(_app_port()))

    profile = register_login_and_read(f"http://127.0.0.1:{port}")

    assert profile["email"].startswith("image-")


def _app_port() -> str:
    (entry,) = compose_services()[entry_service()]["ports"][:1]
    return str(entry).rsplit(":", 1)[-1]


def test_stopping_the_app_lets_each_worker_shut_down_cleanly(stack):
    containers = stack.containers("app")

    stopped = stack.compose("stop", "app", timeout=120)

    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    for container in containers:
        code = stack.engine.exit_code(container, timeout=60)
        logs = stack.engine.logs(container)
        workers = len(re.findall(r'"message": "started"', logs))
        assert code == 0, f"{container} exited {code} after compose stop:\n{logs[-3000:]}"
        assert workers, f"{container} never logged 'started':\n{logs[-3000:]}"
        assert len(re.findall(r'"message": "stopped"', logs)) == workers, (
            f"each of the {workers} workers should log 'stopped' at shutdown:\n{logs[-3000:]}"
        )
