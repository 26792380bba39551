"""Exercise performance.load_test: the chapter's Locust scenario runs headless, without failures.

Locust is never imported here: it patches the standard library (gevent) when imported, which
would break this pytest process. The app runs under uvicorn in one subprocess, Locust in
another, and the test reads Locust's final statistics.
"""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

pytestmark = pytest.mark.exercise("performance.load_test")

WHERE = "(exercise performance.load_test, locustfile.py)"
CHAPTER = Path(__file__).resolve().parents[1]
LOCUSTFILE = CHAPTER / "locustfile.py"
# (method, name in the report): each journey of the scenario, ids grouped under one name.
JOURNEYS = [
    ("POST", "/users"),
    ("POST", "/auth/token"),
    ("GET", "/users/me"),
    ("GET", "/users/{user_id}"),
    ("GET", "/users?limit=20"),
    ("PATCH", "/users/{user_id} [update]"),
    ("POST", "/auth/refresh"),
]
USERS = 10
RUN_SECONDS = 8
START_TIMEOUT_SECONDS = 60
SERVER_SETTINGS = (
    "DATABASE_URL",
    "REDIS_URL",
    "REDIS_KEY_PREFIX",
    "SECRET_KEY",
    "ENVIRONMENT",
    "ALLOWED_HOSTS",
    "LOG_SQL_QUERIES",
    "LOGIN_RATE_LIMIT",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 15) -> str:
    text = path.read_text(errors="replace") if path.is_file() else ""
    return "\n".join(text.strip().splitlines()[-lines:]) or "(empty)"


def wait_until_live(process: subprocess.Popen, base_url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/health/live", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        try:  # a pause that ends at once if the server dies
            process.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"The app exited ({process.returncode}) before it started:\n{tail(log)}")
    pytest.fail(f"The app did not answer /health/live within {START_TIMEOUT_SECONDS} s.")


@pytest.fixture
def served_app(
    database_url: str, database_schema: None, redis_url: str, redis_namespace: str, tmp_path
) -> Iterator[tuple[str, Path]]:
    """The chapter's app under uvicorn in a process of its own: (base URL, its log)."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k not in SERVER_SETTINGS}
    environment.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        REDIS_KEY_PREFIX=f"{redis_namespace}load-{uuid4().hex[:8]}:",
        SECRET_KEY="load-test-secret-key-long-enough-for-hs256-0123456789",
        ENVIRONMENT="test",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_SQL_QUERIES="false",
        # Every simulated user logs in from this one address.
        LOGIN_RATE_LIMIT="1000",
        # Cheap argon2: the load test measures the service, not the password hashing.
        PASSWORD_HASH_TIME_COST="1",
        PASSWORD_HASH_MEMORY_COST_KIB="1024",
        PASSWORD_HASH_PARALLELISM="1",
    )
    log = tmp_path / "server.log"
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=CHAPTER, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_live(process, base_url, log)
        yield base_url, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_locust(base_url: str, stats_file: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
    command += ["--users", str(USERS), "--spawn-rate", str(USERS)]
    command += ["--run-time", f"{RUN_SECONDS}s", "--host", base_url, "--only-summary"]
    # The final figures as JSON (Locust adds ".json"); its CSV files lag up to a second.
    command += ["--json-file", str(stats_file.with_suffix("")), "--loglevel", "WARNING"]
    return subprocess.run(
        command, cwd=CHAPTER, capture_output=True, text=True, timeout=120, check=False
    )


def error_report(locust_output: str) -> str:
    """The "Error report" table Locust prints at the end, when requests failed."""
    _, found, report = locust_output.partition("Error report")
    return "\n".join(report.strip().splitlines()[:8]) if found else "(none)"


def test_the_scenario_runs_headless_without_failures_and_covers_every_journey(served_app, tmp_path):
    base_url, server_log = served_app
    stats_file = tmp_path / "locust-stats.json"

    completed = run_locust(base_url, stats_file)

    locust_said = "\n".join(completed.stderr.strip().splitlines()[-12:]) or "(nothing)"
    assert completed.returncode == 0, (
        f"Locust should finish with exit status 0, which means no failed request and no "
        f"error in a task; it ended with {completed.returncode}. Failed requests:\n"
        f"{error_report(completed.stdout)}\nLocust's log ends with:\n{locust_said}\n"
        f"The app's log ends with:\n{tail(server_log, 8)}\n{WHERE}"
    )
    assert stats_file.is_file(), f"Locust wrote no statistics. Its log ends with:\n{locust_said}"
    entries = json.loads(stats_file.read_text())
    failures = sum(entry["num_failures"] for entry in entries)
    assert failures == 0, f"The scenario should run without failures; {failures} failed {WHERE}."
    counts = {(entry["method"], entry["name"]): entry["num_requests"] for entry in entries}
    missing = [f"{method} {name}" for method, name in JOURNEYS if not counts.get((method, name))]
    assert not missing, (
        f"In {RUN_SECONDS} s with {USERS} users, the report has no request for: {missing}. "
        f"It has: {sorted(f'{method} {name}' for method, name in counts)}. Register and log "
        f"in in on_start, write each @task, and give requests with an id or a query the "
        f"`name=` in their docstring {WHERE}."
    )
