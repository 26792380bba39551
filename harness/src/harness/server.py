"""The one way the harness (and the finished service's tests) start the service: uvicorn in a
process of its own, from its code tree, on a free port, and stopped as an orchestrator would.

Every server runs `uvicorn APP --factory` with the flags its caller names (the benchmarks
serve with the image's, `serving.SERVING_FLAGS`), its settings in an environment cleaned of
the caller's stray service settings, and its output in a log file. `start()` returns once the
readiness route answers 200; the port stays the same across a stop and a start, so clients
reconnect to a restarted server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from harness.serving import SERVING_FLAGS
from localservices import free_port

READY_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 20
READY_POLL_SECONDS = 0.1

# The settings the service reads from its environment (final/app/config.py's fields, and what
# uvicorn and prometheus-client read): never inherited from the caller's shell, only set on
# purpose. tests in harness/tests keep this list a superset of the service's settings.
SERVICE_SETTING_NAMES = frozenset(
    {
        "ACCESS_TOKEN_TTL_SECONDS",
        "ACCOUNT_LOGIN_FAILURE_LIMIT",
        "ACCOUNT_LOGIN_FAILURE_WINDOW_SECONDS",
        "ALLOWED_HOSTS",
        "API_DOCS_ENABLED",
        "APP_NAME",
        "CACHE_ENABLED",
        "CORS_ALLOW_CREDENTIALS",
        "CORS_ORIGINS",
        "DATABASE_CONNECT_TIMEOUT_SECONDS",
        "DATABASE_MAX_OVERFLOW",
        "DATABASE_POOL_RECYCLE_SECONDS",
        "DATABASE_POOL_SIZE",
        "DATABASE_POOL_TIMEOUT_SECONDS",
        "DATABASE_READ_POOL_SIZE",
        "DATABASE_URL",
        "ENVIRONMENT",
        "HEALTH_CHECK_TIMEOUT_SECONDS",
        "LOGIN_RATE_LIMIT",
        "LOGIN_RATE_LIMIT_WINDOW_SECONDS",
        "LOG_LEVEL",
        "LOG_SQL_QUERIES",
        "MAX_REQUEST_BODY_BYTES",
        "MAX_REQUEST_HEADER_BYTES",
        "METRICS_TOKEN",
        "PASSWORD_HASH_MEMORY_COST_KIB",
        "PASSWORD_HASH_PARALLELISM",
        "PASSWORD_HASH_TIME_COST",
        "PASSWORD_HASH_WORKERS",
        "RATE_LIMIT_ENABLED",
        "REDIS_KEY_PREFIX",
        "REDIS_MAX_CONNECTIONS",
        "REDIS_SOCKET_TIMEOUT_SECONDS",
        "REDIS_URL",
        "REFRESH_RATE_LIMIT",
        "REFRESH_RATE_LIMIT_WINDOW_SECONDS",
        "REFRESH_TOKEN_TTL_SECONDS",
        "REGISTRATION_RATE_LIMIT",
        "REGISTRATION_RATE_LIMIT_WINDOW_SECONDS",
        "SECRET_KEY",
        "SLOW_QUERY_THRESHOLD_MS",
        "USER_CACHE_TTL_JITTER_SECONDS",
        "USER_CACHE_TTL_SECONDS",
        "WRITE_RATE_LIMIT",
        "WRITE_RATE_LIMIT_WINDOW_SECONDS",
        # Read by uvicorn and prometheus-client rather than the settings class.
        "WEB_CONCURRENCY",
        "FORWARDED_ALLOW_IPS",
        "PROMETHEUS_MULTIPROC_DIR",
    }
)


class ServerError(RuntimeError):
    """The server did not start or become ready; the message ends with its log's tail."""


def clean_environment(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment without stray service settings, plus `settings`."""
    env = {key: value for key, value in os.environ.items() if key not in SERVICE_SETTING_NAMES}
    env.update(settings)
    return env


def log_tail(path: Path, lines: int = 25) -> str:
    if not path.is_file():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class UvicornServer:
    """One uvicorn server of a code tree (one process, or a supervisor and its workers)."""

    name: str
    directory: Path  # the code tree: uvicorn's working directory, where `app` comes from
    settings: dict[str, str]
    log_path: Path
    app: str = "app.main:create_app"
    workers: int = 1
    flags: tuple[str, ...] = SERVING_FLAGS
    ready_path: str = "/health/ready"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was never started"
        return self.process.pid

    def command(self) -> list[str]:
        return [
            *(sys.executable, "-m", "uvicorn", self.app, "--factory"),
            *("--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers)),
            *self.flags,
        ]

    def start(self) -> UvicornServer:
        """Start uvicorn and return once the readiness route answers 200."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=self.directory,
                env=clean_environment(self.settings),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as one, never ours
            )
        try:
            self._wait_until_ready(self.process)
        except BaseException:
            self.kill()
            raise
        return self

    def _wait_until_ready(self, process: subprocess.Popen[bytes]) -> None:
        url = self.url + self.ready_path
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        last_answer = "no answer"
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServerError(
                    f"{self.name} exited with status {process.returncode} before it was "
                    f"ready:\n{log_tail(self.log_path)}"
                )
            try:
                response = httpx.get(url, timeout=2)
                if response.status_code == 200:
                    return
                last_answer = f"{response.status_code} {response.text[:200]}"
            except httpx.TransportError as error:
                last_answer = type(error).__name__
            time.sleep(READY_POLL_SECONDS)
        raise ServerError(
            f"{self.name} was not ready after {READY_TIMEOUT_SECONDS} s "
            f"(GET {self.ready_path}: {last_answer}):\n{log_tail(self.log_path)}"
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> int | None:
        """SIGTERM, as an orchestrator sends it (requests in flight finish); SIGKILL if it
        hangs. Returns the exit status (None if it never ran)."""
        if self.process is None:
            return None
        if self.running:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL for the whole process group: a crash, nothing runs its shutdown."""
        if self.process is not None and self.running:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def processes(self) -> list[psutil.Process]:
        """The processes that serve requests: the workers, or the one process."""
        if not self.running:
            return []
        main = psutil.Process(self.pid)
        return main.children() if self.workers > 1 else [main]

    def rss_bytes(self) -> int:
        total = 0
        for process in self.processes():
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total
