"""Health probes: liveness (the process answers) and readiness (its dependencies do)."""

import asyncio
from collections.abc import Awaitable

from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.dependencies import ResourcesDep
from app.problems import ProblemResponse, problem, problem_responses

router = APIRouter(prefix="/health", tags=["operations"])


@router.get("/live", summary="Liveness: the process is up")
async def live() -> dict[str, str]:
    """Answers while the event loop runs; checks nothing else, so a restart cannot fix it."""
    return {"status": "ok"}


async def _check(probe: Awaitable[object], seconds: float) -> str:
    try:
        async with asyncio.timeout(seconds):
            await probe
    except Exception:  # refused, timed out, auth failed: for readiness all mean "down"
        return "down"
    return "ok"


async def _ping_postgres(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


@router.get(
    "/ready",
    summary="Readiness: PostgreSQL and Redis answer",
    response_model=None,
    responses=problem_responses(503),
)
async def ready(
    request: Request, resources: ResourcesDep
) -> dict[str, str | dict[str, str]] | ProblemResponse:
    """503 naming what is down, so a load balancer stops sending traffic here meanwhile."""
    timeout = resources.settings.health_check_timeout_seconds
    # Both at once: a hanging PostgreSQL must not delay the answer about Redis.
    postgres, redis = await asyncio.gather(
        _check(_ping_postgres(resources.engine), timeout),
        _check(resources.redis.ping(), timeout),
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
