"""How uvicorn serves every benchmarked app: the flags of the image's CMD (final/Dockerfile).

The one place the runner takes them from, for the service and the bare ceiling alike, so the
ceiling is a trivial endpoint served exactly as the service ships. A test reads the
Dockerfile and fails when the two differ. Only the flags that say where to listen (host,
port, workers) are the runner's own.
"""

from __future__ import annotations

SERVING_FLAGS = (
    "--proxy-headers",
    # The service writes a richer access line itself; the ceiling, a framework alone, none.
    "--no-access-log",
    "--timeout-graceful-shutdown",
    "20",
    # h11 with a cap on the request line and headers, not httptools: httptools accepts
    # headers of any size. h11 is pure Python, so it is part of every request's cost.
    "--http",
    "h11",
    "--h11-max-incomplete-event-size",
    "16384",
)
