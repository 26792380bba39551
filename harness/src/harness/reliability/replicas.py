"""The replica drill: three servers of the finished service behind HAProxy, on the shared
PostgreSQL (a database of the drill's own) and the shared Redis (a key prefix of its own).

1. Across replicas, before any load: a login ended through one replica is refused by all
   three; the per-address login limit and the per-account guess limit count every replica's
   answers together; a client's own X-Forwarded-For does not buy it a fresh budget.
2. Under the benchmarks' mixed journey (Locust, through the proxy), one replica is killed with
   SIGKILL, then started again as an orchestrator would. Every request is timed, so the
   figures say what the clients saw before, during and after; HAProxy says what it retried.
3. The audit: every registration and rename the service acknowledged is in the database.

The proxy runs final/deploy/haproxy/haproxy.cfg with only its addresses moved onto this
machine (harness.proxy.local_config), so what is proven is the shipped configuration.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypedDict

import httpx
import redis

import localservices as services
from harness.bench import seed
from harness.bench.scenarios.seeded import GENERATOR_PROCESSES_ENV, SEED_FILE_ENV
from harness.paths import REPO_ROOT
from harness.proxy import Proxy
from harness.reliability.checks import fetch
from harness.reliability.stack import migrated_database, server, service_settings
from harness.server import UvicornServer

JOURNEY = Path(__file__).with_name("replica_journey.py")
REPLICAS = 3
KILLED = 2  # the third replica is the one killed
LOGIN_LIMIT = 60  # per address and minute: the journey's own logins stay well under it
GUESS_LIMIT = 10  # failed logins per account, from any address
# Each check comes from an address of its own (any 127.x.y.z reaches the loopback), so its
# budget is its own: the load's logins come from 127.0.0.1 and spend another.
SEED_ADDRESS, LOGOUT_ADDRESS, LIMIT_ADDRESS, GUESS_ADDRESS = (
    "127.0.0.2",
    "127.0.0.3",
    "127.0.0.4",
    "127.0.0.5",
)
# After the killed replica is back: HAProxy's `rise 2` at `inter 2s`, then some slack.
GRACE_SECONDS = 5.0
PASSWORD = "replica-password-1234"


@dataclass(frozen=True)
class ReplicaTiming:
    users: int = 6
    warmup_seconds: float = 3
    down_seconds: float = 3
    recovery_seconds: float = 8
    seeded_users: int = 40


@dataclass
class Phase:
    name: str
    seconds: float
    requests: int
    failed: int
    failed_reads: int
    by_status: dict[str, int]  # "502 POST /users" -> count, for what failed
    p50_ms: float
    p99_ms: float


@dataclass
class ReplicaReport:
    users: int
    seconds: float
    requests: int
    phases: list[Phase]
    killed: str  # what was done, in numbers
    restart_seconds: float  # from SIGKILL until the replica answered /health/ready again
    served_by_replica: dict[str, int]  # HAProxy's sessions per server
    served_by_killed_after_return: int
    retries: int  # HAProxy's connection retries
    redispatches: int  # retries sent to another server
    checks: dict[str, str]  # cross-replica check -> what was seen
    registrations_acknowledged: int
    renames_acknowledged: int
    rows_lost: list[str]
    renames_lost: list[str]
    problems: list[str] = field(default_factory=list)


# --- the stack -------------------------------------------------------------------------------


@contextmanager
def replica_stack(
    postgres_url: str, redis_url: str, key_prefix: str, work_dir: Path
) -> Iterator[tuple[str, list[UvicornServer], Proxy]]:
    """A migrated database of the drill's own, three servers and the proxy; all removed at
    the end, the drill's Redis keys included."""
    work_dir.mkdir(parents=True, exist_ok=True)
    with migrated_database(postgres_url) as database_url:
        name = f"rel-replicas-{secrets.token_hex(3)}"
        settings = service_settings(
            database_url=database_url,
            redis_url=redis_url,
            key_prefix=key_prefix,
            app_name=name,
            LOGIN_RATE_LIMIT=str(LOGIN_LIMIT),
            LOGIN_RATE_LIMIT_WINDOW_SECONDS="60",
            ACCOUNT_LOGIN_FAILURE_LIMIT=str(GUESS_LIMIT),
            FORWARDED_ALLOW_IPS="127.0.0.1",  # the proxy's address, as seen by the servers
            ALLOWED_HOSTS="127.0.0.1,localhost,app",  # app: the Host of HAProxy's checks
        )
        servers = []
        for number in range(REPLICAS):
            metrics = work_dir / f"metrics-{number + 1}"  # each replica is a pod of its own
            metrics.mkdir(exist_ok=True)
            each = {**settings, "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
            servers.append(server(f"app{number + 1}", each, work_dir / f"app{number + 1}.log"))
        proxy = Proxy(work_dir, [replica.port for replica in servers])
        try:
            for replica in servers:
                replica.start()
            proxy.start()
            yield database_url, servers, proxy
        finally:
            proxy.stop()
            for replica in servers:
                replica.stop()
            _forget_keys(redis_url, key_prefix)


def _forget_keys(redis_url: str, key_prefix: str) -> None:
    with closing(redis.Redis.from_url(redis_url)) as client:
        keys = list(client.scan_iter(match=f"{key_prefix}*", count=1000))
        if keys:
            client.delete(*keys)


def _client(base_url: str, address: str) -> httpx.Client:
    """A client whose connections leave from `address`: a visitor of its own to the proxy."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=base_url, transport=transport, timeout=30)


def _register(client: httpx.Client, label: str) -> dict[str, str]:
    email = f"{label}-{secrets.token_hex(4)}@replicas.example.com"
    answer = client.post("/users", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 201, f"registering {email}: {answer.status_code} {answer.text}"
    return {"username": email, "password": PASSWORD}


# --- 1. across replicas ----------------------------------------------------------------------


def check_logout(proxy: Proxy, servers: list[UvicornServer]) -> tuple[str, list[str]]:
    """Log in through the proxy, log out through one replica: every replica refuses it."""
    with _client(proxy.url, LOGOUT_ADDRESS) as client:
        tokens = client.post("/auth/token", data=_register(client, "logout")).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    before = [httpx.get(f"{s.url}/users/me", headers=bearer).status_code for s in servers]
    ended = httpx.post(f"{servers[1].url}/auth/logout", headers=bearer).status_code
    after = [httpx.get(f"{s.url}/users/me", headers=bearer).status_code for s in servers]
    with _client(proxy.url, LOGOUT_ADDRESS) as client:
        refresh = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    seen = (
        f"/users/me on the 3 replicas {before}; logout through app2: {ended}; then {after}; "
        f"refresh through the proxy: {refresh.status_code}"
    )
    problems = []
    if before != [200] * REPLICAS or ended != 204:
        problems.append(f"logout check could not start: {seen}")
    if after != [401] * REPLICAS or refresh.status_code != 401:
        problems.append(f"a login ended through one replica still works on another: {seen}")
    return seen, problems


def _sent_to(proxy: Proxy) -> dict[str, int]:
    """Per replica, how many requests HAProxy has sent it so far."""
    return {name: int(row["stot"]) for name, row in proxy.server_rows().items()}


def check_login_limit(proxy: Proxy) -> tuple[str, list[str]]:
    """LOGIN_LIMIT + 1 logins from one address through the proxy: the last is refused though
    the replicas shared them out; then a forged X-Forwarded-For is refused all the same."""
    with _client(proxy.url, LIMIT_ADDRESS) as client:
        form = _register(client, "limit")
        before = _sent_to(proxy)
        statuses = [client.post("/auth/token", data=form).status_code for _ in range(LOGIN_LIMIT)]
        over = client.post("/auth/token", data=form)
        forged = client.post("/auth/token", data=form, headers={"X-Forwarded-For": "203.0.113.9"})
        after = _sent_to(proxy)
    per_replica = {name: after[name] - before[name] for name in after}
    seen = (
        f"{statuses.count(200)} of {LOGIN_LIMIT} logins accepted, sent by HAProxy to "
        f"{per_replica}; "
        f"login {LOGIN_LIMIT + 1}: {over.status_code}; with a forged X-Forwarded-For: "
        f"{forged.status_code}"
    )
    problems = []
    if statuses != [200] * LOGIN_LIMIT:
        problems.append(f"the address's own budget was not whole (the proxy's?): {seen}")
    if sum(1 for n in per_replica.values() if n) < 2:
        problems.append(f"the logins did not reach several replicas: {seen}")
    if over.status_code != 429 or "Retry-After" not in over.headers:
        problems.append(f"the login limit did not hold across replicas: {seen}")
    if forged.status_code != 429:
        problems.append(f"a forged X-Forwarded-For bought a fresh budget: {seen}")
    return seen, problems


def check_guess_limit(proxy: Proxy) -> tuple[str, list[str]]:
    """GUESS_LIMIT wrong passwords for one account, then the right one: refused (429)."""
    with _client(proxy.url, GUESS_ADDRESS) as client:
        form = _register(client, "guess")
        wrong = {**form, "password": "not-the-password"}
        statuses = [client.post("/auth/token", data=wrong).status_code for _ in range(GUESS_LIMIT)]
        right = client.post("/auth/token", data=form).status_code
    seen = f"{GUESS_LIMIT} wrong passwords: {dict(Counter(statuses))}; then the right one: {right}"
    problems = [] if right == 429 else [f"the guess limit did not hold across replicas: {seen}"]
    return seen, problems


# --- 2. the load, and a replica killed under it ----------------------------------------------


def _seed(database_url: str, proxy: Proxy, work_dir: Path, timing: ReplicaTiming) -> Path:
    """Seeded accounts, and a token pair per simulated user, logged in from SEED_ADDRESS."""
    users = seed.seed_users(services.plain_postgres_url(database_url), count=timing.seeded_users)
    tokens = []
    with _client(proxy.url, SEED_ADDRESS) as client:
        for user in users[: timing.users + 2]:
            answer = client.post(
                "/auth/token", data={"username": user.email, "password": seed.SEED_PASSWORD}
            )
            assert answer.status_code == 200, f"seeding {user.email}: {answer.text}"
            body = answer.json()
            tokens.append(
                seed.TokenPair(user.id, user.email, body["access_token"], body["refresh_token"])
            )
    return seed.write_seed_file(work_dir / "seed.json", users=users, tokens=tokens, has_auth=True)


def _locust(
    proxy: Proxy, seed_file: Path, journal: Path, work_dir: Path, users: int
) -> subprocess.Popen[bytes]:
    command = [
        *(sys.executable, "-m", "locust", "-f", str(JOURNEY), "ReplicaJourneyUser"),
        *("--headless", "--host", proxy.url, "--users", str(users)),
        *("--spawn-rate", str(users), "--stop-timeout", "5", "--only-summary"),
        *("--loglevel", "WARNING"),
    ]
    environment = {
        **os.environ,
        SEED_FILE_ENV: str(seed_file),
        GENERATOR_PROCESSES_ENV: "1",
        "REPLICA_JOURNAL": str(journal),
    }
    log = (work_dir / "locust.log").open("ab")
    return subprocess.Popen(
        command, cwd=REPO_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
    )


class RequestRow(NamedTuple):
    """One request Locust made (a JSON array in the journal)."""

    started: float  # epoch seconds
    method: str
    name: str
    milliseconds: float
    status: int  # 0: no answer
    failed: bool


class Registered(TypedDict):
    id: str
    email: str


class RenameEvent(TypedDict):
    email: str  # the journey's user, who has an email before any request
    at: float
    answer: int  # the status (0: no answer)
    value: str | None  # the name the service answered, for a 200


class ReplicaJournal(TypedDict):
    requests: list[RequestRow]
    registered: list[Registered]
    renames: list[RenameEvent]


def read_journal(path: Path) -> ReplicaJournal:
    """What replica_journey.py wrote, one JSON line per event: {"requests": [row, ...],
    "registered": [{id, email}, ...], "renames": [{email, at, answer, value}, ...]}."""
    journal: ReplicaJournal = {"requests": [], "registered": [], "renames": []}
    for line in path.read_text().splitlines():
        event = json.loads(line)
        kind = event.pop("kind")
        if kind == "request":
            journal["requests"].append(RequestRow(*event["row"]))
        elif kind == "registered":
            journal["registered"].append(event)
        else:
            journal["renames"].append(event)
    return journal


def _wait_for_load(proxy: Proxy, requests: int, timeout: float = 60) -> None:
    """Until the proxy has passed on `requests` more requests: Locust is up and sending."""

    def sent() -> int:
        return int(proxy.backend_row()["stot"])

    start, deadline = sent(), time.monotonic() + timeout
    while sent() - start < requests:
        if time.monotonic() > deadline:
            raise RuntimeError("Locust sent nothing through the proxy: see locust.log")
        time.sleep(0.2)


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(share) - 1], 1)


def _phase(name: str, requests: list[RequestRow], start: float, end: float) -> Phase:
    inside = [r for r in requests if start <= r[0] < end]
    failed = [r for r in inside if r[5]]
    times = [r[3] for r in inside]
    return Phase(
        name=name,
        seconds=round(end - start, 1),
        requests=len(inside),
        failed=len(failed),
        failed_reads=sum(1 for r in failed if r[1] in {"GET", "HEAD"}),
        by_status=dict(Counter(f"{r[4] or 'no answer'} {r[1]} {r[2]}" for r in failed)),
        p50_ms=_percentile(times, 50),
        p99_ms=_percentile(times, 99),
    )


# --- 3. the audit ----------------------------------------------------------------------------


def _audit(database_url: str, journal: ReplicaJournal) -> tuple[list[str], list[str]]:
    """(registrations acknowledged but missing, users whose acknowledged rename was lost)."""
    rows = fetch(database_url, "SELECT id::text AS id, lower(email) AS email, full_name FROM users")
    by_id = {row["id"]: row for row in rows}
    by_email = {row["email"]: row for row in rows}
    lost = [
        r["email"]
        for r in journal["registered"]
        if r["id"] not in by_id or by_id[r["id"]]["email"] != r["email"].lower()
    ]
    renames: dict[str, list[RenameEvent]] = {}
    for rename in sorted(journal["renames"], key=lambda r: r["at"]):
        renames.setdefault(rename["email"], []).append(rename)
    lost_renames = []
    for email, attempts in renames.items():
        acknowledged = [i for i, r in enumerate(attempts) if r["answer"] == 200]
        if not acknowledged:
            continue
        last = acknowledged[-1]
        name = by_email[email.lower()]["full_name"]
        # A later rename whose answer never came may have been applied: its name is newer.
        unknown_later = any(r["answer"] not in {200} for r in attempts[last + 1 :])
        if name != attempts[last]["value"] and not (unknown_later and _newer(name, attempts)):
            lost_renames.append(f"{email}: {name!r}, acknowledged {attempts[last]['value']!r}")
    return lost, lost_renames


def _newer(name: str, attempts: list[RenameEvent]) -> bool:
    """The journey numbers its names in order ("Journey User 17"): is `name` a later one?"""
    # A 200 answers the name it set (the journey never sends a null one).
    acknowledged = [r["value"] for r in attempts if r["answer"] == 200 and r["value"] is not None]
    number = name.rsplit(" ", 1)[-1]
    return number.isdigit() and all(int(number) > int(v.rsplit(" ", 1)[-1]) for v in acknowledged)


# --- the drill -------------------------------------------------------------------------------


def run_replica_drill(
    postgres_url: str, redis_url: str, key_prefix: str, work_dir: Path, timing: ReplicaTiming
) -> ReplicaReport:
    with replica_stack(postgres_url, redis_url, key_prefix, work_dir) as stack:
        database_url, servers, proxy = stack
        checks: dict[str, str] = {}
        problems: list[str] = []
        cross_checks: tuple[tuple[str, Callable[[], tuple[str, list[str]]]], ...] = (
            ("logout", lambda: check_logout(proxy, servers)),
            ("login limit", lambda: check_login_limit(proxy)),
            ("guess limit", lambda: check_guess_limit(proxy)),
        )
        for name, check in cross_checks:
            checks[name], found = check()
            problems += found
        seed_file = _seed(database_url, proxy, work_dir, timing)
        journal_path = work_dir / "journal.json"
        locust = _locust(proxy, seed_file, journal_path, work_dir, timing.users)
        try:
            _wait_for_load(proxy, requests=20)
            started = time.time()
            time.sleep(timing.warmup_seconds)
            killed_at = time.time()
            victim = servers[KILLED]
            pid = victim.pid
            victim.kill()
            time.sleep(timing.down_seconds)
            victim.start()  # returns once /health/ready answers
            back_at = time.time()
            served_at_return = int(proxy.server_rows()[victim.name]["stot"])
            time.sleep(timing.recovery_seconds)
            rows = proxy.server_rows()
        finally:
            locust.send_signal(signal.SIGTERM)
            try:
                locust.wait(timeout=60)
            except subprocess.TimeoutExpired:
                locust.kill()
        ended = time.time()
        backend = proxy.backend_row()
        journal = read_journal(journal_path)
        rows_lost, renames_lost = _audit(database_url, journal)
    settled = back_at + GRACE_SECONDS
    requests = journal["requests"]
    phases = [
        _phase("before the kill", requests, started, killed_at),
        _phase("replica down, until back and settled", requests, killed_at, settled),
        _phase("after", requests, settled, ended + 1),
    ]
    report = ReplicaReport(
        users=timing.users,
        seconds=round(ended - started, 1),
        requests=len(requests),
        phases=phases,
        killed=f"{victim.name} (pid {pid}) SIGKILLed, restarted {timing.down_seconds:g} s later",
        restart_seconds=round(back_at - killed_at, 1),
        served_by_replica={name: int(row["stot"]) for name, row in rows.items()},
        served_by_killed_after_return=int(rows[victim.name]["stot"]) - served_at_return,
        retries=int(backend["wretr"] or 0),
        redispatches=int(backend["wredis"] or 0),
        checks=checks,
        registrations_acknowledged=len(journal["registered"]),
        renames_acknowledged=sum(1 for r in journal["renames"] if r["answer"] == 200),
        rows_lost=rows_lost,
        renames_lost=renames_lost,
        problems=problems,
    )
    report.problems += _judge(report)
    return report


def _judge(report: ReplicaReport) -> list[str]:
    before, during, after = report.phases
    problems = []
    if report.requests == 0 or not during.requests:
        problems.append("no request was sent while the replica was down")
    if before.failed or after.failed:
        problems.append(
            f"requests failed with every replica up: before {before.by_status}, "
            f"after {after.by_status}"
        )
    if during.failed_reads:
        problems.append(f"reads failed while a replica was down: {during.by_status}")
    if report.served_by_killed_after_return == 0:
        problems.append("the replica that came back was never sent a request")
    if report.rows_lost:
        problems.append(f"{len(report.rows_lost)} acknowledged registrations lost")
    if report.renames_lost:
        problems.append(f"{len(report.renames_lost)} acknowledged renames lost")
    return problems


def report_dict(report: ReplicaReport) -> dict[str, Any]:
    return asdict(report)
