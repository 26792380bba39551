"""Scale-out: one server against two behind HAProxy, and what the proxy itself costs.

    uv run workshop bench scale-out                       three runs of 20 s (~2 minutes)
    uv run workshop bench scale-out --seconds 30 --baseline   and commit the figures

Three runs of the cached read (scenarios/read_user.py, closed loop) against the finished
service, one uvicorn process per server, production settings: one server reached directly,
the same server behind HAProxy, and two servers behind HAProxy. HAProxy runs the shipped
final/deploy/haproxy/haproxy.cfg with its addresses moved onto this machine. The CPU time of
every server, of HAProxy and of Locust is read from the kernel before and after each run, so
the figures give each one's cost per request: what a bigger machine's slope is made of.

Results go to benchmarks/results/scale-out-<time>/ (results.json, summary.md); with
--baseline also to benchmarks/results/baseline/scale-out.{json,md}.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

import localservices as services
from harness.bench import seed
from harness.bench.plan import BASELINE_DIR, RESULTS_DIR, SCENARIOS_DIR
from harness.bench.scenarios.seeded import GENERATOR_PROCESSES_ENV, SEED_FILE_ENV
from harness.paths import REPO_ROOT
from harness.proxy import Proxy
from harness.reliability.stack import migrated_database, server, service_settings
from harness.server import UvicornServer

SCENARIO = SCENARIOS_DIR / "read_user.py"
USERS = 32
SEEDED_USERS = 500
# (name, servers, behind HAProxy)
RUNS: tuple[tuple[str, int, bool], ...] = (
    ("1 server, direct", 1, False),
    ("1 server behind HAProxy", 1, True),
    ("2 servers behind HAProxy", 2, True),
)


@dataclass
class ScaleRun:
    name: str
    servers: int
    proxied: bool
    seconds: float
    requests: int
    failures: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    server_cpu_ms_per_request: float  # all servers together
    proxy_cpu_ms_per_request: float
    locust_cpu_ms_per_request: float
    busy_percent: float  # of both cores, everything on the machine


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def _tree(pid: int) -> list[psutil.Process]:
    parent = psutil.Process(pid)
    return [parent, *parent.children(recursive=True)]


def _locust(url: str, seconds: float, csv_prefix: Path, seed_file: Path) -> subprocess.Popen[bytes]:
    command = [
        *(sys.executable, "-m", "locust", "-f", str(SCENARIO), "--headless"),
        *("--host", url, "--users", str(USERS), "--spawn-rate", str(USERS)),
        *("--run-time", f"{seconds:g}s", "--csv", str(csv_prefix), "--only-summary"),
        *("--loglevel", "WARNING", "--stop-timeout", "2"),
    ]
    environment = {**os.environ, SEED_FILE_ENV: str(seed_file), GENERATOR_PROCESSES_ENV: "1"}
    log = open(f"{csv_prefix}.log", "ab")  # noqa: SIM115  (closed with the process)
    return subprocess.Popen(command, cwd=REPO_ROOT, env=environment, stdout=log, stderr=log)


def _aggregate(csv_prefix: Path) -> dict[str, str]:
    with open(f"{csv_prefix}_stats.csv", newline="", encoding="utf-8") as file:
        return next(row for row in csv.DictReader(file) if row["Name"] == "Aggregated")


def measure(name: str, servers: list[UvicornServer], proxy: Proxy | None, work_dir: Path,
            seed_file: Path, seconds: float) -> ScaleRun:  # fmt: skip
    url = proxy.url if proxy else servers[0].url
    warmup = work_dir / f"{len(servers)}-{bool(proxy)}-warmup"
    _locust(url, 3, warmup, seed_file).wait()
    prefix = work_dir / f"{len(servers)}-{bool(proxy)}"
    server_processes = [p for s in servers for p in _tree(s.pid)]
    proxy_processes = _tree(proxy.pid) if proxy else []
    locust = _locust(url, seconds, prefix, seed_file)
    locust_processes = _tree(locust.pid)
    before = [_cpu_seconds(group) for group in (server_processes, proxy_processes)]
    psutil.cpu_percent()
    started = time.monotonic()
    while locust.poll() is None:
        locust_processes += [p for p in _tree(locust.pid) if p not in locust_processes]
        locust_cpu = _cpu_seconds(locust_processes)
        time.sleep(0.5)
    busy = psutil.cpu_percent()
    elapsed = time.monotonic() - started
    after = [_cpu_seconds(group) for group in (server_processes, proxy_processes)]
    row = _aggregate(prefix)
    requests = int(row["Request Count"])

    def per_request(cpu_seconds: float) -> float:
        return round(1000 * cpu_seconds / max(1, requests), 3)

    return ScaleRun(
        name=name,
        servers=len(servers),
        proxied=proxy is not None,
        seconds=round(elapsed, 1),
        requests=requests,
        failures=int(row["Failure Count"]),
        requests_per_second=round(float(row["Requests/s"]), 1),
        p50_ms=float(row["50%"] or 0),
        p99_ms=float(row["99%"] or 0),
        server_cpu_ms_per_request=per_request(after[0] - before[0]),
        proxy_cpu_ms_per_request=per_request(after[1] - before[1]),
        locust_cpu_ms_per_request=per_request(locust_cpu),
        busy_percent=round(busy, 1),
    )


def run(seconds: float, work_dir: Path, say: Callable[[str], None]) -> dict[str, Any]:
    postgres, redis = services.find_postgres(), services.find_redis()
    load_before = os.getloadavg()[0]
    runs = []
    with migrated_database(postgres.url) as database_url:
        settings = service_settings(
            database_url=database_url,
            redis_url=redis.url,
            key_prefix=f"bench-scale-{work_dir.name}:",
            app_name="bench-scale-out",
            ALLOWED_HOSTS="127.0.0.1,localhost,app",
            FORWARDED_ALLOW_IPS="127.0.0.1",
        )
        users = seed.seed_users(services.plain_postgres_url(database_url), count=SEEDED_USERS)
        for name, count, proxied in RUNS:
            servers = [
                server(f"app{n + 1}", settings, work_dir / f"{name[:1]}-app{n + 1}.log")
                for n in range(count)
            ]
            proxy = Proxy(work_dir, [s.port for s in servers]) if proxied else None
            try:
                for replica in servers:
                    replica.start()
                if proxy:
                    proxy.start()
                url = proxy.url if proxy else servers[0].url
                tokens = seed.log_in(url, users[:4])
                seed_file = seed.write_seed_file(
                    work_dir / "seed.json", users=users, tokens=tokens, has_auth=True
                )
                say(f"[{time.strftime('%H:%M:%S')}] {name}: {seconds:g} s")
                runs.append(measure(name, servers, proxy, work_dir, seed_file, seconds))
                say(f"    {runs[-1].requests_per_second} requests/s")
            finally:
                if proxy:
                    proxy.stop()
                for replica in servers:
                    replica.stop()
    return {
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": psutil.cpu_count(),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "users": USERS,
        "seconds": seconds,
        "runs": [asdict(r) for r in runs],
    }


def summary(results: dict[str, Any]) -> str:
    rates = [
        "| run | requests/s | p50 ms | p99 ms | failures | cores busy |",
        "|---|---|---|---|---|---|",
    ]
    costs = [
        "| run | server CPU ms/request | HAProxy CPU ms/request | Locust CPU ms/request |",
        "|---|---|---|---|",
    ]
    for r in results["runs"]:
        rates.append(
            f"| {r['name']} | {r['requests_per_second']} | {r['p50_ms']:g} | {r['p99_ms']:g} | "
            f"{r['failures']} | {r['busy_percent']} % |"
        )
        costs.append(
            f"| {r['name']} | {r['server_cpu_ms_per_request']} | "
            f"{r['proxy_cpu_ms_per_request']} | {r['locust_cpu_ms_per_request']} |"
        )
    low, high = results["load_average"]
    return "\n".join(
        [
            "# Scale-out: one server against two behind HAProxy",
            "",
            # The docs page includes what is between the markers (pymdownx.snippets).
            "<!-- --8<-- [start:figures] -->",
            f"Written by `uv run workshop bench scale-out` on {results['started']}: "
            f"{results['users']} closed-loop Locust users reading a cached user "
            f"(`GET /users/{{id}}`) for {results['seconds']:g} s per run, one uvicorn process "
            f"per server, on {results['cores']} cores. The machine's 1-minute load average "
            f"was {low} before and {high} after (other people's runs shared it).",
            "",
            *rates,
            "",
            "What each process spent of the CPU, per request answered:",
            "",
            *costs,
            "<!-- --8<-- [end:figures] -->",
            "",
        ]
    )


def run_scale_out(seconds: float, baseline: bool, say: Callable[[str], None]) -> int:
    """Measure, write the results folder (and the baseline), say the table; 0 without
    failures."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    work_dir = RESULTS_DIR / f"scale-out-{stamp}"
    work_dir.mkdir(parents=True)
    results = run(seconds, work_dir, say)
    (work_dir / "results.json").write_text(json.dumps(results, indent=1))
    (work_dir / "summary.md").write_text(summary(results))
    if baseline:
        (BASELINE_DIR / "scale-out.json").write_text(json.dumps(results, indent=1))
        (BASELINE_DIR / "scale-out.md").write_text(summary(results))
    say(summary(results))
    return 0 if all(r["failures"] == 0 for r in results["runs"]) else 1
