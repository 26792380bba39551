"""`workshop serve N|final`: run a chapter's service, or the finished one, against real services.

The steps a developer would type by hand: find PostgreSQL and Redis, create the code tree's
own database if it is missing (`workshop_02_database`, `workshop_final`, ...: each tree has its
own migration history, so they must not share one), apply the migrations when the code tree
has Alembic, then start `uvicorn app.main:create_app --factory` from the code tree with the
URLs in its environment.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import localservices as services
from workshop import checking
from workshop.console import out


@dataclass(frozen=True)
class ServeTarget:
    label: str  # "chapter 01" or "the finished service"
    code_dir: Path
    services: tuple[str, ...]
    final: bool

    @property
    def database_name(self) -> str:
        """A database per code tree: chapters' and final's migration histories differ."""
        return "workshop_" + self.code_dir.name.replace("-", "_")


def port_is_free(host: str, port: int) -> bool:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def server_environment(target: ServeTarget) -> dict[str, str]:
    """The environment of the server: resolved URLs, the tree's database, development mode.

    Raises services.ServiceUnavailable when a needed server cannot be found.
    """
    found = checking.resolve_services(target.services)
    if found:
        out(services.announce(*found))
    env = checking.service_environment(found)
    env["ENVIRONMENT"] = "development"
    for service in found:
        if service.name == "PostgreSQL":
            env["DATABASE_URL"] = services.ensure_database(service.url, target.database_name)
        else:
            env["REDIS_URL"] = service.url
    return env


def migrate(target: ServeTarget, env: dict[str, str]) -> int:
    """`alembic upgrade head` when the code tree has Alembic; its exit status (0 when none)."""
    if not (target.code_dir / "alembic.ini").is_file():
        return 0
    out("Applying migrations: alembic upgrade head")
    command = [sys.executable, "-m", "alembic", "upgrade", "head"]
    return subprocess.run(command, cwd=target.code_dir, env=env, check=False).returncode


def uvicorn_command(target: ServeTarget, *, host: str, port: int, workers: int, reload: bool):
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
    command += ["--host", host, "--port", str(port)]
    if target.final:
        command += ["--workers", str(workers)]
    elif reload:
        command.append("--reload")  # a learner's edits show up without a restart
    return command


def run_server(target: ServeTarget, command: list[str], env: dict[str, str]) -> int:
    """Run uvicorn until it stops; Ctrl-C or SIGTERM here stops it cleanly (exit status 0)."""
    server = subprocess.Popen(command, cwd=target.code_dir, env=env)

    def forward(signum: int, _frame: object) -> None:
        server.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        status = server.wait()
    except KeyboardInterrupt:
        # The terminal sent SIGINT to uvicorn as well; give it time to finish its requests.
        try:
            status = server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.terminate()
            status = server.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
    # uvicorn re-raises the stop signal after a graceful shutdown: that is a clean stop.
    return 0 if status in (-signal.SIGTERM, -signal.SIGINT) else status
