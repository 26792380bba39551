"""Many pytest runs, each in a process of its own, several at a time, started cheaply.

Chapter 06's check runs the learner's tests against two dozen code trees, each with its own
`app` package, so each run needs a process of its own. Most of a fresh process's time goes
into importing pytest, FastAPI, SQLAlchemy and pydantic. Where the platform can fork, a small
server process (`python -m workshop.checkers.pytest_runs`) imports them once and forks one
child per run (never importing `app`, which differs from run to run). Elsewhere (Windows) each
run is a plain `python -m pytest` subprocess. Either way a run is the one `workshop check`
makes: the chapter's pytest configuration, the tree as rootdir and first on the path, and the
plugin's JSON report read back.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from workshop.checking import CHAPTER_PYTEST_CONFIG, Outcome, outcomes_from_report

# Imported once by the fork server, so that no run pays for them again.
PRELOADED = (
    "pytest",
    "pytest_asyncio",
    "pytest_timeout",
    "localservices.pytest_plugin",
    "asgi_lifespan",
    "asyncpg",
    "email_validator",
    "fastapi",
    "fastapi.security",
    "httpx",
    "jose.jwt",
    "pwdlib",
    "pydantic",
    "pydantic_settings",
    "pythonjsonlogger.json",
    "redis.asyncio",
    "sqlalchemy.dialects.postgresql.asyncpg",
    "sqlalchemy.ext.asyncio",
)
# Plugins of this environment that no chapter's tests use: not loading them saves time.
UNUSED_PLUGINS = ("locust", "hypothesispytest", "schemathesis", "anyio", "platformdirs")
RUN_TIMEOUT_SECONDS = 600  # a run that takes longer is stopped (pytest-timeout stops most first)


@dataclass
class PytestRun:
    """What one pytest run reported."""

    outcomes: list[Outcome] = field(default_factory=list)
    collection_errors: list[dict] = field(default_factory=list)
    environment_error: str | None = None
    services_line: str | None = None
    exit_status: int = 0
    output: str = ""

    @property
    def crashed(self) -> bool:
        """pytest ran nothing, and not for a missing service or a file that failed to import."""
        return not self.outcomes and not self.collection_errors and not self.environment_error


@dataclass(frozen=True)
class PlannedRun:
    workdir: Path
    args: tuple[str, ...] = ()


def run_all(planned: list[PlannedRun], env: dict[str, str], *, workers: int) -> list[PytestRun]:
    """Run every planned pytest, `workers` at a time; the results in the planned order."""
    with tempfile.TemporaryDirectory(prefix="workshop-runs-") as scratch:
        requests = [
            _request(run, Path(scratch) / str(index), env) for index, run in enumerate(planned)
        ]
        runner = _ForkServer(env) if hasattr(os, "fork") else _Subprocesses()
        statuses = runner.run(requests, workers=workers)
        return [_read_back(request, statuses[index]) for index, request in enumerate(requests)]


def _request(run: PlannedRun, scratch: Path, env: dict[str, str]) -> dict:
    scratch.mkdir(parents=True)
    report = scratch / "report.json"
    disabled = [argument for plugin in UNUSED_PLUGINS for argument in ("-p", f"no:{plugin}")]
    child_env = dict(env)
    # The tree's own `app` comes first, whatever the caller's PYTHONPATH says.
    child_env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(run.workdir), env.get("PYTHONPATH")])
    )
    return {
        "workdir": str(run.workdir),
        "arguments": [
            "-c",
            str(CHAPTER_PYTEST_CONFIG),
            "--rootdir",
            str(run.workdir),
            "--workshop-report",
            str(report),
            "-q",
            "--no-header",
            "--continue-on-collection-errors",
            *disabled,
            *run.args,
        ],
        "env": child_env,
        "report": str(report),
        "log": str(scratch / "output.txt"),
    }


def _read_back(request: dict, exit_status: int) -> PytestRun:
    report_path, log_path = Path(request["report"]), Path(request["log"])
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    output = log_path.read_text(errors="replace") if log_path.exists() else ""
    if "No module named pytest" in output:
        report["environment_error"] = "pytest is not installed here: run `uv sync`."
    return PytestRun(
        outcomes=outcomes_from_report(report),  # a failed teardown does not add a test
        collection_errors=report.get("collection_errors", []),
        environment_error=report.get("environment_error"),
        services_line=report.get("services"),
        exit_status=exit_status,
        output=output,
    )


# --- where fork exists: one server imports once, forks a child per run ------------------------


class _ForkServer:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def run(self, requests: list[dict], *, workers: int) -> list[int]:
        server = subprocess.Popen(
            [sys.executable, "-m", "workshop.checkers.pytest_runs"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=self.env,
            text=True,
        )
        statuses: dict[int, int] = {}
        try:
            pending = list(enumerate(requests))
            running = 0
            while pending or running:
                while pending and running < workers:
                    index, request = pending.pop(0)
                    server.stdin.write(json.dumps({"id": index, **request}) + "\n")
                    server.stdin.flush()
                    running += 1
                line = server.stdout.readline()
                if not line:
                    raise RuntimeError("the pytest fork server stopped unexpectedly")
                finished = json.loads(line)
                statuses[finished["id"]] = finished["status"]
                running -= 1
        except BaseException:
            # Interrupted: the runs in flight stop and drop their databases before the caller
            # removes the directories they run in (the server forwards this, once).
            with contextlib.suppress(OSError):
                server.send_signal(signal.SIGINT)
            raise
        finally:
            with contextlib.suppress(OSError):
                server.stdin.close()
            server.wait()
        return [statuses[index] for index in range(len(requests))]


def serve() -> None:
    """The fork server: one JSON request per line in, one `{id, status}` per finished run out."""
    import importlib

    for name in PRELOADED:
        importlib.import_module(name)
    children: dict[int, tuple[int, float]] = {}  # pid -> (request id, started)
    interrupted = False

    def interrupt(signum: int, frame: object) -> None:
        # Ctrl-C (or the caller giving up): start nothing new, and ask each run in flight, once,
        # to stop as pytest does on Ctrl-C, dropping its database on the way out.
        nonlocal interrupted
        if not interrupted:
            interrupted = True
            for pid in children:
                os.kill(pid, signal.SIGINT)

    signal.signal(signal.SIGINT, interrupt)
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ)
    received = b""
    open_input = True
    while open_input or children:
        open_input = open_input and not interrupted
        # Raw reads of fd 0: a buffered reader could hold a request that select() never sees.
        if open_input and selector.select(timeout=0.05):
            chunk = os.read(0, 1 << 16)
            open_input = bool(chunk)
            received += chunk
            *lines, received = received.split(b"\n")
            for line in filter(None, lines):
                request = json.loads(line)
                children[_fork_run(request)] = (request["id"], time.monotonic())
        elif not open_input:
            time.sleep(0.05)
        for pid, (request_id, started) in list(children.items()):
            if time.monotonic() - started > RUN_TIMEOUT_SECONDS:
                os.kill(pid, signal.SIGKILL)
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                del children[pid]
                code = os.waitstatus_to_exitcode(status)
                sys.stdout.write(json.dumps({"id": request_id, "status": code}) + "\n")
                sys.stdout.flush()


def _fork_run(request: dict) -> int:
    pid = os.fork()
    if pid:
        return pid
    try:  # the child: pytest in the tree, its output in the log, never back to the server
        # Out of the terminal's process group: Ctrl-C reaches it once, through the server.
        os.setpgrp()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["workdir"])
        sys.path.insert(0, request["workdir"])
        import pytest

        status = pytest.main(request["arguments"])
        sys.stdout.flush()
        sys.stderr.flush()
        # Skip the interpreter's clean-up: the report is written and the database dropped.
        os._exit(int(status))
    except BaseException:
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        os._exit(3)


# --- elsewhere: a subprocess per run ----------------------------------------------------------


class _Subprocesses:
    def run(self, requests: list[dict], *, workers: int) -> list[int]:
        statuses: dict[int, int] = {}
        pending = list(enumerate(requests))
        running: dict[int, tuple[subprocess.Popen, float]] = {}
        try:
            while pending or running:
                while pending and len(running) < workers:
                    index, request = pending.pop(0)
                    running[index] = (self._start(request), time.monotonic())
                time.sleep(0.1)
                for index, (process, started) in list(running.items()):
                    if time.monotonic() - started > RUN_TIMEOUT_SECONDS:
                        process.kill()
                    if process.poll() is not None:
                        statuses[index] = process.returncode
                        del running[index]
        except BaseException:
            # Ctrl-C reached the runs too: let them drop their databases before going on.
            for process, _ in running.values():
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=60)
            raise
        return [statuses[index] for index in range(len(requests))]

    @staticmethod
    def _start(request: dict) -> subprocess.Popen:
        with open(request["log"], "wb") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "pytest", *request["arguments"]],
                cwd=request["workdir"],
                env=request["env"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )


if __name__ == "__main__":
    serve()
