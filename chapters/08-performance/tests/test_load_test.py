"""Exercise performance.load_test: the chapter's Locust scenario runs headless, without failures.

Locust is never imported here: it patches the standard library (gevent) when imported, which
would break this pytest process. The app runs under uvicorn in one subprocess, Locust in
another, and the test reads Locust's final statistics. The run lasts a few seconds once every
journey has been seen, longer on a busy machine: the test counts work, never speed.
"""

import csv
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

pytestmark = pytest.mark.exercise("performance.load_test")

WHERE = "(exercise performance.load_test, locustfile.py)"
CHAPTER = Path(__file__).resolve().parents[1]
LOCUSTFILE = CHAPTER / "locustfile.py"
# Loaded beside the locustfile: it writes down the body of each kind of refusal (a 422's
# `detail` and `errors`), which Locust's own report reduces to a status line.
REFUSALS_ADDON = CHAPTER / "tests" / "locust_refusals.py"
# (method, name in the report): each journey of the scenario, ids grouped under one name.
JOURNEYS = [
    ("POST", "/users"),
    ("POST", "/auth/token"),
    ("GET", "/users/me"),
    ("GET", "/users/{user_id}"),
    ("PATCH", "/users/me"),
    ("POST", "/auth/refresh"),
]
LOCUSTFILE_FRAME = re.compile(r'locustfile\.py", line (?P<line>\d+), in (?P<function>\w+)')
RAW_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")
USERS = 10
MIN_RUN_SECONDS = 5  # once every journey has been seen
MAX_RUN_SECONDS = 45  # Locust stops itself then
GIVE_UP_IDLE_SECONDS = 10  # a scenario that has sent nothing by then never will
START_TIMEOUT_SECONDS = 60
SERVER_SETTINGS = (
    "DATABASE_URL",
    "REDIS_URL",
    "REDIS_KEY_PREFIX",
    "SECRET_KEY",
    "ENVIRONMENT",
    "ALLOWED_HOSTS",
    "LOG_SQL_QUERIES",
    "LOG_LEVEL",
    "RATE_LIMIT_ENABLED",
    "METRICS_TOKEN",
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
        LOG_LEVEL="INFO",  # one access log line per request: what the service answered
        # Every simulated user comes from this one address: the per-address limits would
        # refuse most of them (the locustfile's docstring says so too).
        RATE_LIMIT_ENABLED="false",
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


@dataclass
class LocustRun:
    exit_status: int
    seconds: float
    log: str  # Locust's stderr: warnings, and a traceback for every error in a task
    stats: list[dict] | None  # the final figures per request name (None: none written)
    failure_reasons: dict[tuple[str, str], str]  # (method, name): the first error seen
    refusals: list[dict]  # the first answer of each (method, name, status) from 400 up

    def failed_requests(self) -> list[str]:
        return [
            f"{entry['method']} {entry['name']}: {entry['num_failures']} of "
            f"{entry['num_requests']} failed, "
            f"{self.failure_reasons.get((entry['method'], entry['name']), 'see the log')}"
            for entry in self.stats or []
            if entry["num_failures"]
        ]

    def what_the_service_said(self) -> str:
        """One line per kind of refusal, with the problem's own words: what to fix."""
        lines = [
            f"  {refusal['status']} {refusal['method']} {refusal['name']}: "
            f"{problem_summary(refusal['body'])}"
            for refusal in self.refusals
        ]
        return "\n".join(["What the service answered:", *lines]) if lines else ""

    def task_errors(self) -> list[str]:
        """Each exception a task raised, with the locustfile function and line it came from."""
        errors: list[str] = []
        where = None
        for line in self.log.splitlines():
            frame = LOCUSTFILE_FRAME.search(line)
            if frame and where is None:  # the outermost frame: the task or on_start
                where = f"{frame['function']} (locustfile.py, line {frame['line']})"
            elif where and line and not line[0].isspace():  # the traceback's last line
                errors.append(f"{line.strip()} in {where}")
                where = None
        return list(dict.fromkeys(errors))[:3]

    def request_names(self) -> dict[tuple[str, str], int]:
        stats = self.stats or []
        return {(entry["method"], entry["name"]): entry["num_requests"] for entry in stats}


def names_so_far(stats_csv: Path) -> dict[tuple[str, str], int]:
    """Requests per (method, name) from the CSV file Locust rewrites every second."""
    try:
        with stats_csv.open(newline="") as file:
            rows = list(csv.DictReader(file))
        return {(row["Type"], row["Name"]): int(row["Request Count"]) for row in rows}
    except (OSError, KeyError, TypeError, ValueError):  # not written yet, or read mid-write
        return {}


def stopped_by_itself(process: subprocess.Popen, seconds: float) -> bool:
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


def run_locust(base_url: str, directory: Path) -> LocustRun:
    """Run the scenario until every journey has been seen (and at least a few seconds)."""
    stats_file, csv_prefix = directory / "locust-stats", directory / "locust"
    command = [sys.executable, "-m", "locust", "-f", f"{LOCUSTFILE},{REFUSALS_ADDON}"]
    command += ["--headless"]
    command += ["--users", str(USERS), "--spawn-rate", str(USERS)]
    command += ["--run-time", f"{MAX_RUN_SECONDS}s", "--host", base_url, "--only-summary"]
    # The final figures as JSON (Locust adds ".json"); the CSV files, rewritten every second,
    # tell how far the run is, and why requests failed.
    command += ["--json-file", str(stats_file), "--csv", str(csv_prefix)]
    command += ["--loglevel", "WARNING"]
    log_path = directory / "locust.log"
    refusals_file = directory / "refusals.jsonl"
    environment = {**os.environ, "WORKSHOP_LOCUST_REFUSALS": str(refusals_file)}
    stats_csv = Path(f"{csv_prefix}_stats.csv")
    started = time.monotonic()
    running_since = None  # when the CSV first appeared: Locust may take seconds to start
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=CHAPTER, env=environment, stdout=subprocess.DEVNULL, stderr=log
        )
    try:
        # A busy machine gets more time; a fast one is done in MIN_RUN_SECONDS.
        while not stopped_by_itself(process, 0.5):
            if running_since is None and stats_csv.is_file():
                running_since = time.monotonic()
            running = time.monotonic() - (running_since or time.monotonic())
            seen = names_so_far(stats_csv)
            every_journey = all(seen.get(journey) for journey in JOURNEYS)
            nothing_yet = len(seen) <= 1  # at most the "Aggregated" row
            if (running >= MIN_RUN_SECONDS and every_journey) or (
                running >= GIVE_UP_IDLE_SECONDS and nothing_yet
            ):
                process.terminate()  # Locust stops its users and writes its final figures
                break
            if time.monotonic() - started > MAX_RUN_SECONDS + START_TIMEOUT_SECONDS:
                process.kill()  # Locust hangs; its exit status (-9) says so
                break
        exit_status = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    json_file = stats_file.with_suffix(".json")
    failures_csv = Path(f"{csv_prefix}_failures.csv")
    reasons: dict[tuple[str, str], str] = {}
    if failures_csv.is_file():
        with failures_csv.open(newline="") as file:
            for row in csv.DictReader(file):
                reasons.setdefault((row["Method"], row["Name"]), row["Error"])
    return LocustRun(
        exit_status=exit_status,
        seconds=time.monotonic() - (running_since or started),
        log=log_path.read_text(errors="replace"),
        stats=json.loads(json_file.read_text()) if json_file.is_file() else None,
        failure_reasons=reasons,
        refusals=read_refusals(refusals_file),
    )


def read_refusals(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    refusals = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            refusals.append(json.loads(line))
        except ValueError:  # a line cut short when Locust was stopped
            continue
    return refusals


def problem_summary(body: str) -> str:
    """A problem document's `detail` and each of its `errors` (field: message); any other
    body as it came, cut short."""
    try:
        problem = json.loads(body)
    except ValueError:
        problem = None
    if not isinstance(problem, dict) or "detail" not in problem:
        return repr(body[:300]) if body else "(no body)"
    summary = str(problem["detail"])
    errors = problem.get("errors")
    if isinstance(errors, list) and errors:
        fields = [
            f"{error.get('field', '?')}: {error.get('message', error)}"
            if isinstance(error, dict)
            else str(error)
            for error in errors[:5]
        ]
        summary += f" errors: {'; '.join(fields)}"
    return summary


def refusals_in_access_log(server_log: Path) -> dict[str, int]:
    """What the service itself answered with 4xx or 5xx, from its access log (one JSON line
    per request, app/middleware.py): `{"422 PATCH /users/me": 37}`."""
    refused: dict[str, int] = {}
    for line in server_log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("logger") == "app.access" and int(entry.get("status", 0)) >= 400:
            answer = f"{entry['status']} {entry['method']} {entry['route']}"
            refused[answer] = refused.get(answer, 0) + 1
    return refused


def test_the_scenario_runs_headless_without_failures_and_covers_every_journey(served_app, tmp_path):
    base_url, server_log = served_app

    run = run_locust(base_url, tmp_path)

    locust_log = "\n".join(run.log.strip().splitlines()[-12:]) or "(empty)"
    assert run.exit_status == 0, (
        f"Locust should end with exit status 0 (no failed request, no error in a task); it "
        f"ended with {run.exit_status}.\nFailed requests: {run.failed_requests() or 'none'}\n"
        f"{run.what_the_service_said()}\n"
        f"Errors in tasks: {run.task_errors() or 'none'}\n{WHERE}\n"
        f"Locust's log ends with:\n{locust_log}\nThe app's log ends with:\n{tail(server_log, 8)}"
    )
    assert run.stats is not None, f"Locust wrote no statistics. Its log ends with:\n{locust_log}"
    names = run.request_names()
    missing = [f"{method} {name}" for method, name in JOURNEYS if not names.get((method, name))]
    with_ids = sorted(name for _, name in names if RAW_ID.search(name))
    named = sorted(f"{method} {name}" for method, name in names if not RAW_ID.search(name))
    raw_ids = (
        f", and {len(with_ids)} with a raw id such as {with_ids[0]!r}: give those a `name=` "
        f"(see the docstrings)"
        if with_ids
        else ""
    )
    # Only `name=` is missing when every journey not seen is one with an id in its path and
    # requests with raw ids were sent: the task is there, its report line is not grouped.
    only_names = bool(with_ids) and all("{" in journey for journey in missing)
    assert not missing, (
        f"In {run.seconds:.0f} s of Locust running with {USERS} users (the test stops it once "
        f"every journey has been seen, or after {MAX_RUN_SECONDS} s: that is the time it "
        f"waited for the journeys below, not the page's `--run-time 10s`), no request was "
        f"named {missing}.\n"
        f"Names seen: {named}{raw_ids}.\n"
        + (
            f"Pass name={missing[0].split(' ', 1)[1]!r} with those requests {WHERE}."
            if only_names
            else f"Register and log in from on_start, and write every @task {WHERE}."
        )
    )
    refused = refusals_in_access_log(server_log)
    assert not refused, (
        f"Locust counted no failure, yet the service refused {sum(refused.values())} requests, "
        f"by its own access log: {refused}. A task that decides for itself whether a response "
        f"succeeded (catch_response with success()) hides what the service answered: send "
        f"each request so that the service accepts it, and let Locust count what it refuses "
        f"{WHERE}.\n{run.what_the_service_said()}"
    )
