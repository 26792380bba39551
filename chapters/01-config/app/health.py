"""Health probes for whatever runs the service (Docker, Kubernetes, a load balancer)."""

from fastapi import APIRouter

router = APIRouter(prefix="/health", tags=["operations"])

# TODO(config.health): answer the liveness probe, GET /health/live, with 200 and the JSON
# {"status": "ok"}. An orchestrator restarts a process whose liveness probe stops answering,
# so the probe must only say that this process serves requests: checking the database or
# Redis here would restart every copy of the service when one of them is down, which cures
# nothing.
