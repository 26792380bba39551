"""Run Locust headless in a subprocess, with live progress read from its CSV history.

Locust is never imported here (it monkey-patches the standard library on import). With
`--processes N` it forks N worker processes under one master, so that one Python process's
ceiling (about 8,000 requests per second here) is not mistaken for the server's.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.bench.plan import Run
from harness.bench.scenarios.seeded import GENERATOR_PROCESSES_ENV, SEED_FILE_ENV
from harness.paths import REPO_ROOT
from localservices import free_port

CSV_PREFIX = "locust"
HTML_REPORT = "report.html"
PROGRESS_EVERY_SECONDS = 5
GRACE_SECONDS = 90  # start-up, spawning and the final report, beyond the run time


@dataclass(frozen=True)
class LocustRun:
    run: Run
    base_url: str
    seconds: int
    users: int
    processes: int
    seed_file: Path | None
    output_dir: Path | None  # None for a warm-up: no reports

    @property
    def history_csv(self) -> Path | None:
        return self.output_dir / f"{CSV_PREFIX}_stats_history.csv" if self.output_dir else None

    def command(self) -> list[str]:
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "locust",
            "--locustfile",
            str(self.run.locustfile),
            "--headless",
            "--host",
            self.base_url,
            "--users",
            str(self.users),
            "--spawn-rate",
            str(self.users),  # all users within a second
            "--run-time",
            f"{self.seconds}s",
            "--stop-timeout",
            "5",
            "--loglevel",
            "WARNING",
            "--only-summary",
        ]
        if self.processes > 1:
            command += ["--processes", str(self.processes)]
            command += ["--master-bind-port", str(port), "--master-port", str(port)]
        if self.output_dir is not None:
            command += [
                "--csv",
                str(self.output_dir / CSV_PREFIX),
                "--csv-full-history",
                "--html",
                str(self.output_dir / HTML_REPORT),
                # Figures start once every user runs: spawning is not part of the measurement.
                "--reset-stats",
            ]
        return command

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env[GENERATOR_PROCESSES_ENV] = str(max(1, self.processes))
        if self.seed_file is not None:
            env[SEED_FILE_ENV] = str(self.seed_file)
        return env


Progress = Callable[[str], None]


def start(locust: LocustRun, log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            locust.command(),
            cwd=REPO_ROOT,
            env=locust.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait(process: subprocess.Popen[bytes], locust: LocustRun, progress: Progress) -> int:
    """Wait for Locust to finish, reporting progress; stop it if it overruns."""
    started = time.monotonic()
    deadline = started + locust.seconds + GRACE_SECONDS
    try:
        while True:
            try:
                return process.wait(timeout=PROGRESS_EVERY_SECONDS)
            except subprocess.TimeoutExpired:
                pass
            if time.monotonic() > deadline:
                stop(process)
                return -1
            if locust.history_csv is not None and (line := latest_progress(locust.history_csv)):
                elapsed = min(time.monotonic() - started, locust.seconds)
                progress(f"{elapsed:3.0f}/{locust.seconds} s  {line}")
    except BaseException:  # Ctrl-C: Locust runs in its own session, so it must be stopped here
        stop(process)
        raise


def stop(process: subprocess.Popen[bytes]) -> None:
    """Kill Locust's master and its worker processes (one process group, started by us)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def latest_progress(history_csv: Path) -> str | None:
    """`1,234 req/s  p95 12 ms  0 failures` from the last aggregated row of the history."""
    if not history_csv.is_file():
        return None
    rows = []
    with history_csv.open(newline="") as file:
        for row in csv.DictReader(file):
            if row.get("Name") == "Aggregated" and row.get("User Count") not in (None, "0"):
                rows.append(row)
    if not rows:
        return None
    last = rows[-1]
    rps = float(last["Requests/s"] or 0)
    if not rps and len(rows) > 1:  # Locust's current rate lags after --reset-stats
        seconds = float(last["Timestamp"]) - float(rows[-2]["Timestamp"])
        count = int(last["Total Request Count"]) - int(rows[-2]["Total Request Count"])
        rps = count / seconds if seconds > 0 and count > 0 else 0.0
    p95 = last.get("95%", "N/A")
    return (
        f"{rps:7,.0f} req/s  p95 {p95} ms  {last['Total Failure Count']} failures  "
        f"{last['User Count']} users"
    )
