"""Two server processes, one PostgreSQL and one Redis: limits, revocations and metrics are
shared state, so they must hold whichever process a request lands on."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
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
def two_servers(
    database_url, redis_url, redis_namespace, database_schema, tmp_path
) -> Iterator[tuple[str, str]]:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    environment = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"{redis_namespace}two-processes:",
        "SECRET_KEY": TEST_SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOGIN_RATE_LIMIT": "3",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        **{name.upper(): str(value) for name, value in FAST_PASSWORD_HASHING.items()},
    }
    servers, urls = [], []
    for name in ("a", "b"):
        port = free_port()
        log = tmp_path / f"server-{name}.log"
        command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
        with log.open("w") as output:
            process = subprocess.Popen(
                command, cwd=FINAL_DIR, env=environment, stdout=output, stderr=subprocess.STDOUT
            )
        servers.append((process, log))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for (process, log), url in zip(servers, urls, strict=True):
            wait_until_ready(url, process, log)
        yield urls[0], urls[1]
    finally:
        for process, _ in servers:
            process.terminate()
        for process, _ in servers:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


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
