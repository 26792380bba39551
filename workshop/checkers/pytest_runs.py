"""Many pytest runs, each in a process of its own, several at a time, started cheaply.

Chapter 06's check runs the learner's tests against two dozen code trees, each with its own
`app` package, so each run needs a process of its own. Most of a fresh process's time goes
into importing pytest, FastAPI, SQLAlchemy and pydantic. Where the platform has it, the
standard library's `forkserver` imports them once (`set_forkserver_preload`) and forks one
process per run from there (never importing `app`, which differs from run to run); elsewhere
(Windows) each run is a freshly spawned interpreter. Either way a run is the one
`workshop check` makes: the chapter's pytest configuration, the tree as rootdir and first on
the path, and the plugin's JSON report read back.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from workshop.checking import (
    CHAPTER_PYTEST_CONFIG,
    DETAILS_PLUGIN,
    Outcome,
    outcomes_from_report,
)

# Imported once by the fork server, so that no run pays for them again.
PRELOADED = (
    "pytest",
    "pytest_asyncio",
    "pytest_timeout",
    "localservices.pytest_plugin",
    "localservices.app_tree",
    "workshop.checkers.pytest_runs",
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
    collection_errors: list[dict[str, Any]] = field(default_factory=list)
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
    details: bool = False  # record failing tests' details (workshop.check_details)


def run_all(planned: list[PlannedRun], env: dict[str, str], *, workers: int) -> list[PytestRun]:
    """Run every planned pytest, `workers` at a time; the results in the planned order."""
    with tempfile.TemporaryDirectory(prefix="workshop-runs-") as scratch:
        requests = [
            _request(run, Path(scratch) / str(index), env) for index, run in enumerate(planned)
        ]
        statuses = run_processes(requests, workers=workers)
        return [_read_back(request, statuses[index]) for index, request in enumerate(requests)]


def _request(run: PlannedRun, scratch: Path, env: dict[str, str]) -> dict[str, Any]:
    scratch.mkdir(parents=True)
    report = scratch / "report.json"
    disabled = [argument for plugin in UNUSED_PLUGINS for argument in ("-p", f"no:{plugin}")]
    child_env = dict(env)
    # The tree's own `app` comes first, whatever the caller's PYTHONPATH says.
    child_env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(run.workdir), env.get("PYTHONPATH")])
    )
    details = scratch / "details.json"
    recording = ["-p", DETAILS_PLUGIN, "--workshop-details", str(details)] if run.details else []
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
            *recording,
            *run.args,
        ],
        "env": child_env,
        "report": str(report),
        "details": str(details),
        "log": str(scratch / "output.txt"),
    }


def _read_back(request: dict[str, Any], exit_status: int) -> PytestRun:
    report_path, log_path = Path(request["report"]), Path(request["log"])
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    details_path = Path(request["details"])
    details = json.loads(details_path.read_text()) if details_path.exists() else {}
    output = log_path.read_text(errors="replace") if log_path.exists() else ""
    if "No module named pytest" in output:
        report["environment_error"] = "pytest is not installed here: run `uv sync`."
    return PytestRun(
        outcomes=outcomes_from_report(report, details),  # a failed teardown adds no test
        collection_errors=report.get("collection_errors", []),
        environment_error=report.get("environment_error"),
        services_line=report.get("services"),
        exit_status=exit_status,
        output=output,
    )


# --- the processes ------------------------------------------------------------------------------


# The two start methods the runs use (both make a fresh interpreter, unlike `fork`).
ProcessContext = ForkServerContext | SpawnContext


def process_context() -> ProcessContext:
    """`forkserver` with the libraries preloaded where it exists, else `spawn` (Windows)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # The server imports these once, when it starts. `__main__` too (the `workshop` script,
    # or pytest's): else every run would import the caller's main module again.
    context.set_forkserver_preload(["__main__", *PRELOADED])
    return context


def run_processes(
    requests: list[dict[str, Any]], *, workers: int, context: ProcessContext | None = None
) -> list[int]:
    """Each request's pytest in a process of its own, `workers` at a time; the exit statuses."""
    context = context or process_context()
    pending = list(enumerate(requests))
    running: dict[int, tuple[BaseProcess, float]] = {}
    statuses: dict[int, int] = {}
    try:
        while pending or running:
            while pending and len(running) < workers:
                index, request = pending.pop(0)
                new_process = context.Process(target=_pytest_in_tree, args=(request,))
                new_process.start()
                running[index] = (new_process, time.monotonic())
            wait([process.sentinel for process, _ in running.values()], timeout=1)
            for index, (process, started) in list(running.items()):
                if process.exitcode is not None:
                    statuses[index] = process.exitcode
                    del running[index]
                elif time.monotonic() - started > RUN_TIMEOUT_SECONDS:
                    process.kill()
    except BaseException:
        # Interrupted: each run in flight stops once, as pytest does on Ctrl-C, and drops its
        # database, before the caller removes the directories they run in.
        for process, _ in running.values():
            if process.pid is not None:
                with contextlib.suppress(OSError):
                    os.kill(process.pid, signal.SIGINT)
        for process, _ in running.values():
            process.join(timeout=60)
        raise
    return [statuses[index] for index in range(len(requests))]


def _pytest_in_tree(request: dict[str, Any]) -> None:
    """In the run's own process: pytest in the tree, its output in the log, its status out."""
    # Out of the terminal's process group: Ctrl-C reaches a run once, through run_processes.
    if hasattr(os, "setpgrp"):
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
