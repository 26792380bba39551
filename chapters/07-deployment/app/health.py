"""Health probes: liveness (the process answers) and readiness (its dependencies do)."""

from fastapi import APIRouter

router = APIRouter(prefix="/health", tags=["operations"])


@router.get("/live", summary="Liveness: the process is up")
async def live() -> dict[str, str]:
    """Answers while the event loop runs; checks nothing else, so a restart cannot fix it."""
    return {"status": "ok"}


# TODO(deployment.readiness): add GET /health/ready, the question a load balancer asks
# before it sends this instance traffic: can every request be served right now? Every request
# needs PostgreSQL and Redis, so readiness asks both (the app's `Resources` hold the engine,
# the Redis client and the settings). A probe that hangs is worse than one that fails: the
# orchestrator gives up on it and learns nothing, so neither check may outlast
# settings.health_check_timeout_seconds, and any error at all counts as "down". The two
# checks must not wait for each other, or a hung PostgreSQL also delays the answer about
# Redis. Healthy: 200 with each check's state. Not: a 503 problem (app/problems.py) with the
# code "not_ready", a detail naming what is down, and the same per-check states, so whoever
# is on call knows where to look. The body shapes are in the chapter's README.
