"""HAProxy run in front of servers on this machine, with the shipped configuration
(final/deploy/haproxy/haproxy.cfg) and only its addresses moved: the replica drill and the
scale-out benchmark put it in front of their uvicorn servers."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from harness.paths import FINAL_DIR
from localservices import free_port

HAPROXY_CONFIG = FINAL_DIR / "deploy" / "haproxy" / "haproxy.cfg"
BACKEND = "users_service"  # the backend's name in the configuration
READY_TIMEOUT_SECONDS = 30


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or next(
        (str(p) for p in (Path("/usr/sbin/haproxy"),) if p.exists()), None
    )
    assert found, (
        "HAProxy is not installed: `sudo apt-get install haproxy` (Debian, Ubuntu) or "
        "`brew install haproxy`; .ci/run installs it"
    )
    return found


def local_config(*, listen_port: int, operations_port: int, servers: list[int]) -> str:
    """The shipped configuration, with its addresses moved onto this machine: the frontends
    listen on 127.0.0.1 and the backend's servers are uvicorn processes on `servers` ports.
    Everything else (timeouts, retries, checks, headers) is the file as shipped."""
    text = HAPROXY_CONFIG.read_text()
    replacements = {
        r"^(\s+)bind :8080\b.*$": rf"\1bind 127.0.0.1:{listen_port}",
        r"^(\s+)bind :8404\b.*$": rf"\1bind 127.0.0.1:{operations_port}",
    }
    for pattern, replacement in replacements.items():
        text, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
        assert count == 1, f"{HAPROXY_CONFIG.name} has no single line matching {pattern!r}"
    lines = [f"    server app{n} 127.0.0.1:{port}" for n, port in enumerate(servers, start=1)]
    text, count = re.subn(r"^\s+server-template .*$", "\n".join(lines), text, flags=re.MULTILINE)
    assert count == 1, f"{HAPROXY_CONFIG.name} has no single server-template line"
    return text


@dataclass
class Proxy:
    """HAProxy on free local ports, in front of the given server ports."""

    work_dir: Path
    servers: list[int]
    port: int = field(default_factory=free_port)
    operations_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None, "HAProxy was never started"
        return self.process.pid

    def start(self) -> Proxy:
        config = self.work_dir / "haproxy.cfg"
        config.write_text(
            local_config(
                listen_port=self.port, operations_port=self.operations_port, servers=self.servers
            )
        )
        with (self.work_dir / "haproxy.log").open("ab") as log:
            self.process = subprocess.Popen(
                [haproxy_binary(), "-db", "-f", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not self._ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log_text = (self.work_dir / "haproxy.log").read_text()[-2000:]
                raise RuntimeError(f"HAProxy did not become ready:\n{log_text}")
            time.sleep(0.2)
        return self

    def _ready(self) -> bool:
        """Every server is up in HAProxy's eyes (its readiness checks passed)."""
        try:
            rows = self.stats()
        except httpx.TransportError:
            return False
        servers = [row for row in rows if row["pxname"] == BACKEND and row["svname"] != "BACKEND"]
        return bool(servers) and all(row["status"].startswith("UP") for row in servers)

    def stats(self) -> list[dict[str, str]]:
        """HAProxy's statistics, one row per frontend, backend and server."""
        text = httpx.get(f"http://127.0.0.1:{self.operations_port}/stats;csv", timeout=5).text
        return list(csv.DictReader(io.StringIO(text.lstrip("# "))))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def server_rows(self) -> dict[str, dict[str, str]]:
        """The statistics of each server of the backend, by server name."""
        return {
            row["svname"]: row
            for row in self.stats()
            if row["pxname"] == BACKEND and row["svname"] != "BACKEND"
        }

    def backend_row(self) -> dict[str, str]:
        """The backend's own statistics (its retries and redispatches, its sessions)."""
        return next(
            row for row in self.stats() if row["pxname"] == BACKEND and row["svname"] == "BACKEND"
        )
