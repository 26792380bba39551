"""Health probes for whatever runs the service (Docker, Kubernetes, a load balancer)."""

from fastapi import APIRouter

router = APIRouter(prefix="/health", tags=["health"])

# TODO(config.health): answer GET /health/live with 200 and {"status": "ok"}.
