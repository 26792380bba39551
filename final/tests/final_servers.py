"""The app as real server processes: uvicorn on free ports, sharing one PostgreSQL, one Redis
and one PROMETHEUS_MULTIPROC_DIR, as the image's workers do. The fixtures that use these
(`server_environment`, `two_servers`) are in conftest.py."""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from final_helpers import MetricSamples, parse_metrics

from harness.server import READY_TIMEOUT_SECONDS, UvicornServer

FINAL_DIR = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = READY_TIMEOUT_SECONDS


@contextmanager
def running_servers(environment: dict, log_dir: Path, count: int) -> Iterator[list[UvicornServer]]:
    """`count` uvicorn processes of the app on free ports, once all are ready."""
    with ExitStack() as stack:
        servers = []
        for number in range(count):
            server = UvicornServer(
                name=f"server {number}",
                directory=FINAL_DIR,
                settings=environment,
                log_path=log_dir / f"server-{number}.log",
                flags=("--no-access-log",),
            )
            stack.callback(server.stop)
            servers.append(server.start())
        yield servers


def scrape(url: str) -> MetricSamples:
    """The samples a server's /metrics reports."""
    response = httpx.get(f"{url}/metrics")
    assert response.status_code == 200, response.text
    return parse_metrics(response.text)
