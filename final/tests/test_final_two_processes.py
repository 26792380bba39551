"""Two server processes, one PostgreSQL and one Redis: limits, revocations and metrics are
shared state, so they must hold whichever process a request lands on."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
from final_helpers import FAST_PASSWORD_HASHING, TEST_SECRET_KEY
from prometheus_client.parser import text_string_to_metric_families

FINAL_DIR = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited:\n{log.read_text()[-3000:]}"
        try:
            if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} was not ready after {STARTUP_SECONDS} s:\n{log.read_text()}")


@pytest.fixture
def server_environment(database_url, redis_url, redis_namespace, database_schema, tmp_path):
    """What every server of one test shares: the database, Redis and its key prefix."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    return {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"{redis_namespace}{tmp_path.name}:",
        "SECRET_KEY": TEST_SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOGIN_RATE_LIMIT": "3",
        "REDIS_SOCKET_TIMEOUT_SECONDS": "5",  # no fail-open by a stall on a busy machine
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        **{name.upper(): str(value) for name, value in FAST_PASSWORD_HASHING.items()},
    }


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen
    log: Path


@contextmanager
def running_servers(environment: dict, log_dir: Path, count: int) -> Iterator[list[Server]]:
    """`count` uvicorn processes of the app on free ports, once all are ready."""
    servers = []
    try:
        for number in range(count):
            port = free_port()
            log = log_dir / f"server-{number}.log"
            command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
            command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
            with log.open("w") as output:
                process = subprocess.Popen(
                    command, cwd=FINAL_DIR, env=environment, stdout=output, stderr=output
                )
            servers.append(Server(f"http://127.0.0.1:{port}", process, log))
        for server in servers:
            wait_until_ready(server.url, server.process, server.log)
        yield servers
    finally:
        for server in servers:
            server.process.terminate()
        for server in servers:
            try:
                server.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.process.kill()


@pytest.fixture
def two_servers(server_environment, tmp_path) -> Iterator[tuple[str, str]]:
    with running_servers(server_environment, tmp_path, 2) as (a, b):
        yield a.url, b.url


def scrape_429s(url: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "http_responses_total"
                and labels.get("route") == "/auth/token"
                and labels.get("status") == "429"
            ):
                return sample.value
    return 0.0


def test_revocation_rate_limits_and_metrics_hold_across_processes(two_servers):
    a, b = two_servers
    account = {"email": "shared@example.com", "password": "password123"}
    form = {"username": account["email"], "password": account["password"]}
    assert httpx.post(f"{a}/users", json=account).status_code == 201

    # Revocation: log in on A, log out on B, and A refuses both tokens.
    tokens = httpx.post(f"{a}/auth/token", data=form).json()  # login 1 of 3
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert httpx.get(f"{b}/users/me", headers=bearer).status_code == 200
    assert httpx.post(f"{b}/auth/logout", headers=bearer).status_code == 204
    assert httpx.get(f"{a}/users/me", headers=bearer).status_code == 401
    refresh = httpx.post(f"{a}/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401

    # Rate limit: three logins in all, however they are spread over A and B.
    assert httpx.post(f"{b}/auth/token", data=form).status_code == 200  # login 2 of 3
    assert httpx.post(f"{a}/auth/token", data=form).status_code == 200  # login 3 of 3
    refused_on_b = httpx.post(f"{b}/auth/token", data=form)
    refused_on_a = httpx.post(f"{a}/auth/token", data=form)
    assert refused_on_b.status_code == 429
    assert refused_on_a.status_code == 429
    assert int(refused_on_a.headers["Retry-After"]) >= 1

    # Metrics: either process reports the 429s of both.
    assert scrape_429s(a) == scrape_429s(b) == 2


@pytest.mark.parametrize(("trusted_proxy", "spoofing_works"), [("127.0.0.1", True), ("", False)])
def test_forwarded_for_is_believed_only_from_trusted_proxies(
    server_environment, tmp_path, trusted_proxy, spoofing_works
):
    environment = {**server_environment, "FORWARDED_ALLOW_IPS": trusted_proxy}
    form = {"username": "nobody@example.com", "password": "wrong"}
    with running_servers(environment, tmp_path, 1) as (server,):
        url = server.url
        statuses = [
            httpx.post(
                f"{url}/auth/token", data=form, headers={"X-Forwarded-For": f"203.0.113.{i}"}
            ).status_code
            for i in range(5)
        ]

    if spoofing_works:  # a trusted proxy names the client: five clients, five budgets
        assert statuses == [401] * 5
    else:  # anyone else's header is ignored: one client, over its budget of three
        assert statuses == [401, 401, 401, 429, 429]


def wait_until_busy(process: subprocess.Popen, cpu_seconds: float) -> None:
    """Return once the process has used `cpu_seconds` more CPU: the request is being served."""
    server = psutil.Process(process.pid)
    start = sum(server.cpu_times()[:2])
    deadline = time.monotonic() + STARTUP_SECONDS
    while sum(server.cpu_times()[:2]) - start < cpu_seconds:
        assert time.monotonic() < deadline, "the server never started on the request"
        time.sleep(0.01)


def test_sigterm_lets_a_request_in_flight_finish_then_closes_the_pools(
    server_environment, tmp_path
):
    # Production argon2: a login costs ~0.2 s of CPU, long enough to be caught in flight.
    environment = {
        **server_environment,
        "PASSWORD_HASH_TIME_COST": "3",
        "PASSWORD_HASH_MEMORY_COST_KIB": "65536",
        "PASSWORD_HASH_PARALLELISM": "1",
    }
    account = {"email": "leaving@example.com", "password": "password123"}
    form = {"username": account["email"], "password": account["password"]}
    with running_servers(environment, tmp_path, 1) as (server,):
        assert httpx.post(f"{server.url}/users", json=account, timeout=30).status_code == 201
        with ThreadPoolExecutor(max_workers=1) as pool:
            login = pool.submit(httpx.post, f"{server.url}/auth/token", data=form, timeout=30)
            wait_until_busy(server.process, cpu_seconds=0.05)
            server.process.terminate()  # SIGTERM, as an orchestrator stops a container
            response = login.result()
        exit_code = server.process.wait(timeout=30)
    log = server.log.read_text()

    assert response.status_code == 200, "the request in flight at SIGTERM is answered"
    # uvicorn finishes its graceful shutdown, then re-raises the signal it caught.
    assert exit_code in {0, -signal.SIGTERM}
    assert '"message": "stopped"' in log, "the lifespan's shutdown ran (pools closed)"
