"""The machine a run happened on: CPU, memory, load, versions. Figures mean little without it.

Two ways to look, for the benchmarks and the reliability suite alike:
- a snapshot (`load_snapshot`) before and after a run, with the busiest other processes: a
  baseline is worth committing only if the machine was quiet, and the file says whether it was;
- a sampler (`MachineSampler`) for a long run: every few seconds the load average, the share
  of all cores in use, and the share used by the run itself (this process and its children:
  servers, load, Locust, Schemathesis, Redis). The rest is everybody else.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TypedDict

import psutil

from harness.paths import REPO_ROOT

PACKAGES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "uvloop",
    "h11",
    "pydantic",
    "sqlalchemy",
    "asyncpg",
    "redis",
    "hiredis",
    "python-jose",
    "pwdlib",
    "argon2-cffi",
    "locust",
    "psutil",
    "matplotlib",
)
# Quiet: the 1-minute load is below this share of the cores, and the CPU mostly idle.
QUIET_LOAD_PER_CORE = 0.25
QUIET_BUSY_PERCENT = 15.0


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


class BusyProcess(TypedDict):
    pid: int
    cpu: float  # % of one core
    command: str


class LoadSnapshot(TypedDict):
    taken_at: str
    load_average: list[float]  # 1, 5 and 15 minutes
    cpu_busy_percent: float
    busiest_processes: list[BusyProcess]
    quiet: bool


class MachineFacts(TypedDict):
    cpu_model: str
    logical_cores: int | None
    physical_cores: int | None
    memory_gib: float
    os: str
    python: str
    packages: dict[str, str]
    servers: dict[str, str]
    services: str
    git_commit: str
    git_dirty: bool


def load_snapshot(sample_seconds: float = 3.0) -> LoadSnapshot:
    """Load averages, CPU busy over a short sample, the busiest processes, and a verdict."""
    processes = list(psutil.process_iter(["pid", "name", "cmdline"]))
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.cpu_percent(None)  # starts the process's CPU clock for the sample below
    busy = psutil.cpu_percent(interval=sample_seconds)
    busiest: list[BusyProcess] = []
    for process in processes:
        try:
            percent = process.cpu_percent(None)
        except psutil.Error:
            continue
        if percent >= 5:
            command = " ".join(process.info["cmdline"] or [process.info["name"] or "?"])
            busiest.append({"pid": process.info["pid"], "cpu": percent, "command": command[:120]})
    busiest.sort(key=lambda entry: -entry["cpu"])
    load1, load5, load15 = psutil.getloadavg()
    cores = psutil.cpu_count() or 1
    quiet = load1 < QUIET_LOAD_PER_CORE * cores and busy < QUIET_BUSY_PERCENT
    return {
        "taken_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "load_average": [round(load1, 2), round(load5, 2), round(load15, 2)],
        "cpu_busy_percent": busy,
        "busiest_processes": busiest[:8],
        "quiet": quiet,
    }


def wait_until_quiet(max_seconds: float, report: Callable[[str], None]) -> float:
    """Wait (up to `max_seconds`) until the CPU is mostly idle; returns the last % busy.

    On a shared machine, waiting between runs for other people's work to pause makes each
    run's figures its own, where one long quiet window may never come.
    """
    deadline = time.monotonic() + max_seconds
    next_report = 0.0
    while True:
        busy = psutil.cpu_percent(interval=0.5 if max_seconds <= 0 else 2)
        if busy < QUIET_BUSY_PERCENT or time.monotonic() >= deadline:
            return busy
        if time.monotonic() >= next_report:
            report(f"waiting for the machine to go quiet ({busy:.0f} % busy)")
            next_report = time.monotonic() + 30


def _package_versions() -> dict[str, str]:
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def _git(*args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    return result.stdout.strip()


def server_versions(postgres_url: str | None, redis_url: str | None) -> dict[str, str]:
    versions = {}
    if postgres_url:
        import asyncpg

        async def postgres_version() -> str:
            connection = await asyncpg.connect(postgres_url, timeout=5)
            try:
                return str(await connection.fetchval("SHOW server_version"))
            finally:
                await connection.close()

        try:
            versions["postgresql"] = asyncio.run(postgres_version())
        except Exception as error:  # a version is nice to have, never worth failing a run
            versions["postgresql"] = f"unknown ({type(error).__name__})"
    if redis_url:
        import redis

        try:
            with redis.Redis.from_url(redis_url) as client:
                versions["redis"] = str(client.info("server").get("redis_version", "unknown"))
        except Exception as error:
            versions["redis"] = f"unknown ({type(error).__name__})"
    return versions


def describe(*, services_line: str, servers: dict[str, str]) -> MachineFacts:
    memory = psutil.virtual_memory()
    return {
        "cpu_model": cpu_model(),
        "logical_cores": psutil.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gib": round(memory.total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": _package_versions(),
        "servers": servers,
        "services": services_line,
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def render_markdown(machine: MachineFacts, before: LoadSnapshot, after: LoadSnapshot) -> str:
    """machine.md: the same facts as machine.json, for a reader."""
    lines = [
        "# The machine of this run",
        "",
        f"- CPU: {machine['cpu_model']}, {machine['logical_cores']} logical cores "
        f"({machine['physical_cores']} physical)",
        f"- Memory: {machine['memory_gib']} GiB",
        f"- OS: {machine['os']}; Python {machine['python']}",
        f"- Servers: PostgreSQL {machine['servers'].get('postgresql', '-')}, "
        f"Redis {machine['servers'].get('redis', '-')}",
        f"- {machine['services']}",
        f"- Code: commit {machine['git_commit']}"
        + (" with uncommitted changes" if machine["git_dirty"] else ""),
        "",
        "## Load",
        "",
        "| when | load average (1, 5, 15 min) | CPU busy | verdict |",
        "| --- | --- | --- | --- |",
    ]
    for label, snapshot in (("before the run", before), ("after the run", after)):
        load = ", ".join(f"{value:.2f}" for value in snapshot["load_average"])
        verdict = "quiet" if snapshot["quiet"] else "busy"
        if snapshot is after:  # load averages lag: right after a run they hold its own load
            verdict = "(holds the run's own load)"
        lines.append(
            f"| {label} ({snapshot['taken_at']}) | {load} | "
            f"{snapshot['cpu_busy_percent']:.0f} % | {verdict} |"
        )
    lines += ["", "Busiest processes before the run (≥ 5 % of a core):", ""]
    if before["busiest_processes"]:
        lines += [
            f"- {entry['cpu']:.0f} % `{entry['command']}`" for entry in before["busiest_processes"]
        ]
    else:
        lines.append("- none")
    lines += ["", "## Versions", "", "| package | version |", "| --- | --- |"]
    lines += [f"| {name} | {version} |" for name, version in machine["packages"].items()]
    return "\n".join(lines) + "\n"


# --- sampling during a long run -------------------------------------------------------------

SAMPLE_EVERY_SECONDS = 5.0


@dataclass
class MachineLoad:
    cores: int
    memory_gib: float
    python: str
    load_average: list[float] = field(default_factory=list)  # 1-minute, per sample
    busy_percent: list[float] = field(default_factory=list)  # all cores, per sample
    suite_percent: list[float] = field(default_factory=list)  # of all cores, per sample

    def summary(self) -> dict[str, float]:
        def mean(values: list[float]) -> float:
            return round(statistics.fmean(values), 1) if values else 0.0

        others = [
            max(0.0, b - s) for b, s in zip(self.busy_percent, self.suite_percent, strict=True)
        ]
        return {
            "load_min": min(self.load_average, default=0.0),
            "load_mean": mean(self.load_average),
            "load_max": max(self.load_average, default=0.0),
            "busy_mean": mean(self.busy_percent),
            "suite_mean": mean(self.suite_percent),
            "others_mean": mean(others),
        }


class MachineSampler:
    def __init__(self) -> None:
        self.load = MachineLoad(
            cores=os.cpu_count() or 1,
            memory_gib=round(psutil.virtual_memory().total / 1024**3, 1),
            python=platform.python_version(),
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._me = psutil.Process()
        self._cpu_seen: dict[int, float] = {}

    def __enter__(self) -> MachineSampler:
        psutil.cpu_percent(None)
        self._suite_cpu_seconds()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _suite_cpu_seconds(self) -> float:
        """CPU seconds the suite's processes used since the last call."""
        spent = 0.0
        for process in [self._me, *self._me.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                total = times.user + times.system  # a child's own, while it runs
                spent += total - self._cpu_seen.get(process.pid, 0.0)
                self._cpu_seen[process.pid] = total
        return spent

    def _run(self) -> None:
        cores = self.load.cores
        while not self._stop.wait(SAMPLE_EVERY_SECONDS):
            self.load.load_average.append(round(os.getloadavg()[0], 2))
            self.load.busy_percent.append(round(psutil.cpu_percent(None), 1))
            suite = self._suite_cpu_seconds() / (SAMPLE_EVERY_SECONDS * cores) * 100
            self.load.suite_percent.append(round(min(100.0, suite), 1))
