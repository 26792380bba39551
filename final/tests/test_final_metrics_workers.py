"""Metrics with several workers: two server processes share one PROMETHEUS_MULTIPROC_DIR, and
either one, scraped, reports the numbers of both. A worker that reported only its own would
show a fraction of the traffic, and which fraction would depend on the worker Prometheus hit.

test_final_two_processes.py checks one counter this way; here, the latency histogram bucket by
bucket, the cache counters and the pool gauge, whose multiprocess mode is `livesum`: the
connections in use right now in every live worker (in both of its pools), added up.
"""

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import uuid4

import httpx
from final_helpers import MetricSamples, metric_value
from final_servers import scrape
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.users.models import User

WAIT_SECONDS = 60  # for the requests to reach the database lock: a bound, not a speed test


@dataclass(frozen=True)
class Histogram:
    buckets: dict[float, float]  # upper bound `le` -> observations <= le (cumulative)
    count: float
    sum: float


def histogram(samples: MetricSamples, name: str, **labels: str) -> Histogram:
    """The series of histogram `name` with these labels (`le` aside), as one scrape saw it."""
    buckets = {
        float(dict(sample_labels)["le"]): observations
        for (sample_name, sample_labels), observations in samples.items()
        if sample_name == f"{name}_bucket"
        and {key: label for key, label in sample_labels if key != "le"} == labels
    }
    return Histogram(
        buckets=dict(sorted(buckets.items())),
        count=metric_value(samples, f"{name}_count", **labels),
        sum=metric_value(samples, f"{name}_sum", **labels),
    )


def assert_consistent(histogram: Histogram) -> None:
    """What any histogram must satisfy: cumulative buckets ending at +Inf = _count, and a
    _sum that the buckets allow (each observation lies between its bucket's bounds)."""
    bounds, counts = list(histogram.buckets), list(histogram.buckets.values())
    assert len(bounds) > 1, f"finite buckets and +Inf expected: {histogram.buckets}"
    assert bounds[-1] == math.inf, "the last bucket is le=+Inf"
    assert counts[0] >= 0, f"no bucket can count less than nothing: {histogram.buckets}"
    assert counts == sorted(counts), f"buckets must be cumulative: {histogram.buckets}"
    assert counts[-1] == histogram.count, "the +Inf bucket counts every observation (_count)"
    in_bucket = [high - low for low, high in zip([0.0, *counts], counts, strict=False)]
    lowest = sum(n * low for n, low in zip(in_bucket, [0.0, *bounds], strict=False))
    highest = sum(n * high for n, high in zip(in_bucket, bounds, strict=True) if n)
    assert lowest - 1e-9 <= histogram.sum <= highest + 1e-9, (
        f"_sum {histogram.sum} cannot come from these buckets: {histogram.buckets}"
    )


def difference(after: Histogram, before: Histogram) -> Histogram:
    """The observations made between two scrapes: a histogram of its own."""
    return Histogram(
        buckets={le: n - before.buckets.get(le, 0.0) for le, n in after.buckets.items()},
        count=after.count - before.count,
        sum=after.sum - before.sum,
    )


def register(url: str) -> tuple[str, dict[str, str]]:
    """A new account: its id and its login form."""
    account = {"email": f"worker-{uuid4().hex[:10]}@example.com", "password": "password123"}
    registered = httpx.post(f"{url}/users", json=account)
    assert registered.status_code == 201, registered.text
    return registered.json()["id"], {"username": account["email"], "password": account["password"]}


def log_in(url: str, form: dict[str, str]) -> dict[str, str]:
    """The headers of a new access token; its user is now in the cache."""
    login = httpx.post(f"{url}/auth/token", data=form)
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert httpx.get(f"{url}/users/me", headers=headers).status_code == 200
    return headers


def test_either_worker_reports_the_latency_histogram_of_both(two_servers):
    a, b = two_servers
    headers = log_in(a, register(a)[1])
    target, _ = register(a)
    route = {"method": "GET", "route": "/users/{user_id}"}
    name = "http_request_duration_seconds"
    before = histogram(scrape(a), name, **route)

    for url, reads in ((a, 3), (b, 4)):
        for _ in range(reads):
            assert httpx.get(f"{url}/users/{target}", headers=headers).status_code == 200
    on_a, on_b = histogram(scrape(a), name, **route), histogram(scrape(b), name, **route)

    assert on_a == on_b, "both workers report one histogram, bucket by bucket"
    assert_consistent(on_a)
    assert_consistent(difference(on_a, before))
    assert on_a.count - before.count == 3 + 4, "the reads served by A and by B are all counted"


def test_either_worker_reports_the_cache_lookups_of_both(two_servers):
    a, b = two_servers
    headers = log_in(a, register(a)[1])
    target, _ = register(a)
    before = scrape(a)

    # Each read looks up the caller (cached: a hit) and the target (a miss the first time).
    assert httpx.get(f"{a}/users/{target}", headers=headers).status_code == 200
    assert httpx.get(f"{b}/users/{target}", headers=headers).status_code == 200
    assert httpx.get(f"{b}/users/{target}", headers=headers).status_code == 200
    on_a, on_b = scrape(a), scrape(b)

    for result, lookups in {"hit": 3 + 2, "miss": 1}.items():
        labels = {"cache": "user", "result": result}
        reported = [metric_value(on, "cache_lookups_total", **labels) for on in (on_a, on_b)]
        assert reported[0] == reported[1], f"{result}s: both workers report the same number"
        made = reported[0] - metric_value(before, "cache_lookups_total", **labels)
        assert made == lookups, f"{result}s of A and B added up"


async def wait_until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not await condition():
        assert time.monotonic() < deadline, f"{what} after {WAIT_SECONDS} s"
        await asyncio.sleep(0.05)


async def test_either_worker_reports_the_pool_connections_in_use_of_both(two_servers, database_url):
    a, b = two_servers
    headers = log_in(a, register(a)[1])
    uncached, _ = register(a)
    in_use = "db_pool_connections_in_use"
    waiting_for_a_lock = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    engine = create_async_engine(database_url)
    try:
        async with (
            httpx.AsyncClient(timeout=WAIT_SECONDS) as http,
            engine.connect() as locker,
            engine.connect() as watcher,
            asyncio.TaskGroup() as requests,
        ):
            # AUTOCOMMIT: within a transaction, pg_stat_activity stays as it was first read.
            watcher = await watcher.execution_options(isolation_level="AUTOCOMMIT")
            # Until the rollback, each request waits for the table, holding a connection: on A
            # two changes of one's name (the sessions' pool), on B a cache miss (the cache's
            # own pool).
            await locker.execute(text(f"LOCK TABLE {User.__tablename__} IN ACCESS EXCLUSIVE MODE"))
            name = {"full_name": "Waiting"}
            calls = [
                ("PATCH", a, "/users/me", name),
                ("PATCH", a, "/users/me", name),
                ("GET", b, f"/users/{uncached}", None),
            ]
            reads = [
                requests.create_task(
                    http.request(method, f"{url}{path}", json=body, headers=headers)
                )
                for method, url, path, body in calls
            ]

            async def all_reads_wait() -> bool:
                return (await watcher.execute(waiting_for_a_lock)).scalar_one() == len(reads)

            await wait_until(all_reads_wait, "the reads never reached the lock")
            while_held = [metric_value(scrape(url), in_use) for url in (a, b)]
            await locker.rollback()
    finally:
        await engine.dispose()
    statuses = [read.result().status_code for read in reads]

    async def all_returned() -> bool:
        return [metric_value(scrape(url), in_use) for url in (a, b)] == [0, 0]

    assert statuses == [200, 200, 200]
    assert while_held == [3, 3], "A holds 2 connections and B holds 1: either reports 3"
    await wait_until(all_returned, "connections still reported in use")
