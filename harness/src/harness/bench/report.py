"""summary.md: the tables, the targets, what bounded each run, and what the figures say.

Everything here is computed from `results.json`, so a summary can be rebuilt from a results
folder at any time (`python -m benchmarks report DIR`) and never disagrees with its data.
The docs site includes the committed baseline's summary as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.bench import charts
from harness.bench.locust_run import CSV_PREFIX, HTML_REPORT
from harness.bench.plan import CACHED_READ_RUN, CEILING_RUN, CHAPTERS, UNCACHED_READ_RUN
from harness.bench.results import RunResult, read_history
from harness.bench.targets import TargetResult

SUMMARY_FILE = "summary.md"
CHARTS_DIR = "charts"
RUNS_DIR = "runs"
CPU_SAMPLES = "cpu.csv"

# What each step of the workshop adds to the read the chapter comparison makes.
CHAPTER_STEPS = {
    "02-database": "PostgreSQL: every read is a query",
    "03-cache": "+ Redis cache-aside: reads come from Redis",
    "04-auth": "+ a bearer token on every request: decode, the login's state, the caller",
    "05-errors": "+ request ids, problem details, JSON logs with an access line",
    "06-testing": "no change to the service: the chapter writes its tests",
    "07-deployment": "+ readiness and a graceful shutdown: no cost on a read",
    "08-performance": "+ metrics, the one-MGET hot path: the finished service's code",
    "final": "the finished service, served from final/ (the cached-read run)",
}


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} %"


def _rps(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _share(run: RunResult, ceiling: RunResult | None) -> str:
    if not (run.measured and ceiling and ceiling.measured):
        return "–"
    share = run.figures.rps / ceiling.figures.rps
    return "< 1%" if share < 0.005 else f"{share:.0%}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def _status_cell(run: RunResult) -> str:
    return "skipped: " + run.message if run.status == "skipped" else "FAILED: " + run.message


# --- sections ---------------------------------------------------------------------------------


def _header(document: dict[str, Any]) -> list[str]:
    machine, before = document["machine"], document["load_before"]
    timing = document["timing"]
    load = ", ".join(f"{value:.2f}" for value in before["load_average"])
    quiet = "quiet" if before["quiet"] else "NOT quiet"
    lines = [
        "# Benchmark results",
        "",
        f"Taken {document['started_at']} on {machine['cpu_model']} "
        f"({machine['logical_cores']} cores, {machine['memory_gib']} GiB), commit "
        f"`{machine['git_commit']}`. The machine was **{quiet}** before the run "
        f"(load average {load}; CPU {before['cpu_busy_percent']:.0f} % busy). "
        f"Each run: {timing['warmup_seconds']} s of warm-up, then "
        f"{timing['duration_seconds']} s measured, Locust in "
        f"{timing['generator_processes']} processes"
        + (
            f", each run waiting up to {timing['quiet_wait_seconds']} s for a quiet machine"
            if timing.get("quiet_wait_seconds")
            else ""
        )
        + ". Details: [machine.md](machine.md).",
        "",
    ]
    if document.get("smoke"):
        lines += [
            "> **Smoke run**: a few seconds with a few users, to prove the pipeline. "
            "Its figures are not measurements and the targets are not judged.",
            "",
        ]
    return lines


def _targets(targets: list[TargetResult]) -> list[str]:
    rows = [
        [target.name, target.threshold, target.figure, target.verdict + _note(target)]
        for target in targets
    ]
    return ["## Targets", "", *_table(["target", "threshold", "figure", "verdict"], rows), ""]


def _note(target: TargetResult) -> str:
    return f" ({target.note})" if target.note else ""


def _scenarios(runs: list[RunResult], ceiling: RunResult | None) -> list[str]:
    rows = []
    for run in runs:
        if not run.measured:
            rows.append([run.name, run.title, run.server, str(run.users), _status_cell(run)])
            rows[-1] += [""] * 7
            continue
        figures = run.figures
        rows.append(
            [
                run.name,
                run.title,
                run.server,
                str(run.users),
                _rps(figures.rps),
                _share(run, ceiling),
                _ms(figures.p50),
                _ms(figures.p95),
                _ms(figures.p99),
                f"{figures.failures:,}",
                run.bound,
            ]
        )
    header = ["run", "what", "server", "users", "req/s", "of ceiling", "p50 ms", "p95 ms"]
    header += ["p99 ms", "failures", "bounded by"]
    return [
        "## Scenarios",
        "",
        *_table(header, rows),
        "",
        f"![Throughput and latency per run]({CHARTS_DIR}/{charts.SCENARIOS_PNG})",
        "",
    ]


def _chapters(runs: list[RunResult], by_name: dict[str, RunResult]) -> list[str]:
    chapter_runs = [run for run in runs if run.group == "chapter"]
    if not chapter_runs:
        return []
    final = by_name.get(CACHED_READ_RUN)
    ceiling = by_name.get(CEILING_RUN)
    rows = []
    for label, run in [(run.name.removeprefix("chapter-"), run) for run in chapter_runs] + [
        ("final", final)
    ]:
        step = CHAPTER_STEPS.get(label, "")
        if run is None:
            rows.append([label, step, "not run", "", "", "", "", ""])
        elif not run.measured:
            rows.append([label, step, _status_cell(run), "", "", "", "", ""])
        else:
            figures = run.figures
            rows.append(
                [
                    label,
                    step,
                    _rps(figures.rps),
                    _share(run, ceiling),
                    _ms(figures.p50),
                    _ms(figures.p99),
                    f"{figures.failures:,}",
                    run.bound,
                ]
            )
    header = ["chapter", "what it adds", "req/s", "of ceiling", "p50 ms", "p99 ms", "failures"]
    return [
        "## The chapters, step by step",
        "",
        "The same `GET /users/{id}` against each chapter's solution, one worker each, with a "
        "bearer token from chapter 04 on, when reading a user needs one (final's row is the "
        "cached-read run).",
        "",
        *_table([*header, "bounded by"], rows),
        "",
    ]


def _cpu(runs: list[RunResult]) -> list[str]:
    rows = []
    for run in runs:
        if not run.cpu:
            continue
        parts = run.cpu["components"]
        rows.append(
            [run.name]
            + [f"{parts[name]:.0f}" for name in ("server", "generator", "postgres", "redis")]
            + [f"{parts['runner']:.0f}", f"{parts['other']:.0f}"]
            + [f"{run.cpu['server_busiest_process']:.0f}"]
            + [f"{run.cpu['machine_percent_of_all_cores']:.0f} %"]
            + [_ms(run.server_cpu_per_request_us)]
            + [_percent(run.busy_before_percent)]
        )
    header = ["run", "server", "Locust", "PostgreSQL", "Redis", "runner", "other"]
    header += ["busiest server process", "machine busy", "server µs per request"]
    header += ["machine busy before"]
    return [
        "## CPU per component",
        "",
        "Average % of one core over the measured window (100 = one core busy). PostgreSQL "
        "counts the backends serving this run's databases; Redis is the whole server; "
        "`other` is everything else on the machine, other people's work included. `server "
        "µs per request` is the server's CPU time per answered request: what one request "
        "costs. The last column is how busy the machine was just before the run started.",
        "",
        *_table(header, rows),
        "",
        f"![CPU per component]({CHARTS_DIR}/{charts.CPU_PNG})",
        "",
    ]


def _endpoints(runs: list[RunResult]) -> list[str]:
    rows = []
    for run in runs:
        for figures in run.endpoints:
            rows.append(
                [
                    run.name,
                    figures.label,
                    f"{figures.requests:,}",
                    f"{figures.failures:,}",
                    _rps(figures.rps),
                    _ms(figures.p50),
                    _ms(figures.p95),
                    _ms(figures.p99),
                    _ms(figures.max_ms),
                ]
            )
    header = ["run", "endpoint", "requests", "failures", "req/s", "p50 ms", "p95 ms", "p99 ms"]
    return ["## Per endpoint", "", *_table([*header, "max ms"], rows), ""]


def _failures(runs: list[RunResult]) -> list[str]:
    rows = [
        [run.name, f"{row['Method']} {row['Name']}", row["Error"][:160], row["Occurrences"]]
        for run in runs
        for row in run.failures
    ]
    warmups = [run.name for run in runs if run.warmup_failed]
    if not rows and not warmups:
        return ["## Failures", "", "None.", ""]
    lines = ["## Failures", ""]
    if rows:
        lines += _table(["run", "endpoint", "error", "occurrences"], rows)
    if warmups:
        lines += ["", f"The warm-up of {', '.join(warmups)} had failures (see its locust.log)."]
    return [*lines, ""]


def _what_they_say(by_name: dict[str, RunResult]) -> list[str]:
    """Sentences computed from the figures: what this run teaches."""
    said = []
    ceiling, cached = by_name.get(CEILING_RUN), by_name.get(CACHED_READ_RUN)
    uncached = by_name.get(UNCACHED_READ_RUN)
    if ceiling and cached and ceiling.measured and cached.measured:
        costs = ""
        if cached.server_cpu_per_request_us and ceiling.server_cpu_per_request_us:
            costs = (
                f" (the server spends {cached.server_cpu_per_request_us:,.0f} µs of CPU per "
                f"request against {ceiling.server_cpu_per_request_us:,.0f} µs)"
            )
        share = cached.figures.rps / ceiling.figures.rps
        said.append(
            f"The finished service answers an authenticated, cached read at "
            f"{share:.0%} of the rate plain FastAPI answers a constant"
            f"{costs}: the rest is the token check, one Redis round trip, FastAPI's routing "
            "and dependencies, logging and middleware."
        )
    if cached and uncached and cached.measured and uncached.measured:
        said.append(
            f"The cache makes that read {cached.figures.rps / uncached.figures.rps:.1f}× faster "
            f"(p50 {_ms(cached.figures.p50)} ms against {_ms(uncached.figures.p50)} ms): "
            "Redis replaces two primary-key reads from PostgreSQL (the caller and the user)."
        )
    login = by_name.get("login")
    if login and login.measured:
        said.append(
            f"Login runs at {login.rps:,.1f} per second: each is one argon2 verify, slow on "
            "purpose, so the figure measures password hashing, not the service."
        )
    chapters = [by_name.get(f"chapter-{tree.label}") for tree in CHAPTERS]
    measured = [run for run in chapters if run and run.measured]
    if len(measured) >= 2:
        steps = ", ".join(f"{run.name.removeprefix('chapter-')} {run.rps:,.0f}" for run in measured)
        said.append(
            f"Chapter by chapter (req/s): {steps}; final {_rps(cached.rps if cached else None)}."
        )
    if not said:
        return []
    return ["## What the figures say", "", *[f"- {sentence}" for sentence in said], ""]


def _files(runs: list[RunResult]) -> list[str]:
    rows = []
    for run in runs:
        if not run.measured:
            continue
        base = f"{RUNS_DIR}/{run.name}"
        rows.append(
            [
                run.name,
                f"[HTML]({base}/{HTML_REPORT})",
                f"[stats]({base}/{CSV_PREFIX}_stats.csv) · "
                f"[history]({base}/{CSV_PREFIX}_stats_history.csv) · "
                f"[failures]({base}/{CSV_PREFIX}_failures.csv)",
                f"[samples]({base}/{CPU_SAMPLES})",
            ]
        )
    return [
        "## Files",
        "",
        *_table(["run", "Locust report", "Locust CSV", "CPU"], rows),
        "",
        f"![Throughput and latency over time]({CHARTS_DIR}/{charts.TIMELINE_PNG})",
        "",
    ]


# --- the whole folder ------------------------------------------------------------------------


def write_report(output_dir: Path, document: dict[str, Any], runs: list[RunResult]) -> Path:
    """Draw the charts and write summary.md into a results folder."""
    by_name = {run.name: run for run in runs}
    ceiling = by_name.get(CEILING_RUN)
    measured = [run for run in runs if run.measured]
    chart_dir = output_dir / CHARTS_DIR
    chart_dir.mkdir(exist_ok=True)
    ceiling_rps = ceiling.rps if ceiling and ceiling.measured else None
    charts.scenario_bars(measured, ceiling_rps, chart_dir / charts.SCENARIOS_PNG)
    charts.cpu_bars(measured, chart_dir / charts.CPU_PNG)
    histories = {run.name: read_history(output_dir / RUNS_DIR / run.name) for run in measured}
    charts.timelines(measured, histories, chart_dir / charts.TIMELINE_PNG)

    targets = [TargetResult(**_target_fields(t)) for t in document["targets"]]
    scenario_runs = [run for run in runs if run.group == "scenario"]
    lines = [
        *_header(document),
        *_targets(targets),
        *_what_they_say(by_name),
        *_scenarios(scenario_runs, ceiling),
        *_chapters(runs, by_name),
        *_cpu(measured),
        *_endpoints(measured),
        *_failures(runs),
        *_files(runs),
    ]
    path = output_dir / SUMMARY_FILE
    path.write_text("\n".join(lines).rstrip() + "\n")
    return path


def _target_fields(target: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in target.items() if key != "verdict"}
