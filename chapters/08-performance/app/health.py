"""Health probes: liveness (the process answers) and readiness (its dependencies do)."""

import asyncio
from collections.abc import Awaitable

from fastapi import APIRouter, Request
from sqlalchemy import text

from app.problems import ProblemResponse, problem

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
async def live() -> dict[str, str]:
    """Liveness: the process is up and serving. It checks nothing else, on purpose."""
    return {"status": "ok"}


async def _check(probe: Awaitable[object], seconds: float) -> str:
    try:
        async with asyncio.timeout(seconds):
            await probe
    except Exception:  # refused, timed out, auth failed: for readiness all mean "down"
        return "down"
    return "ok"


async def _ping_postgres(request: Request) -> None:
    async with request.app.state.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


@router.get("/ready", response_model=None)
async def ready(request: Request) -> dict[str, str | dict[str, str]] | ProblemResponse:
    """Readiness: PostgreSQL and Redis answer in time. 503 names what is down, so a load
    balancer stops sending traffic here until it is back."""
    timeout = request.app.state.settings.health_check_timeout_seconds
    # Both at once: a slow PostgreSQL does not delay the answer about Redis.
    postgres, redis = await asyncio.gather(
        _check(_ping_postgres(request), timeout),
        _check(request.app.state.redis.ping(), timeout),
    )
    checks = {"postgres": postgres, "redis": redis}
    down = [name for name, state in checks.items() if state != "ok"]
    if down:
        return problem(
            status=503,
            detail=f"Not ready: {' and '.join(down)} unavailable.",
            code="not_ready",
            instance=request.url.path,
            request_id=getattr(request.state, "request_id", None),
            checks=checks,
        )
    return {"status": "ok", "checks": checks}
