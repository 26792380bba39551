"""Start the service under uvicorn, wait until it is ready, and stop it.

Every server is started the way production starts it (`uvicorn app.main:create_app
--factory --workers N` with the image's flags from `serving.py`, the service's JSON access
log on), from its own code tree, with its settings in the environment.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.plan import Server
from benchmarks.serving import SERVING_FLAGS

READY_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 20

# The service's settings that a caller's shell may hold: never inherited, always set here.
_SETTING_NAMES = (
    "DATABASE_URL",
    "REDIS_URL",
    "REDIS_KEY_PREFIX",
    "CACHE_ENABLED",
    "RATE_LIMIT_ENABLED",
    "SECRET_KEY",
    "ENVIRONMENT",
    "PROMETHEUS_MULTIPROC_DIR",
)


class ServerError(RuntimeError):
    """The server did not start or become ready; the message ends with its log's tail."""


def server_environment(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment without stray service settings, plus `settings`."""
    env = {key: value for key, value in os.environ.items() if key not in _SETTING_NAMES}
    env.update(settings)
    return env


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = 20) -> str:
    if not path.is_file():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class RunningServer:
    server: Server
    process: subprocess.Popen
    base_url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        """SIGTERM, as an orchestrator sends it; SIGKILL for its process group if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_server(server: Server, *, settings: dict[str, str], log_path: Path) -> RunningServer:
    """Start uvicorn for `server` and return once its readiness route answers 200."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        server.tree.app,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(server.workers),
        *SERVING_FLAGS,
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=server.tree.directory,
            env=server_environment(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one, never ours
        )
    running = RunningServer(server, process, f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_until_ready(running)
    except BaseException:
        running.stop()
        raise
    return running


def _wait_until_ready(running: RunningServer) -> None:
    url = running.base_url + running.server.tree.ready_path
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    last_answer = "no answer"
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise ServerError(
                f"{running.server.label} exited with status {running.process.returncode} "
                f"before it was ready:\n{log_tail(running.log_path)}"
            )
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return
            last_answer = f"{response.status_code} {response.text[:200]}"
        except httpx.TransportError as error:
            last_answer = type(error).__name__
        time.sleep(0.2)
    raise ServerError(
        f"{running.server.label} was not ready after {READY_TIMEOUT_SECONDS} s "
        f"(GET {running.server.tree.ready_path}: {last_answer}):\n{log_tail(running.log_path)}"
    )
