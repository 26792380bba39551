"""The load balancer's configuration (final/deploy/haproxy/haproxy.cfg), read and run.

`sections()` reads it into its sections; `local_config()` makes the one the replica test and
the scale-out benchmark run: the same file with only its addresses changed (the listening
ports, and fixed servers on this machine instead of the compose service name); `Proxy` runs it.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

FINAL_DIR = Path(__file__).resolve().parents[1]
HAPROXY_CONFIG = FINAL_DIR / "deploy" / "haproxy" / "haproxy.cfg"
BACKEND = "users_service"


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or next(
        (str(p) for p in (Path("/usr/sbin/haproxy"),) if p.exists()), None
    )
    assert found, (
        "HAProxy is not installed: `sudo apt-get install haproxy` (Debian, Ubuntu) or "
        "`brew install haproxy`; .ci/run installs it"
    )
    return found


def check_config(path: Path) -> subprocess.CompletedProcess[str]:
    """`haproxy -c`: HAProxy's own check of a configuration file."""
    return subprocess.run(
        [haproxy_binary(), "-c", "-f", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _without_comment(line: str) -> str:
    return re.sub(r"\s+#.*$|^\s*#.*$", "", line).rstrip()


def sections(text: str | None = None) -> dict[str, list[str]]:
    """{"frontend users": [directive, ...], ...}: each section's directives, comments dropped."""
    text = HAPROXY_CONFIG.read_text() if text is None else text
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for raw in text.splitlines():
        line = _without_comment(raw)
        if not line.strip():
            continue
        if not line[0].isspace():
            current = found.setdefault(line.strip(), [])
        else:
            current.append(" ".join(line.split()))
    return found


def directive(section: list[str], keyword: str) -> list[str]:
    """The directives of a section that start with `keyword`."""
    return [line for line in section if line == keyword or line.startswith(keyword + " ")]


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Proxy:
    """HAProxy on free local ports, in front of the given server ports."""

    work_dir: Path
    servers: list[int]
    port: int = field(default_factory=free_port)
    operations_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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
        deadline = time.monotonic() + 30
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
