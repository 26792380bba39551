"""`python -m benchmarks`: run the benchmarks, compare with the baseline, rebuild a summary.

    python -m benchmarks run                  every run, 30 s each: a full results folder
    python -m benchmarks run --smoke          a few seconds, a few users: the pipeline works
    python -m benchmarks run --only cached-read uncached-read
    python -m benchmarks compare [FOLDER]     each figure against the committed baseline
    python -m benchmarks report FOLDER        rebuild summary.md and the charts
    python -m benchmarks list                 the runs and what they measure

Exit status: 0 done; 1 a run failed or had failed requests (or, with --require-targets, a
target was missed); 2 a usage error; 3 PostgreSQL or Redis is not available.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import localservices as services
from benchmarks import compare, plan, report
from benchmarks.results import load_results
from benchmarks.runner import Invocation, prepare_output, run_benchmarks
from workshop.console import err, out

OK, FAILED, USAGE, ENVIRONMENT = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="The workshop's Locust benchmarks."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the benchmarks and write a results folder")
    run.add_argument("--smoke", action="store_true", help="a few seconds and users per run")
    run.add_argument("--only", nargs="+", metavar="RUN", help="these runs only (see `list`)")
    run.add_argument("--duration", type=int, metavar="S", help="measured seconds per run")
    run.add_argument("--warmup", type=int, metavar="S", help="warm-up seconds per run")
    run.add_argument("--users", type=int, metavar="N", help="users of every run")
    run.add_argument(
        "--processes", type=int, metavar="N", help="Locust worker processes (default 2)"
    )
    run.add_argument(
        "--wait-quiet",
        type=int,
        metavar="S",
        help="before each run, wait up to S seconds for the machine to go quiet",
    )
    run.add_argument("--output", type=Path, metavar="DIR", help="the results folder to write")
    run.add_argument("--replace", action="store_true", help="replace an existing --output")
    run.add_argument(
        "--require-targets", action="store_true", help="exit 1 when a target is missed"
    )
    run.add_argument(
        "--no-compare", action="store_true", help="do not compare with the baseline at the end"
    )

    compare_command = commands.add_parser("compare", help="compare a results folder")
    compare_command.add_argument(
        "folder", nargs="?", type=Path, help="a results folder (default: the latest)"
    )
    compare_command.add_argument("--baseline", type=Path, default=plan.BASELINE_DIR)

    report_command = commands.add_parser("report", help="rebuild summary.md and the charts")
    report_command.add_argument("folder", type=Path)

    commands.add_parser("list", help="the runs and what they measure")
    return parser


def _timing(arguments: argparse.Namespace) -> plan.Timing:
    timing = plan.SMOKE_TIMING if arguments.smoke else plan.Timing()
    overrides = {
        "duration_seconds": arguments.duration,
        "warmup_seconds": arguments.warmup,
        "users": arguments.users,
        "generator_processes": arguments.processes,
        "quiet_wait_seconds": arguments.wait_quiet,
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


def _run(arguments: argparse.Namespace) -> int:
    timing = _timing(arguments)
    try:
        runs = plan.select_runs(arguments.only, timing)
    except KeyError as error:
        err(str(error.args[0]))
        return USAGE
    stamp = time.strftime("%Y-%m-%dT%H%M%SZ", time.gmtime())
    default = plan.RESULTS_DIR / (stamp + ("-smoke" if arguments.smoke else ""))
    try:
        output_dir = prepare_output(arguments.output or default, replace=arguments.replace)
    except FileExistsError as error:
        err(str(error))
        return USAGE
    invocation = Invocation(runs, timing, output_dir, smoke=arguments.smoke)
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
    if has_baseline and not is_baseline and not arguments.no_compare:
        out("")
        out(compare.compare(output_dir, plan.BASELINE_DIR))
    broken = [run for run in results if run.status == "failed"]
    failing = [run for run in results if run.measured and run.aggregate.failures]
    for run in broken:
        err(f"{run.name} failed: {run.message}")
    for run in failing:
        err(f"{run.name} had {run.aggregate.failures} failed requests (see summary.md)")
    missed = [target for target in document["targets"] if target["met"] is False]
    if broken or failing or (arguments.require_targets and missed):
        return FAILED
    return OK


def _compare(arguments: argparse.Namespace) -> int:
    folder = arguments.folder or latest_results()
    if folder is None:
        err("No results folder yet: run `python -m benchmarks run` first.")
        return USAGE
    try:
        out(compare.compare(folder, arguments.baseline))
    except FileNotFoundError as error:
        err(str(error))
        return USAGE
    return OK


def _report(arguments: argparse.Namespace) -> int:
    try:
        document, runs = load_results(arguments.folder)
    except FileNotFoundError as error:
        err(str(error))
        return USAGE
    out(f"Wrote {report.write_report(arguments.folder, document, runs)}")
    return OK


def _list() -> int:
    for run in plan.all_runs():
        out(f"{run.name:24} {run.server.label:34} {run.users:3} users  {run.title}")
    return OK


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    if arguments.command == "run":
        return _run(arguments)
    if arguments.command == "compare":
        return _compare(arguments)
    if arguments.command == "report":
        return _report(arguments)
    return _list()


if __name__ == "__main__":
    sys.exit(main())
