"""Health probes for whatever runs the service (Docker, Kubernetes, a load balancer)."""

from fastapi import APIRouter

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
async def live() -> dict[str, str]:
    """Liveness: the process is up and serving. It checks nothing else, on purpose."""
    return {"status": "ok"}


# TODO(deployment.readiness): add GET /health/ready. Check PostgreSQL (SELECT 1 on a
# connection from request.app.state.engine) and Redis (request.app.state.redis.ping()) at
# once, each within settings.health_check_timeout_seconds. Answer 200 {"status": "ok",
# "checks": {"postgres": "ok", "redis": "ok"}}, or a 503 problem (app/problems.py) with code
# "not_ready", a detail naming what is down, and the same `checks` ("down" for each failure).
