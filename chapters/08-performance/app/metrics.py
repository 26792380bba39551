"""Prometheus metrics and the /metrics route.

The numbers are this process's own: with several workers, a scrape sees the worker that
answered it (final/ adds prometheus_client's multiprocess mode to add them all up).
"""

from fastapi import APIRouter
from prometheus_client import Counter, Gauge, Histogram
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

# TODO(performance.metrics): serve GET /metrics on this router: every metric above in the
# Prometheus text format (prometheus_client's generate_latest, media type CONTENT_TYPE_LATEST).


def route_template(scope: Scope) -> str:
    """`/users/{user_id}`, not `/users/4f0c...`: one series per route, not one per user."""
    # TODO(performance.metrics): the raw path makes one time series per user id. Return the
    # matched route's path template instead, or "unmatched" when no route matched.
    return scope["path"]


class MetricsMiddleware:
    """Times every request, labelled by its method and route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # TODO(performance.metrics): time each HTTP request and observe the seconds in
        # REQUEST_DURATION, labelled by its method and route_template(scope).
        await self.app(scope, receive, send)


def track_pool_usage(engine: AsyncEngine) -> None:
    """Keep DB_POOL_CONNECTIONS_IN_USE up to date from the pool's own events."""
    # TODO(performance.resource_metrics): move the gauge up when the pool hands out a
    # connection and down when it gets one back (engine.sync_engine.pool has the events).
