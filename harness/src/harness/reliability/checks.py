"""What the suite asks PostgreSQL, Redis and the servers about themselves.

Only the service's own connections are ever touched: they carry its `application_name`
(settings `APP_NAME`), unique to one drill, in the suite's own database.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

import localservices as services
from harness.reliability.stack import METRICS_TOKEN, OwnRedis


async def _fetch(database_url: str, query: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(services.plain_postgres_url(database_url), timeout=10)
    try:
        rows: list[asyncpg.Record] = await connection.fetch(query, *args)  # asyncpg: untyped
        return rows
    finally:
        await connection.close()


def fetch(database_url: str, query: str, *args: object) -> list[asyncpg.Record]:
    return asyncio.run(_fetch(database_url, query, *args))


def terminate_backends(database_url: str, app_name: str) -> int:
    """Kill the service's PostgreSQL connections from the server side, as a failover or an
    administrator does; returns how many were terminated."""
    rows = fetch(
        database_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = $1 AND datname = current_database() AND pid <> pg_backend_pid()",
        app_name,
    )
    return sum(1 for row in rows if row[0])


def backend_states(database_url: str, app_name: str) -> Counter[str]:
    """The service's PostgreSQL connections by state (`idle`, `active`, ...)."""
    rows = fetch(
        database_url,
        "SELECT state FROM pg_stat_activity "
        "WHERE application_name = $1 AND datname = current_database()",
        app_name,
    )
    return Counter(row["state"] or "unknown" for row in rows)


def metric_total(server_url: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples on a server (multiprocess sums included)."""
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    text = httpx.get(f"{server_url}/metrics", headers=headers, timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


@dataclass(frozen=True)
class Idle:
    """The connections left once the load has stopped: nothing may still be checked out."""

    pool_in_use: float  # db_pool_connections_in_use, summed over the servers
    postgres: dict[str, int]  # the service's backends by state
    redis_clients: int  # connections to the suite's Redis
    redis_limit: int  # what the servers may hold at most

    @property
    def problems(self) -> list[str]:
        found = []
        if self.pool_in_use != 0:
            found.append(f"{self.pool_in_use:g} pool connections still checked out")
        busy = {state: n for state, n in self.postgres.items() if state != "idle"}
        if busy:
            found.append(f"PostgreSQL backends not idle: {busy}")
        if self.redis_clients > self.redis_limit:
            found.append(f"{self.redis_clients} Redis connections, more than {self.redis_limit}")
        return found


def idle_state(
    *, server_urls: list[str], database_url: str, app_name: str, redis: OwnRedis, redis_limit: int
) -> Idle:
    return Idle(
        pool_in_use=sum(metric_total(url, "db_pool_connections_in_use") for url in server_urls),
        postgres=dict(backend_states(database_url, app_name)),
        redis_clients=len(redis.clients()),
        redis_limit=redis_limit,
    )
