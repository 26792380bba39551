"""Prometheus metrics and the /metrics route.

The numbers are this process's own: with several workers, a scrape sees the worker that
answered it (final/ adds prometheus_client's multiprocess mode to add them all up).
"""

import time

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Receive, Scope, Send

REQUEST_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer a request, by route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
CACHE_LOOKUPS = Counter(
    "cache_lookups_total", "Cache lookups by result: hit or miss.", ["cache", "result"]
)
DB_POOL_CONNECTIONS_IN_USE = Gauge(
    "db_pool_connections_in_use", "PostgreSQL connections checked out of the pool right now."
)

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
async def read_metrics() -> Response:
    """The Prometheus text format, for a scraper."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def route_template(scope: Scope) -> str:
    """`/users/{user_id}`, not `/users/4f0c...`: one series per route, not one per user."""
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class MetricsMiddleware:
    """Times every request, labelled by its method and route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            # The router has matched by now, so the scope names the route template.
            REQUEST_DURATION.labels(scope["method"], route_template(scope)).observe(
                time.perf_counter() - started
            )


def track_pool_usage(engine: AsyncEngine) -> None:
    """Keep DB_POOL_CONNECTIONS_IN_USE up to date from the pool's own events."""
    pool = engine.sync_engine.pool
    event.listen(pool, "checkout", lambda *_: DB_POOL_CONNECTIONS_IN_USE.inc())
    event.listen(pool, "checkin", lambda *_: DB_POOL_CONNECTIONS_IN_USE.dec())
