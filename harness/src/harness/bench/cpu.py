"""Where the CPU went during a run, per component, and what that says bounded the run.

The server, the load generator, PostgreSQL and Redis share two cores here. Sampling each
component's CPU time once a second tells whether a figure measures the service or the machine
around it: a server worker at 100 % of a core is the service's limit; a Locust process at
100 % means the generator, not the server, set the pace.
"""

from __future__ import annotations

import csv
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypedDict

import psutil

SAMPLE_SECONDS = 1.0
SATURATED = 85.0  # % of one core: a single-threaded process this busy is the bound
MACHINE_BUSY = 85.0  # % of all cores: the rest is scheduling slack between processes

COMPONENTS = ("server", "generator", "postgres", "redis", "runner", "other")
COLUMNS = ("time", *COMPONENTS, "server_busiest", "generator_busiest", "machine", "steal")


@dataclass
class _Tracked:
    process: psutil.Process
    last_cpu: float


@dataclass
class CpuSampler:
    """A background thread sampling CPU per component; `stop()` returns the samples.

    Figures are % of one core (200 % is all of a two-core machine). `postgres` counts only
    the backends serving this run's databases; `redis` is the whole redis-server, which other
    people's tests may share; `other` is everything else the machine ran meanwhile.
    """

    server_pid: int
    generator_pid: int
    database_names: set[str]
    redis_port: int | None
    samples: list[dict[str, float]] = field(default_factory=list)
    _tracked: dict[tuple[int, float], _Tracked] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> CpuSampler:
        self._redis = _find_redis_server(self.redis_port)
        self._system = psutil.cpu_times()
        self._clock = time.monotonic()
        self._components()  # first readings: deltas start from here
        self._thread = threading.Thread(target=self._loop, name="cpu-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> list[dict[str, float]]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return self.samples

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self.samples.append(self._sample())

    def _components(self) -> dict[str, list[float]]:
        """CPU seconds used since the last call, per process, grouped by component."""
        groups = {
            "server": _tree(self.server_pid),
            "generator": _tree(self.generator_pid),
            "postgres": _postgres_backends(self.database_names),
            "redis": [self._redis] if self._redis else [],
            "runner": [psutil.Process(os.getpid())],
        }
        used: dict[str, list[float]] = {name: [] for name in groups}
        seen: set[tuple[int, float]] = set()
        for name, processes in groups.items():
            for process in processes:
                try:
                    key = (process.pid, process.create_time())
                    times = process.cpu_times()
                except psutil.Error:
                    continue  # it ended between the listing and the reading
                total = times.user + times.system
                seen.add(key)
                tracked = self._tracked.get(key)
                if tracked is not None:
                    used[name].append(max(0.0, total - tracked.last_cpu))
                self._tracked[key] = _Tracked(process, total)
        for key in set(self._tracked) - seen:
            del self._tracked[key]
        return used

    def _sample(self) -> dict[str, float]:
        now = time.monotonic()
        elapsed = max(now - self._clock, 1e-6)
        self._clock = now
        used = self._components()
        system = psutil.cpu_times()
        busy = _busy(system) - _busy(self._system)
        steal = getattr(system, "steal", 0.0) - getattr(self._system, "steal", 0.0)
        self._system = system

        def percent(seconds: float) -> float:
            return round(100 * seconds / elapsed, 1)

        sample = {"time": round(time.time(), 3)}
        for name, seconds in used.items():
            sample[name] = percent(sum(seconds))
        sample["other"] = max(0.0, percent(busy - sum(sum(s) for s in used.values())))
        sample["server_busiest"] = percent(max(used["server"], default=0.0))
        sample["generator_busiest"] = percent(max(used["generator"], default=0.0))
        sample["machine"] = round(percent(busy) / _cores(), 1)
        sample["steal"] = percent(steal)
        return sample


class _CpuTimes(Protocol):
    """`psutil.cpu_times()`: a named tuple whose fields vary by platform."""

    @property
    def idle(self) -> float: ...

    def __iter__(self) -> Iterator[float]: ...


def _busy(times: _CpuTimes) -> float:
    idle = times.idle + getattr(times, "iowait", 0.0)
    return sum(times) - idle


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _postgres_backends(database_names: set[str]) -> list[psutil.Process]:
    """Backends whose title names one of our databases: `postgres: user db host(port) idle`."""
    if not database_names:
        return []
    backends = []
    for process in psutil.process_iter(["name", "cmdline"]):
        title = " ".join(process.info["cmdline"] or [])
        if process.info["name"] == "postgres" or title.startswith("postgres:"):
            words = set(title.split())
            if words & database_names:
                backends.append(process)
    return backends


def _find_redis_server(port: int | None) -> psutil.Process | None:
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "redis-server":
            title = " ".join(process.info["cmdline"] or [])
            if port is None or f":{port}" in title:
                return process
    return None  # embedded (fakeredis in this runner) or on another machine


def _cores() -> int:
    """Logical cores (psutil answers None where it cannot tell)."""
    return psutil.cpu_count() or 1


# --- reading the samples ---------------------------------------------------------------------


class CpuFigures(TypedDict):
    """A `CpuSummary` as `results.json` keeps it (a run's `cpu`)."""

    components: dict[str, float]
    server_busiest_process: float
    generator_busiest_process: float
    machine_percent_of_all_cores: float
    steal: float
    cores: int


@dataclass(frozen=True)
class CpuSummary:
    """Average % of one core per component over a window, and the busiest processes."""

    components: dict[str, float]
    server_busiest: float
    generator_busiest: float
    machine: float  # % of all cores
    steal: float
    cores: int

    def to_dict(self) -> CpuFigures:
        return {
            "components": self.components,
            "server_busiest_process": self.server_busiest,
            "generator_busiest_process": self.generator_busiest,
            "machine_percent_of_all_cores": self.machine,
            "steal": self.steal,
            "cores": self.cores,
        }


def summarize(samples: list[dict[str, float]], start: float, end: float) -> CpuSummary | None:
    """The averages over the samples taken between `start` and `end` (epoch seconds).

    Locust stamps its history in whole seconds: the window starts a second early, and ends
    a second early too, since its last row is written while Locust shuts down.
    """
    window = [sample for sample in samples if start - 1 <= sample["time"] <= end - 1]
    if not window:
        return None

    def mean(column: str) -> float:
        return round(sum(sample[column] for sample in window) / len(window), 1)

    return CpuSummary(
        components={name: mean(name) for name in COMPONENTS},
        server_busiest=mean("server_busiest"),
        generator_busiest=mean("generator_busiest"),
        machine=mean("machine"),
        steal=mean("steal"),
        cores=_cores(),
    )


def write_samples(samples: list[dict[str, float]], path: Path) -> None:
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(samples)


NOISY_OTHER = 25.0  # % of a core used by processes outside the run: worth saying


def bound(summary: CpuSummary | None, *, workers: int, paced: bool = False) -> str:
    """One sentence: what limited this run, judged from where the CPU went.

    `paced` runs have think time; the others are closed loops, where a server that is not
    busy must be waiting for something.
    """
    if summary is None:
        return "unknown (no CPU samples in the measured window)"
    verdict = _verdict(summary, workers=workers, paced=paced)
    other = summary.components["other"]
    if other >= NOISY_OTHER:
        verdict += f"; other processes took {other:.0f} % of a core meanwhile"
    return verdict


def _verdict(summary: CpuSummary, *, workers: int, paced: bool) -> str:
    parts = summary.components
    if summary.generator_busiest >= SATURATED:
        return (
            f"the load generator: a Locust process at {summary.generator_busiest:.0f} % of a "
            "core, so the server may have had more to give"
        )
    if summary.server_busiest >= SATURATED * 1.3:
        return (
            f"server CPU beyond its event loop: {parts['server']:.0f} % of a core, its "
            "thread pool (argon2) busy on every core it can get"
        )
    if summary.server_busiest >= SATURATED:
        each = "the worker" if workers == 1 else "its busiest worker"
        return (
            f"server CPU: {each} at {summary.server_busiest:.0f} % of a core (one Python "
            "thread per worker)"
        )
    for name, label in (("postgres", "PostgreSQL"), ("redis", "Redis")):
        if parts[name] >= SATURATED:
            return f"{label}: {parts[name]:.0f} % of a core"
    if summary.machine >= MACHINE_BUSY:
        busiest = max(COMPONENTS, key=lambda name: parts[name])
        return (
            f"the machine's CPU: all cores {summary.machine:.0f} % busy, most of it "
            f"{busiest} ({parts[busiest]:.0f} % of a core)"
        )
    if paced:
        return (
            f"the users' think time, not CPU (machine {summary.machine:.0f} % busy): the "
            "latency is the service's own"
        )
    return (
        f"waiting, not CPU (machine {summary.machine:.0f} % busy): round trips to "
        "PostgreSQL or Redis, or the connection pool, hold the requests"
    )
