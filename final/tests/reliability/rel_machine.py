"""How busy the machine was during a long run: figures under load mean little without it.

Every few seconds: the load average, the share of all cores in use, and the share used by
the suite itself (this process and its children: servers, load, Locust, Schemathesis,
Redis). The rest is everybody else, PostgreSQL's work for the suite included.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import threading
from dataclasses import dataclass, field

import psutil

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

    def __exit__(self, *exc_info) -> None:
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
