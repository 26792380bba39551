"""How the runner judges figures: targets, bounds, comparisons, Locust's CSV, token dealing.

No servers here: these read made-up figures, so each rule is pinned down exactly.
"""

import importlib
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.bench import compare, cpu, targets
from harness.bench.locust_run import latest_progress
from harness.bench.results import Figures, RunResult, read_stats, steady_window


def measured(name: str, rps: float, *, p99: float = 10, failures: int = 0, **fields) -> RunResult:
    figures = Figures("", "Aggregated", 1000, failures, rps, 5, 8, p99, 5.0, 50.0)
    values = {"group": "scenario", "server": "final (1 worker)", "workers": 1, "users": 32}
    values.update(fields)
    return RunResult(
        name=name, title=name, seconds=30, status="measured", aggregate=figures, **values
    )


def by_name(results: list[targets.TargetResult]) -> dict[str, targets.TargetResult]:
    return {result.name: result for result in results}


# --- targets --------------------------------------------------------------------------------


def test_throughput_targets_are_shares_of_the_ceiling() -> None:
    runs = [
        measured("ceiling", 8000),
        measured("cached-read", 3300),  # 41 %
        measured("uncached-read", 900),  # 11 %: missed
    ]
    results = by_name(targets.evaluate(runs))
    cached = results["Cached authenticated read vs the bare ceiling (1 worker)"]
    uncached = results["Uncached read vs the bare ceiling (1 worker)"]
    speedup = results["Cache on vs cache off (same read)"]
    assert cached.met is True
    assert "41.2%" in cached.figure
    assert uncached.met is False
    assert uncached.verdict == "MISSED"
    assert speedup.met is True
    assert speedup.figure.startswith("3.67×")


def test_the_journey_is_judged_only_in_the_targets_shape() -> None:
    journey = measured("journey", 900, p99=80, users=64, workers=2)
    results = by_name(targets.evaluate([journey]))
    assert results["Journey p99, 64 users on 2 workers"].met is True
    assert results["Journey without failures"].met is True

    small = measured("journey", 900, p99=80, users=4, workers=2)
    results = by_name(targets.evaluate([small]))
    assert results["Journey p99, 64 users on 2 workers"].met is None
    assert "4 users" in results["Journey p99, 64 users on 2 workers"].note

    slow = measured("journey", 900, p99=130, failures=3, users=64, workers=2)
    results = by_name(targets.evaluate([slow]))
    assert results["Journey p99, 64 users on 2 workers"].met is False
    assert results["Journey without failures"].met is False


def test_a_target_whose_run_is_missing_is_not_judged() -> None:
    results = targets.evaluate([measured("ceiling", 8000)])
    assert len(results) == 5
    assert all(result.met is None and result.figure == "not measured" for result in results)


def test_a_smoke_run_reports_figures_without_verdicts() -> None:
    runs = [measured("ceiling", 8000), measured("cached-read", 100)]
    results = targets.evaluate(runs, judged=False)
    assert all(result.met is None for result in results)
    assert "1.2%" in results[0].figure


# --- what bounded a run ----------------------------------------------------------------------


def cpu_summary(**components: float) -> cpu.CpuSummary:
    parts = dict.fromkeys(cpu.COMPONENTS, 0.0) | components
    return cpu.CpuSummary(
        components=parts,
        server_busiest=components.get("server_busiest", parts["server"]),
        generator_busiest=components.get("generator_busiest", parts["generator"] / 2),
        machine=sum(value for key, value in parts.items() if key in cpu.COMPONENTS) / 2,
        steal=0.0,
        cores=2,
    )


@pytest.mark.parametrize(
    ("components", "expected"),
    [
        ({"server": 97, "generator": 60}, "server CPU: the worker at 97 %"),
        ({"server": 60, "generator": 190, "generator_busiest": 95}, "the load generator"),
        ({"server": 180, "server_busiest": 180}, "thread pool (argon2)"),
        ({"server": 40, "postgres": 92}, "PostgreSQL"),
        ({"server": 70, "generator": 50, "other": 75}, "the machine's CPU"),
        ({"server": 20, "generator": 5}, "waiting, not CPU"),
    ],
)
def test_the_bound_names_the_saturated_component(components: dict, expected: str) -> None:
    assert expected in cpu.bound(cpu_summary(**components), workers=1)


def test_a_paced_run_is_bounded_by_think_time_and_noise_is_named() -> None:
    quiet = cpu.bound(cpu_summary(server=30, generator=10), workers=2, paced=True)
    assert quiet.startswith("the users' think time")
    noisy = cpu.bound(cpu_summary(server=30, generator=10, other=60), workers=2, paced=True)
    assert noisy.endswith("other processes took 60 % of a core meanwhile")


def test_a_window_without_samples_is_reported_as_unknown() -> None:
    assert cpu.summarize([{"time": 10.0}], 100, 130) is None
    assert cpu.bound(None, workers=1).startswith("unknown")


# --- compare mode -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "before", "higher_is_better", "expected"),
    [
        (1100, 1000, True, "+10.0% better"),
        (900, 1000, True, "-10.0% worse"),
        (12, 10, False, "+20.0% worse"),
        (1001, 1000, True, "same"),
        (3, 0, False, "new"),
        (None, 1000, True, "n/a"),
    ],
)
def test_changes_read_in_the_figures_direction(now, before, higher_is_better, expected) -> None:
    assert compare.change(now, before, higher_is_better=higher_is_better) == expected


def test_comparison_rows_cover_every_figure_and_the_share_of_the_ceiling() -> None:
    baseline = [measured("ceiling", 8000), measured("cached-read", 3000)]
    current = [measured("ceiling", 6000), measured("cached-read", 3000), measured("new-run", 5)]
    rows = compare.comparison_rows(current, baseline)
    cached = {row[1]: row for row in rows if row[0] == "cached-read"}
    figures = {"req/s", "p50 ms", "p95 ms", "p99 ms", "failures", "server µs/req", "of ceiling"}
    assert set(cached) == figures
    assert cached["of ceiling"][2:] == ["37.5%", "50.0%", "+33.3% better"]
    assert ["new-run", "", "", "", "not in the baseline"] in rows


# --- Locust's CSV -------------------------------------------------------------------------------

STATS_CSV = """Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,\
Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,\
90%,95%,98%,99%,99.9%,99.99%,100%
GET,/users/{id},900,2,4,4.9,0.4,129.1,15.0,30.04,0.07,4,5,6,7,10,12,15,17,130,130,130
POST,/auth/token,0,0,0,0.0,0,0,0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A
,Aggregated,900,2,4,4.9,0.4,129.1,15.0,30.04,0.07,4,5,6,7,10,12,15,17,130,130,130
"""


def test_locust_stats_are_read_per_endpoint_and_in_aggregate(tmp_path: Path) -> None:
    (tmp_path / "locust_stats.csv").write_text(STATS_CSV)
    aggregate, endpoints = read_stats(tmp_path)
    assert (aggregate.requests, aggregate.failures, aggregate.rps) == (900, 2, 30.0)
    assert (aggregate.p50, aggregate.p95, aggregate.p99) == (4, 12, 17)
    assert [row.label for row in endpoints] == ["GET /users/{id}", "POST /auth/token"]
    assert endpoints[1].p99 is None, "an endpoint without requests has no percentiles"


def test_the_steady_window_starts_when_every_user_runs() -> None:
    history = [
        {"time": 100.0, "users": 0},
        {"time": 101.0, "users": 20},
        {"time": 102.0, "users": 32},
        {"time": 131.0, "users": 32},
        {"time": 132.0, "users": 0},
    ]
    assert steady_window(history, 32) == (102.0, 132.0)


HISTORY_HEADER = (
    "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,"
    "99.9%,99.99%,100%,Total Request Count,Total Failure Count\n"
)


def test_progress_reads_the_latest_rate_even_before_locust_computes_one(tmp_path: Path) -> None:
    history = tmp_path / "locust_stats_history.csv"
    history.write_text(
        HISTORY_HEADER
        + "100,32,,Aggregated,0.0,0.0,3,4,4,5,6,7,8,9,12,12,12,1000,0\n"
        + "102,32,,Aggregated,0.0,0.0,3,4,4,5,6,7,8,9,12,12,12,5000,1\n"
        + "103,0,GET,/ping,0.0,0.0,3,4,4,5,6,7,8,9,12,12,12,5000,1\n"
    )
    assert latest_progress(history) == "  2,000 req/s  p95 7 ms  1 failures  32 users"


# --- dealing token pairs across Locust processes ------------------------------------------------


def test_each_simulated_user_gets_its_own_token_pair(monkeypatch, tmp_path: Path) -> None:
    seed_file = tmp_path / "seed.json"
    tokens = [{"access_token": f"a{i}", "refresh_token": f"r{i}"} for i in range(10)]
    seed = {"password": "p", "has_auth": True, "users": [], "tokens": tokens}
    seed_file.write_text(json.dumps(seed))
    monkeypatch.setenv("BENCH_SEED_FILE", str(seed_file))
    monkeypatch.setenv("BENCH_GENERATOR_PROCESSES", "2")
    dealt = []
    for worker in (0, 1):  # two Locust processes, each with a fresh copy of the module
        sys.modules.pop("harness.bench.scenarios.seeded", None)
        seeded = importlib.import_module("harness.bench.scenarios.seeded")
        environment = SimpleNamespace(runner=SimpleNamespace(worker_index=worker))
        dealt += [seeded.personal_tokens(environment)["access_token"] for _ in range(4)]
    assert sorted(dealt) == sorted(f"a{i}" for i in range(8)), "no pair is dealt twice"
    sys.modules.pop("harness.bench.scenarios.seeded", None)


def test_the_runner_never_imports_locust() -> None:
    importlib.import_module("harness.bench.commands")
    assert "locust" not in sys.modules, "Locust monkey-patches the standard library on import"
