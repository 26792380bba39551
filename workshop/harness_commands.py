"""`workshop bench` and `workshop reliability`: the measurement harness's command line.

The work is the harness's (`harness.bench.commands`, `harness.reliability.run`); this module
only reads the options. The harness is imported when a command runs, never at start-up, so
the learner's commands stay fast and the harness never needs the `workshop` package.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer

from workshop.console import err, out

USAGE, ENVIRONMENT = 2, 3


def _harness(module: str) -> ModuleType:
    """A module of the harness, which a learner's lean install leaves out."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        err(
            f"The benchmarks and the reliability suite need the authors' tools ({error.name} "
            "is not installed): run `uv sync --all-groups`, then try again."
        )
        raise typer.Exit(ENVIRONMENT) from error


bench = typer.Typer(
    help="The Locust benchmarks of the finished service and the chapters.",
    no_args_is_help=True,
)


@bench.command("run")
def bench_run(
    smoke: Annotated[bool, typer.Option(help="A few seconds and users per run.")] = False,
    only: Annotated[
        list[str] | None,
        typer.Option(metavar="RUN", help="Only this run; repeat for more (see `list`)."),
    ] = None,
    duration: Annotated[int | None, typer.Option(help="Measured seconds per run.")] = None,
    warmup: Annotated[int | None, typer.Option(help="Warm-up seconds per run.")] = None,
    users: Annotated[int | None, typer.Option(help="Users of every run.")] = None,
    processes: Annotated[
        int | None, typer.Option(help="Locust worker processes (default 2).")
    ] = None,
    wait_quiet: Annotated[
        int | None,
        typer.Option(help="Before each run, wait up to this many seconds for a quiet machine."),
    ] = None,
    output: Annotated[Path | None, typer.Option(help="The results folder to write.")] = None,
    replace: Annotated[bool, typer.Option(help="Replace an existing --output.")] = False,
    require_targets: Annotated[bool, typer.Option(help="Exit 1 when a target is missed.")] = False,
    no_compare: Annotated[
        bool, typer.Option(help="Do not compare with the baseline at the end.")
    ] = False,
) -> None:
    """Run the benchmarks and write a results folder under benchmarks/results/."""
    commands = _harness("harness.bench.commands")
    options = commands.RunOptions(
        smoke=smoke,
        only=only,
        duration=duration,
        warmup=warmup,
        users=users,
        processes=processes,
        wait_quiet=wait_quiet,
        output=output,
        replace_output=replace,
        require_targets=require_targets,
        no_compare=no_compare,
    )
    raise typer.Exit(commands.run(options, out, err))


@bench.command("compare")
def bench_compare(
    folder: Annotated[
        Path | None, typer.Argument(help="A results folder (default: the latest).")
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option(help="The baseline (default: the committed one).")
    ] = None,
) -> None:
    """Each figure of a results folder against the baseline."""
    commands = _harness("harness.bench.commands")
    raise typer.Exit(commands.compare_with_baseline(folder, baseline, out, err))


@bench.command("report")
def bench_report(folder: Annotated[Path, typer.Argument(help="A results folder.")]) -> None:
    """Rebuild a results folder's summary.md and charts from its results.json."""
    commands = _harness("harness.bench.commands")
    raise typer.Exit(commands.rebuild_report(folder, out, err))


@bench.command("scale-out")
def bench_scale_out(
    seconds: Annotated[float, typer.Option(help="Measured seconds per run.")] = 20,
    baseline: Annotated[
        bool, typer.Option(help="Also write benchmarks/results/baseline/scale-out.md.")
    ] = False,
) -> None:
    """One server against two behind HAProxy, with each one's CPU per request."""
    scale_out = _harness("harness.bench.scale_out")
    raise typer.Exit(scale_out.run_scale_out(seconds, baseline, out))


@bench.command("list")
def bench_list() -> None:
    """The runs and what each measures."""
    commands = _harness("harness.bench.commands")
    raise typer.Exit(commands.list_runs(out))


def reliability(
    checks: Annotated[
        list[str] | None,
        typer.Argument(help="Some of fuzz, attacks, faults, soak, replicas (default: all)."),
    ] = None,
    quick: Annotated[bool, typer.Option(help="Every check briefly (a few minutes).")] = False,
    output: Annotated[
        Path | None, typer.Option(help="The page to write (default: final/RELIABILITY.md).")
    ] = None,
    render: Annotated[
        Path | None,
        typer.Option(metavar="RESULTS", help="Only write the page again from a results.json."),
    ] = None,
    update: Annotated[
        bool,
        typer.Option(help="Replace only the sections of the checks run; keep the rest."),
    ] = False,
) -> None:
    """The reliability suite's long forms: fuzzing, attacks, faults, a soak and replicas
    behind a load balancer; writes final/RELIABILITY.md (about 17 minutes, --quick a few)."""
    run = _harness("harness.reliability.run")
    page = output or run.DEFAULT_OUTPUT
    if render is not None:
        raise typer.Exit(run.render_page(render, page, update_only=update))
    arguments = [
        *(checks or []),
        *(["--quick"] if quick else []),
        *(["--update"] if update else []),
    ]
    arguments += [f"--output {output}"] if output else []
    try:
        status = run.run_suite(
            list(checks or []), quick=quick, output=page, arguments=arguments, update_only=update
        )
    except run.UnknownChecks as error:
        err(str(error))
        raise typer.Exit(USAGE) from error
    raise typer.Exit(status)
