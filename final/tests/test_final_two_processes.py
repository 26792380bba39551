"""Two server processes, one PostgreSQL and one Redis: limits, revocations and metrics are
shared state, so they must hold whichever process a request lands on."""

import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psutil
import pytest
from final_helpers import metric_value
from final_servers import STARTUP_SECONDS, running_servers, scrape


def scrape_429s(url: str) -> float:
    return metric_value(
        scrape(url), "http_responses_total", method="POST", route="/auth/token", status="429"
    )


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
    log = server.log_path.read_text()

    assert response.status_code == 200, "the request in flight at SIGTERM is answered"
    # uvicorn finishes its graceful shutdown, then re-raises the signal it caught.
    assert exit_code in {0, -signal.SIGTERM}
    assert '"message": "stopped"' in log, "the lifespan's shutdown ran (pools closed)"
