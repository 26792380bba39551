"""Health probes for whatever runs the service (Docker, Kubernetes, a load balancer)."""

from fastapi import APIRouter

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
async def live() -> dict[str, str]:
    """Liveness: the process is up and serving. It checks nothing else, on purpose."""
    return {"status": "ok"}
