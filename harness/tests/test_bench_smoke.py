"""The benchmark pipeline end to end, briefly: every scenario runs and nothing fails.

`workshop bench run --smoke` (a few seconds, a few users per run) in a subprocess, as a
user types it: Locust never enters this process. Speed is not judged here; the benchmarks
themselves judge it.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.bench import plan
from harness.paths import REPO_ROOT

# A smoke run of every benchmark: minutes.
pytestmark = pytest.mark.slow

SMOKE_TIMEOUT_SECONDS = 300
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RUN_FILES = (
    "locust_stats.csv",
    "locust_stats_history.csv",
    "locust_failures.csv",
    "report.html",
    "cpu.csv",
)


def _benchmarks(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "workshop", "bench", *arguments],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT_SECONDS,
        check=False,
    )


@pytest.fixture(scope="module")
def smoke_folder(postgres_service, redis_service, tmp_path_factory) -> Path:
    """One smoke run for the module; the services fixtures resolve (or embed) the servers."""
    folder = tmp_path_factory.mktemp("benchmarks") / "smoke"
    completed = _benchmarks("run", "--smoke", "--output", str(folder), "--no-compare")
    assert completed.returncode == 0, (
        f"`workshop bench run --smoke` exited {completed.returncode}:\n"
        f"{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}"
    )
    return folder


@pytest.fixture(scope="module")
def smoke_results(smoke_folder: Path) -> dict:
    return json.loads((smoke_folder / "results.json").read_text())


def test_every_run_is_measured_or_its_missing_chapter_named(smoke_results: dict) -> None:
    runs = {run["name"]: run for run in smoke_results["runs"]}
    assert set(runs) == {run.name for run in plan.all_runs()}, "every planned run is reported"
    for planned in plan.all_runs():
        run = runs[planned.name]
        if planned.server.tree.present:
            assert run["status"] == "measured", f"{planned.name}: {run['message']}"
        else:
            assert run["status"] == "skipped", f"{planned.name} has no code tree to serve"
            assert "not in this checkout yet" in run["message"]


def test_no_request_failed(smoke_results: dict) -> None:
    for run in smoke_results["runs"]:
        if run["status"] != "measured":
            continue
        aggregate = run["aggregate"]
        assert aggregate["requests"] > 0, f"{run['name']} sent no requests"
        assert aggregate["failures"] == 0, f"{run['name']} failed: {run['failures']}"
        assert not run["warmup_failed"], f"{run['name']}'s warm-up had failures"


def test_each_run_records_where_the_cpu_went(smoke_results: dict) -> None:
    for run in smoke_results["runs"]:
        if run["status"] != "measured":
            continue
        assert run["cpu"] is not None, f"{run['name']} has no CPU samples in its window"
        assert run["cpu"]["components"]["server"] > 0, f"{run['name']}: server CPU unseen"
        assert run["cpu"]["components"]["generator"] > 0, f"{run['name']}: Locust CPU unseen"
        assert run["bound"], f"{run['name']} does not say what bounded it"


def test_the_results_folder_is_complete(smoke_folder: Path, smoke_results: dict) -> None:
    for name in ("summary.md", "results.json", "machine.json", "machine.md"):
        assert (smoke_folder / name).is_file(), f"{name} is missing"
    for chart in ("scenarios.png", "cpu.png", "timeline.png"):
        data = (smoke_folder / "charts" / chart).read_bytes()
        assert data.startswith(PNG_SIGNATURE), f"charts/{chart} is not a PNG"
    for run in smoke_results["runs"]:
        if run["status"] == "measured":
            for name in RUN_FILES:
                path = smoke_folder / "runs" / run["name"] / name
                assert path.is_file(), f"runs/{run['name']}/{name} is missing"


def test_the_summary_shows_targets_scenarios_and_chapters(smoke_folder: Path) -> None:
    summary = (smoke_folder / "summary.md").read_text()
    for heading in ("## Targets", "## Scenarios", "## The chapters, step by step"):
        assert heading in summary, f"summary.md lacks {heading}"
    assert "Smoke run" in summary, "a smoke run must say its figures are not measurements"
    for run in plan.SCENARIO_RUNS:
        assert f"| {run.name} |" in summary, f"summary.md has no row for {run.name}"
    machine = json.loads((smoke_folder / "machine.json").read_text())
    assert machine["load_before"]["load_average"], "the machine file records the load"
    assert machine["packages"]["locust"] != "not installed"


def test_compare_mode_prints_every_figure(smoke_folder: Path, smoke_results: dict) -> None:
    completed = _benchmarks("compare", str(smoke_folder), "--baseline", str(smoke_folder))
    assert completed.returncode == 0, completed.stderr
    for run in smoke_results["runs"]:
        if run["status"] == "measured":
            assert run["name"] in completed.stdout, f"compare does not show {run['name']}"
    assert "req/s" in completed.stdout
    assert "p99 ms" in completed.stdout
    unchanged = "a folder compared with itself has changed nothing"
    assert "better" not in completed.stdout, unchanged
    assert "worse" not in completed.stdout, unchanged
