"""The app as real server processes: uvicorn on free ports, sharing one PostgreSQL, one Redis
and one PROMETHEUS_MULTIPROC_DIR, as the image's workers do. The fixtures that use these
(`server_environment`, `two_servers`) are in conftest.py."""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from final_helpers import MetricSamples, parse_metrics

FINAL_DIR = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited:\n{log.read_text()[-3000:]}"
        try:
            if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} was not ready after {STARTUP_SECONDS} s:\n{log.read_text()}")


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen
    log: Path


@contextmanager
def running_servers(environment: dict, log_dir: Path, count: int) -> Iterator[list[Server]]:
    """`count` uvicorn processes of the app on free ports, once all are ready."""
    servers = []
    try:
        for number in range(count):
            port = free_port()
            log = log_dir / f"server-{number}.log"
            command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
            command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
            with log.open("w") as output:
                process = subprocess.Popen(
                    command, cwd=FINAL_DIR, env=environment, stdout=output, stderr=output
                )
            servers.append(Server(f"http://127.0.0.1:{port}", process, log))
        for server in servers:
            wait_until_ready(server.url, server.process, server.log)
        yield servers
    finally:
        for server in servers:
            server.process.terminate()
        for server in servers:
            try:
                server.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.process.kill()


def scrape(url: str) -> MetricSamples:
    """The samples a server's /metrics reports."""
    response = httpx.get(f"{url}/metrics")
    assert response.status_code == 200, response.text
    return parse_metrics(response.text)
