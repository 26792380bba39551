"""Health probes for whatever runs the service (Docker, Kubernetes, a load balancer)."""

from fastapi import APIRouter

router = APIRouter(prefix="/health", tags=["operations"])


@router.get("/live", summary="Liveness: the process is up")
async def live() -> dict[str, str]:
    """Answers while the event loop runs; checks nothing else, so a restart cannot fix it."""
    return {"status": "ok"}
