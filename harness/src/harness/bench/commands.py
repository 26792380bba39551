"""What `workshop bench` does: run the benchmarks, compare with the baseline, rebuild a summary.

    workshop bench run                        every run, 30 s each: a full results folder
    workshop bench run --smoke                a few seconds, a few users: the pipeline works
    workshop bench run --only cached-read --only uncached-read
    workshop bench compare [FOLDER]           each figure against the committed baseline
    workshop bench report FOLDER              rebuild summary.md and the charts
    workshop bench list                       the runs and what they measure

The command line itself is `workshop/harness_commands.py` (typer); each function here takes
its options as arguments, writes through `out` and `err`, and returns the exit status:
0 done; 1 a run failed or had failed requests (or, with require_targets, a target was
missed); 2 a usage error; 3 PostgreSQL or Redis is not available.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import localservices as services
from harness.bench import compare, plan, report
from harness.bench.results import load_results
from harness.bench.runner import Invocation, prepare_output, run_benchmarks

OK, FAILED, USAGE, ENVIRONMENT = 0, 1, 2, 3

Say = Callable[[str], None]


@dataclass(frozen=True)
class RunOptions:
    smoke: bool = False
    only: list[str] | None = None
    duration: int | None = None
    warmup: int | None = None
    users: int | None = None
    processes: int | None = None
    wait_quiet: int | None = None
    output: Path | None = None
    replace_output: bool = False
    require_targets: bool = False
    no_compare: bool = False


def _timing(options: RunOptions) -> plan.Timing:
    timing = plan.SMOKE_TIMING if options.smoke else plan.Timing()
    overrides = {
        "duration_seconds": options.duration,
        "warmup_seconds": options.warmup,
        "users": options.users,
        "generator_processes": options.processes,
        "quiet_wait_seconds": options.wait_quiet,
    }
    return replace(timing, **{key: value for key, value in overrides.items() if value})


def latest_results() -> Path | None:
    if not plan.RESULTS_DIR.is_dir():
        return None
    folders = [
        path
        for path in plan.RESULTS_DIR.iterdir()
        if path.is_dir() and path != plan.BASELINE_DIR and (path / "results.json").is_file()
    ]
    return max(folders, key=lambda path: path.stat().st_mtime, default=None)


def run(options: RunOptions, out: Say, err: Say) -> int:
    """Run the benchmarks and write a results folder."""
    timing = _timing(options)
    try:
        runs = plan.select_runs(options.only, timing)
    except KeyError as error:
        err(str(error.args[0]))
        return USAGE
    stamp = time.strftime("%Y-%m-%dT%H%M%SZ", time.gmtime())
    default = plan.RESULTS_DIR / (stamp + ("-smoke" if options.smoke else ""))
    try:
        output_dir = prepare_output(options.output or default, replace=options.replace_output)
    except FileExistsError as error:
        err(str(error))
        return USAGE
    invocation = Invocation(runs, timing, output_dir, smoke=options.smoke)
    try:
        results = run_benchmarks(invocation, out)
    except services.ServiceUnavailable as error:
        err(str(error))
        return ENVIRONMENT
    out(f"Results: {output_dir / report.SUMMARY_FILE}")
    document, _ = load_results(output_dir)
    for target in document["targets"]:
        out(f"  {target['verdict']:>10}  {target['name']}: {target['figure']}")
    has_baseline = (plan.BASELINE_DIR / "results.json").is_file()
    is_baseline = output_dir.resolve() == plan.BASELINE_DIR.resolve()
    if has_baseline and not is_baseline and not options.no_compare:
        out("")
        out(compare.compare(output_dir, plan.BASELINE_DIR))
    broken = [run for run in results if run.status == "failed"]
    failing = [run for run in results if run.measured and run.figures.failures]
    for run in broken:
        err(f"{run.name} failed: {run.message}")
    for run in failing:
        err(f"{run.name} had {run.figures.failures} failed requests (see summary.md)")
    missed = [target for target in document["targets"] if target["met"] is False]
    if broken or failing or (options.require_targets and missed):
        return FAILED
    return OK


def compare_with_baseline(folder: Path | None, baseline: Path | None, out: Say, err: Say) -> int:
    """Each figure of a results folder (default: the latest) against the baseline."""
    folder = folder or latest_results()
    if folder is None:
        err("No results folder yet: run `workshop bench run` first.")
        return USAGE
    try:
        out(compare.compare(folder, baseline or plan.BASELINE_DIR))
    except FileNotFoundError as error:
        err(str(error))
        return USAGE
    return OK


def rebuild_report(folder: Path, out: Say, err: Say) -> int:
    """Write a results folder's summary.md and charts again from its results.json."""
    try:
        document, runs = load_results(folder)
    except FileNotFoundError as error:
        err(str(error))
        return USAGE
    out(f"Wrote {report.write_report(folder, document, runs)}")
    return OK


def list_runs(out: Say) -> int:
    """The runs and what each measures."""
    for run in plan.all_runs():
        out(f"{run.name:24} {run.server.label:34} {run.users:3} users  {run.title}")
    return OK
