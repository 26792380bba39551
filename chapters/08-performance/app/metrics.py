"""Prometheus metrics of HTTP and the database pool, correct with several worker processes,
and the /metrics route. (The cache and the rate limiter count in their own modules.)

With `PROMETHEUS_MULTIPROC_DIR` set (the Docker image sets it), every worker writes its
numbers to files there and /metrics adds them up, whichever worker answers the scrape.
"""

import os
import secrets
from typing import Annotated

from fastapi import APIRouter, Header, Response
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
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Receive, Scope, Send

from app.dependencies import SettingsDep
from app.exceptions import NotFound, Unauthorized

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
DB_POOL_CONNECTIONS_IN_USE = Gauge(
    "db_pool_connections_in_use",
    "PostgreSQL connections checked out of the pool right now.",
    multiprocess_mode="livesum",
)

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
def read_metrics(
    settings: SettingsDep, authorization: Annotated[str | None, Header()] = None
) -> Response:
    """The Prometheus text format (a plain `def`: reading the worker files is blocking I/O).

    With METRICS_TOKEN set, a scraper must send it as a bearer token; without it, production
    does not serve metrics at all (they tell an attacker what runs and how busy it is).
    """
    if settings.metrics_token is None:
        if settings.is_production:
            raise NotFound("Not Found")
    elif not secrets.compare_digest(
        (authorization or "").encode(),
        f"Bearer {settings.metrics_token.get_secret_value()}".encode(),
    ):
        raise Unauthorized("/metrics needs the METRICS_TOKEN as a bearer token.")
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
        # TODO(performance.metrics): measure every HTTP request the service answers. Observe
        # how long the app took to answer it in REQUEST_DURATION, and count its answer in
        # RESPONSES, labelled by method, route and (RESPONSES only) status code. Constraints:
        # - the seconds measured are the app's whole work on the request;
        # - a request whose route raised is measured too: its client got a 500;
        # - every label takes few values, whatever clients send (each new value of a label is
        #   a new series that /metrics serves and Prometheus stores from then on);
        # - only HTTP requests: the server's lifespan events pass through here too.
        await self.app(scope, receive, send)


def track_pool_usage(engine: AsyncEngine) -> None:
    """Keep DB_POOL_CONNECTIONS_IN_USE up to date from the pool's own events."""
    # TODO(performance.resource_metrics): make the gauge say, at any moment, how many
    # connections of this engine's pool are in use. The lifespan calls this once per pool
    # (the sessions' and the user cache's reads), and several worker processes add their
    # gauges up (livesum): so move the gauge as connections go out and come back, rather
    # than asking one pool for its size at scrape time.


def forget_this_process() -> None:
    """At shutdown: drop this worker's live gauges from the multiprocess sums."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        multiprocess.mark_process_dead(os.getpid())
