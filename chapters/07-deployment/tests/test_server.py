"""Exercise deployment.server: the image's command serves for production. It is read from the
Dockerfile, then run here as the container would run it: workers, proxy headers, and a
graceful shutdown that lets a request in flight finish."""

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from uuid import uuid4

import httpx
import psutil
import pytest
import redis
from deploy_files import CHAPTER, env_values, graceful_timeout_seconds, read_dockerfile, run_tool

pytestmark = pytest.mark.exercise("deployment.server")

WHERE = "Edit the Dockerfile's CMD and ENV (exercise deployment.server)."
PRODUCTION_SECRET = "a-production-secret-of-48-characters-0123456789ab"
FORWARDED_CLIENT = "203.0.113.7"  # an address from the documentation range


def image_command() -> list[str]:
    stages = read_dockerfile()
    commands = stages[-1].all("CMD") if stages else []
    assert commands, (
        f"The final stage has no CMD: the container would not know what to run. {WHERE}"
    )
    command = commands[-1].exec_form
    assert command is not None, (
        f"CMD is in shell form ({commands[-1].arguments!r}): Docker runs it as /bin/sh -c, so "
        f"the shell is PID 1 and SIGTERM never reaches uvicorn; the container is killed after "
        f'the grace period, mid-request. Write it as a JSON array: ["uvicorn", ...]. {WHERE}'
    )
    return command


def test_the_command_is_uvicorn_in_exec_form_with_production_flags():
    command = image_command()

    assert command[:3] == ["uvicorn", "app.main:create_app", "--factory"], (
        f"The command should start with uvicorn app.main:create_app --factory; it is "
        f"{command}. {WHERE}"
    )
    assert "--proxy-headers" in command, (
        "Behind a proxy or load balancer, every request comes from the proxy's address: add "
        "--proxy-headers so uvicorn takes the client's from X-Forwarded-For (only from the "
        f"proxies FORWARDED_ALLOW_IPS trusts). {WHERE}"
    )
    seconds = graceful_timeout_seconds(command)
    assert seconds, (
        "Add --timeout-graceful-shutdown N (seconds): on SIGTERM uvicorn stops accepting and "
        "waits up to N seconds for requests in flight, shorter than the platform's grace "
        f"period (compose waits 10 s by default, Kubernetes 30 s). {WHERE}"
    )
    assert "0.0.0.0" in command, (
        "Listen on --host 0.0.0.0: in a container, 127.0.0.1 is the container's own loopback, "
        f"unreachable from outside. {WHERE}"
    )
    assert "--reload" not in command, f"--reload is for development only. {WHERE}"
    result = run_tool("hadolint", "--no-color", "Dockerfile")
    assert result.returncode == 0, f"hadolint finds problems:\n{result.stdout}{result.stderr}"


def test_the_image_sets_its_workers_and_leaves_trusted_proxies_to_the_deployment():
    stages = read_dockerfile()
    values = env_values(stages[-1]) if stages else {}

    workers = values.get("WEB_CONCURRENCY", "")
    assert workers.isdigit(), (
        "Set ENV WEB_CONCURRENCY=2 in the final stage (uvicorn reads it as its number of "
        f"worker processes): one process uses one core. {WHERE}"
    )
    trusted = values.get("FORWARDED_ALLOW_IPS", "")
    everyone = (
        ' "*" is the worst of all: any client could then send X-Forwarded-For, pick its own '
        "address and with it its own rate-limit bucket (chapter 04)."
        if "*" in trusted
        else ""
    )
    assert "FORWARDED_ALLOW_IPS" not in values, (
        f"The image sets FORWARDED_ALLOW_IPS={trusted}: which proxies to believe depends on "
        "what stands in front of the container, which the image cannot know (127.0.0.1 is "
        f"uvicorn's default anyway).{everyone} Leave it out of the image; docker-compose.yml "
        f"sets it for the app (exercise deployment.compose). {WHERE}"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """The image's command, run on this machine; its output is read line by line."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            command,
            cwd=CHAPTER,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, predicate, *, count: int = 1, timeout: float = 60) -> None:
        """Read output until `count` lines satisfy `predicate` (the server says it is there)."""
        seen = sum(1 for line in self.lines if predicate(line))
        while seen < count:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"The server did not get there in {timeout} s:\n{self.output}")
            if line is None:
                pytest.fail(f"The server exited with {self.process.wait()}:\n{self.output}")
            self.lines.append(line)
            seen += predicate(line)

    def read_to_end(self, timeout: float = 30) -> None:
        """Read the output of a server that has exited, to its last line."""
        while (line := self._queue.get(timeout=timeout)) is not None:
            self.lines.append(line)

    def messages(self, message: str) -> list[dict]:
        found = []
        for line in self.lines:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and record.get("message") == message:
                found.append(record)
        return found

    @property
    def output(self) -> str:
        return "".join(self.lines[-40:])

    def stop(self) -> None:
        if self.process.poll() is None:
            for child in psutil.Process(self.process.pid).children(recursive=True):
                child.kill()
            self.process.kill()
        self.process.wait(timeout=30)


def message_is(message: str):
    return lambda line: f'"message": "{message}"' in line


def local_command(command: list[str], port: int) -> list[str]:
    """The image's command with this machine's uvicorn, host and port."""
    local = [str(Path(sys.executable).parent / "uvicorn"), *command[1:]]
    for option, value in (("--host", "127.0.0.1"), ("--port", str(port))):
        if option in local:
            local[local.index(option) + 1] = value
        else:
            local += [option, value]
    return local


@pytest.mark.timeout(120)
def test_the_command_serves_with_workers_proxy_headers_and_a_graceful_shutdown(
    settings, database_schema
):
    command = image_command()
    workers = env_values(read_dockerfile()[-1]).get("WEB_CONCURRENCY", "")
    assert workers.isdigit(), f"Set ENV WEB_CONCURRENCY in the final stage first. {WHERE}"
    port = free_port()
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "ENVIRONMENT": "production",
        "SECRET_KEY": PRODUCTION_SECRET,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "REDIS_KEY_PREFIX": settings.redis_key_prefix,
        "WEB_CONCURRENCY": workers,
        "FORWARDED_ALLOW_IPS": "127.0.0.1",  # this test's client is the trusted proxy
        # Log each statement: the login's SELECT says the request is in flight. A costlier
        # hash keeps it there long enough to send SIGTERM in the middle of it.
        "LOG_SQL_QUERIES": "true",
        "PASSWORD_HASH_TIME_COST": "12",
    }
    server = Server(local_command(command, port), env)
    try:
        server.wait_for(message_is("started"), count=int(workers))
        worker_processes = [
            child
            for child in psutil.Process(server.process.pid).children()
            if "resource_tracker" not in " ".join(child.cmdline())
        ]
        assert len(worker_processes) == int(workers), (
            f"WEB_CONCURRENCY={workers} should start {workers} worker processes; "
            f"{len(worker_processes)} run. Do not override it with --workers. {WHERE}"
        )

        base_url = f"http://127.0.0.1:{port}"
        email = f"graceful-{uuid4().hex[:8]}@example.com"
        with httpx.Client(base_url=base_url, timeout=60) as client:
            registered = client.post("/users", json={"email": email, "password": "s3cret-pw"})
        assert registered.status_code == 201, registered.text

        # A login from the "proxy" 127.0.0.1 on behalf of FORWARDED_CLIENT, stopped mid-way.
        answers: list[httpx.Response] = []

        def log_in() -> None:
            with httpx.Client(base_url=base_url, timeout=60) as client:
                answers.append(
                    client.post(
                        "/auth/token",
                        data={"username": email, "password": "s3cret-pw"},
                        headers={"X-Forwarded-For": FORWARDED_CLIENT},
                    )
                )

        login = threading.Thread(target=log_in)
        login.start()
        server.wait_for(lambda line: '"query"' in line and "lower(users.email)" in line)
        assert login.is_alive(), "The login finished before the test could stop the server."
        server.process.send_signal(signal.SIGTERM)
        login.join(timeout=60)
        exit_status = server.process.wait(timeout=60)
        server.read_to_end()
    finally:
        server.stop()

    assert answers, "The login in flight got no answer: it was cut off by the shutdown."
    assert answers[0].status_code == 200, (
        f"The login in flight when SIGTERM arrived should finish normally (200); it got "
        f"{answers[0].status_code}. uvicorn lets requests in flight finish for "
        f"--timeout-graceful-shutdown seconds. {WHERE}"
    )
    assert exit_status == 0, f"After SIGTERM, uvicorn should exit 0; it exited {exit_status}."
    assert len(server.messages("stopped")) == int(workers), (
        f"Each of the {workers} workers should run the lifespan's shutdown (it logs 'stopped' "
        f"and closes the pools); {len(server.messages('stopped'))} did:\n{server.output}"
    )
    key = f"{settings.redis_key_prefix}ratelimit:login:{FORWARDED_CLIENT}"
    with redis.Redis.from_url(settings.redis_url) as client:
        counted = client.exists(key)
    assert counted, (
        f"The login came from 127.0.0.1 (a trusted proxy) for {FORWARDED_CLIENT}, so the rate "
        f"limiter should have counted {FORWARDED_CLIENT}; it did not. With --proxy-headers "
        f"uvicorn takes the client's address from X-Forwarded-For. {WHERE}"
    )
