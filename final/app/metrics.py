"""Prometheus metrics, correct with several worker processes, and the /metrics route.

With `PROMETHEUS_MULTIPROC_DIR` set (the Docker image sets it), every worker writes its
numbers to files there and /metrics adds them up, whichever worker answers the scrape.
"""

import os
import time

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.middleware import route_template

REQUEST_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer a request, by route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
RESPONSES = Counter(
    "http_responses_total",
    "Responses sent, by route template and status.",
    ["method", "route", "status"],
)
CACHE_LOOKUPS = Counter(
    "cache_lookups_total", "Cache lookups by result: hit, miss or error.", ["cache", "result"]
)
RATE_LIMIT_REJECTIONS = Counter(
    "rate_limit_rejections_total", "Requests refused with 429, by limit.", ["limit"]
)
DB_POOL_CONNECTIONS_IN_USE = Gauge(
    "db_pool_connections_in_use",
    "PostgreSQL connections checked out of the pool right now.",
    multiprocess_mode="livesum",
)

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
def read_metrics() -> Response:
    """The Prometheus text format (a plain `def`: reading the worker files is blocking I/O)."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Times every request and counts its response, labelled by route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            method, route = scope["method"], route_template(scope)
            REQUEST_DURATION.labels(method, route).observe(time.perf_counter() - started)
            RESPONSES.labels(method, route, str(status)).inc()


def track_pool_usage(engine: AsyncEngine) -> None:
    """Keep DB_POOL_CONNECTIONS_IN_USE up to date from the pool's own events."""
    pool = engine.sync_engine.pool
    event.listen(pool, "checkout", lambda *_: DB_POOL_CONNECTIONS_IN_USE.inc())
    event.listen(pool, "checkin", lambda *_: DB_POOL_CONNECTIONS_IN_USE.dec())


def forget_this_process() -> None:
    """At shutdown: drop this worker's live gauges from the multiprocess sums."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        multiprocess.mark_process_dead(os.getpid())
