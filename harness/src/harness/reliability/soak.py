"""The soak: Locust runs the benchmarks' mixed user journey against the service (uvicorn with
two workers, as the image runs it) for a fixed time, while the suite samples the workers'
memory. It must end with zero failures, memory that stopped growing, and every connection
back to idle.

Locust runs in a process of its own (it monkey-patches the standard library on import); the
journey and its seeding are the benchmarks' own (harness/bench/scenarios/journey.py), so the
soak exercises exactly the traffic the benchmarks measure.
"""

from __future__ import annotations

import csv
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import localservices as services
from harness.bench import seed
from harness.bench.plan import SCENARIOS_DIR
from harness.bench.scenarios.seeded import GENERATOR_PROCESSES_ENV, SEED_FILE_ENV
from harness.paths import REPO_ROOT
from harness.reliability.checks import Idle, idle_state
from harness.reliability.stack import Stack, migrated_database
from harness.server import UvicornServer

JOURNEY = SCENARIOS_DIR / "journey.py"
MIB = 1024 * 1024
SAMPLE_EVERY_SECONDS = 1.0
WORKERS = 2


@dataclass(frozen=True)
class SoakTiming:
    seconds: int = 20
    users: int = 10
    seeded_users: int = 200
    # Memory settles once every code path has run, caches are full and pools are open:
    # growth is measured from the end of the warm-up, stability over the last half.
    warmup_fraction: float = 0.25
    max_growth_last_half_mib: float = 16.0


@dataclass
class SoakReport:
    seconds: int
    users: int
    requests: int
    failures: int
    failure_details: list[str]
    requests_per_second: float
    p95_ms: float
    requests_by_name: dict[str, tuple[int, int]]  # "GET /users/me" -> (requests, failures)
    rss_after_warmup_mib: float
    rss_end_mib: float
    growth_mib: float  # from the end of the warm-up to the end
    growth_last_half_mib: float  # from the middle to the end: a leak keeps growing here
    memory_samples_mib: list[float]
    idle: Idle
    problems: list[str] = field(default_factory=list)


class MemorySampler:
    """The workers' resident memory, summed, every second, from another thread."""

    def __init__(self, server: UvicornServer) -> None:
        self.server = server
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_SECONDS):
            self.samples.append(self.server.rss_bytes() / MIB)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _stats(csv_prefix: Path) -> list[dict[str, str]]:
    with open(f"{csv_prefix}_stats.csv", newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def _failures(csv_prefix: Path) -> list[str]:
    path = Path(f"{csv_prefix}_failures.csv")
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as file:
        return [
            f"{row['Occurrences']}x {row['Method']} {row['Name']}: {row['Error']}"
            for row in csv.DictReader(file)
        ]


def prepare_seed(database_url: str, server_url: str, work_dir: Path, timing: SoakTiming) -> Path:
    """Seeded accounts and one token pair per simulated user (and two spare)."""
    seeded = seed.seed_users(services.plain_postgres_url(database_url), count=timing.seeded_users)
    tokens = seed.log_in(server_url, seeded[: timing.users + 2])
    return seed.write_seed_file(work_dir / "seed.json", users=seeded, tokens=tokens, has_auth=True)


def run_soak(stack: Stack, work_dir: Path, timing: SoakTiming) -> SoakReport:
    """A database of the soak's own (its seeded accounts have fixed emails), the suite's Redis."""
    work_dir.mkdir(parents=True, exist_ok=True)
    with migrated_database(stack.postgres_url) as database_url:
        return _soak(stack, database_url, work_dir, timing)


def _soak(stack: Stack, database_url: str, work_dir: Path, timing: SoakTiming) -> SoakReport:
    metrics_dir = work_dir / "metrics"
    metrics_dir.mkdir(parents=True, exist_ok=True)
    settings = stack.settings(
        "soak",
        DATABASE_URL=database_url,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        WEB_CONCURRENCY=str(WORKERS),
    )
    server = stack.server("soak", settings, work_dir, workers=WORKERS).start()
    csv_prefix = work_dir / "locust"
    try:
        seed_file = prepare_seed(database_url, server.url, work_dir, timing)
        command = [
            *(sys.executable, "-m", "locust", "--locustfile", str(JOURNEY), "--headless"),
            *("--host", server.url, "--users", str(timing.users)),
            *("--spawn-rate", str(timing.users), "--run-time", f"{timing.seconds}s"),
            *("--stop-timeout", "5", "--csv", str(csv_prefix), "--only-summary"),
            *("--loglevel", "WARNING"),
        ]
        environment = {**os.environ, SEED_FILE_ENV: str(seed_file), GENERATOR_PROCESSES_ENV: "1"}
        with MemorySampler(server) as sampler, (work_dir / "locust.log").open("ab") as log:
            locust = subprocess.run(
                command,
                cwd=REPO_ROOT,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timing.seconds + 120,
                check=False,
            )
        time.sleep(0.5)  # the last answers' connections go back to their pools
        idle = idle_state(
            server_urls=[server.url],
            database_url=database_url,
            app_name=settings["APP_NAME"],
            redis=stack.redis,
            redis_limit=WORKERS * 64,
        )
    finally:
        server.stop()
    return _report(timing, csv_prefix, sampler.samples, idle, locust.returncode)


def _report(
    timing: SoakTiming, csv_prefix: Path, samples: list[float], idle: Idle, exit_code: int
) -> SoakReport:
    rows = _stats(csv_prefix)
    aggregate = next(row for row in rows if row["Name"] == "Aggregated")
    failures = int(aggregate["Failure Count"])
    warm = int(len(samples) * timing.warmup_fraction)
    middle = len(samples) // 2
    after_warmup = _median(samples[warm : warm + 3])
    at_middle = _median(samples[middle : middle + 3])
    at_end = _median(samples[-3:])
    report = SoakReport(
        seconds=timing.seconds,
        users=timing.users,
        requests=int(aggregate["Request Count"]),
        failures=failures,
        failure_details=_failures(csv_prefix),
        requests_per_second=round(float(aggregate["Requests/s"]), 1),
        p95_ms=float(aggregate["95%"] or 0),
        requests_by_name={
            f"{row['Type']} {row['Name']}": (int(row["Request Count"]), int(row["Failure Count"]))
            for row in rows
            if row["Name"] != "Aggregated"
        },
        rss_after_warmup_mib=round(after_warmup, 1),
        rss_end_mib=round(at_end, 1),
        growth_mib=round(at_end - after_warmup, 1),
        growth_last_half_mib=round(at_end - at_middle, 1),
        memory_samples_mib=[round(sample, 1) for sample in samples],
        idle=idle,
    )
    if exit_code not in {0, 1}:  # 1: Locust saw failures, counted below
        report.problems.append(f"Locust exited with {exit_code}")
    if report.requests == 0:
        report.problems.append("Locust sent no requests")
    if failures:
        report.problems.append(f"{failures} failures: {report.failure_details[:5]}")
    if report.growth_last_half_mib > timing.max_growth_last_half_mib:
        report.problems.append(
            f"memory still grew {report.growth_last_half_mib} MiB over the last half "
            f"(limit {timing.max_growth_last_half_mib} MiB)"
        )
    report.problems += idle.problems
    return report
