"""The `workshop` command: where you stand, checks, hints, diffs, resets, the doctor and more.

Exit codes: 0 all good; 1 the code fails its checks; 2 a usage error; 3 the environment is
broken (a service is missing, a dependency is not installed). Without a terminal the output
is plain text.
"""

from __future__ import annotations

import difflib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

import localservices as services
from workshop import checking, contract, doctor, harness_commands, schedule
from workshop import serve as serving
from workshop.checking import CheckRequest, CheckResult
from workshop.console import clear, command, err, heading, mark, out
from workshop.manifest import SERVICES, Chapter, Manifest, ManifestError, load_manifest
from workshop.progress import Progress, load_progress
from workshop.report import current_chapter, render_check, render_status, render_summary
from workshop.watching import watch_and_check

OK, FAILING, USAGE, ENVIRONMENT = 0, 1, 2, 3

app = typer.Typer(
    add_completion=False,
    invoke_without_command=True,
    pretty_exceptions_enable=False,
    help="The FastAPI production workshop: check your chapters, get hints, reset, serve.",
    epilog="Exit codes: 0 all good, 1 your code fails its checks, 2 a usage error, "
    "3 your environment is broken.",
)
dev = typer.Typer(help="For the workshop's authors.", no_args_is_help=True)
app.add_typer(dev, name="dev")

ChapterArgument = Annotated[str, typer.Argument(help="A chapter: its number (01) or id (config).")]
ExerciseArgument = Annotated[
    str | None, typer.Argument(help="An exercise: its name (settings), id or number.")
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


# --- shared steps -----------------------------------------------------------------------------


def _manifest() -> Manifest:
    try:
        return load_manifest()
    except ManifestError as error:
        err(f"The manifest is broken: {error}")
        raise typer.Exit(ENVIRONMENT) from error


def _lookup(manifest: Manifest, reference: str) -> Chapter:
    try:
        return manifest.chapter(reference)
    except KeyError as error:
        err(str(error.args[0]))
        raise typer.Exit(USAGE) from error


def _chapter(manifest: Manifest, reference: str) -> Chapter:
    """A chapter the learner can work on: declared in the manifest and present on disk."""
    chapter = _lookup(manifest, reference)
    if not (manifest.root / chapter.directory).is_dir():
        err(f"Chapter {chapter.number} ({chapter.id}) is not in this checkout yet.")
        raise typer.Exit(USAGE)
    return chapter


def _exercise(chapter: Chapter, reference: str):
    try:
        return chapter.exercise(reference)
    except KeyError as error:
        err(str(error.args[0]))
        raise typer.Exit(USAGE) from error


def _service_env(needed: tuple[str, ...]) -> dict[str, str]:
    """Resolve the services once, here in the parent; exit 3 with the fix when one is missing."""
    try:
        found = checking.resolve_services(needed)
    except services.ServiceUnavailable as error:
        err(str(error))
        err(
            "This is your environment, not your code: "
            f"{command('uv run workshop doctor')} says more."
        )
        raise typer.Exit(ENVIRONMENT) from error
    return checking.service_environment(found)


def _run_check(manifest: Manifest, chapter: Chapter, pytest_args: list[str]) -> CheckResult:
    env = _service_env(chapter.services)
    request = CheckRequest(chapter, manifest.root / chapter.directory, env, tuple(pytest_args))
    result = checking.run_check(request)
    if not (result.environment_error or result.crashed):
        progress = load_progress(manifest.root)
        for exercise_result in result.exercises:
            if exercise_result.status != "not run":
                progress.record(
                    exercise_result.exercise.id, passed=exercise_result.status == "passed"
                )
        progress.save()
    return result


def _exit_code(result: CheckResult) -> int:
    if result.environment_error:
        return ENVIRONMENT
    if result.selected_nothing:
        return USAGE  # the learner's selection was wrong, not the code
    return OK if result.passed else FAILING


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        err(f"{question} Run this in a terminal to answer, or pass --yes.")
        raise typer.Exit(USAGE)
    if not typer.confirm(question, default=False):
        out("Nothing changed.")
        raise typer.Exit(OK)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )


# --- for learners -----------------------------------------------------------------------------


@app.callback()
def main_callback(context: typer.Context) -> None:
    """With no command: `workshop status`."""
    if context.invoked_subcommand is None:
        status(check=True)


@app.command()
def status(
    check: Annotated[
        bool, typer.Option("--check/--no-check", help="Check the current chapter first.")
    ] = True,
) -> None:
    """Where you stand: every chapter, and your current chapter checked."""
    manifest = _manifest()
    progress = load_progress(manifest.root)
    current = current_chapter(manifest, progress)
    try:
        result = _run_check(manifest, current, []) if check and current else None
    except typer.Exit:
        render_status(manifest, progress, current)  # where they stand, despite the environment
        raise
    render_status(manifest, load_progress(manifest.root), current)
    if result is None:
        raise typer.Exit(OK)
    out()
    render_check(result)
    out()
    render_summary(result)
    started = any(progress.of(ex.id).status != "not checked" for ex in current.exercises)
    if not started and not result.passed:
        out(
            f"How to start: read {current.directory}/README.md, then solve the exercises in "
            f"order. {command(f'uv run workshop watch {current.number}')} re-checks each time "
            f"you save; {command(f'uv run workshop hint {current.number}')} gives a hint."
        )
    raise typer.Exit(ENVIRONMENT if result.environment_error else OK)


@app.command(context_settings={"ignore_unknown_options": True})
def check(
    chapter: ChapterArgument,
    pytest_args: Annotated[
        list[str] | None, typer.Argument(help="Extra pytest arguments, after `--`.")
    ] = None,
) -> None:
    """Run a chapter's tests on your code: a report per exercise."""
    manifest = _manifest()
    selected = _chapter(manifest, chapter)
    result = _run_check(manifest, selected, pytest_args or [])
    render_check(result)
    out()
    render_summary(result)
    raise typer.Exit(_exit_code(result))


@app.command()
def watch(
    chapter: ChapterArgument,
    poll: Annotated[
        bool, typer.Option(help="Poll for changes (for network or VM folders).")
    ] = False,
) -> None:
    """Check a chapter, then again every time you save a file in it."""
    manifest = _manifest()
    selected = _chapter(manifest, chapter)

    def check_once() -> None:
        clear()
        result = _run_check(manifest, selected, [])
        render_check(result)
        out()
        render_summary(result)
        out(f"Watching {selected.directory} for changes; Ctrl-C stops.", style="dim")

    try:
        watch_and_check(manifest.root / selected.directory, check_once, poll=poll)
    except KeyboardInterrupt:
        raise typer.Exit(OK) from None


@app.command()
def hint(chapter: ChapterArgument, exercise: ExerciseArgument = None) -> None:
    """The next hint for an exercise (the first unfinished one unless you name it)."""
    manifest = _manifest()
    selected = _chapter(manifest, chapter)
    progress = load_progress(manifest.root)
    if exercise:
        chosen = _exercise(selected, exercise)
    else:
        unfinished = [ex for ex in selected.exercises if progress.of(ex.id).status != "passed"]
        chosen = (unfinished or list(selected.exercises))[0]
    entry = progress.entry(chosen.id)
    entry.hints_shown = min(entry.hints_shown + 1, len(chosen.hints))
    progress.save()
    heading(f"{chosen.id}: {chosen.title}")
    out(f"Files: {', '.join(f'{selected.directory}/{path}' for path in chosen.files)}")
    for number, text in enumerate(chosen.hints[: entry.hints_shown], start=1):
        out()
        out(f"Hint {number} of {len(chosen.hints)}:", style="bold")
        out(f"  {text}")
    out()
    if entry.hints_shown < len(chosen.hints):
        out(
            f"Run {command(f'uv run workshop hint {selected.number} {chosen.name}')} again "
            "for the next hint."
        )
    else:
        out(
            "That was the last hint. Compare with the solution: "
            f"{command(f'uv run workshop diff {selected.number} {chosen.name}')}."
        )


@app.command()
def diff(chapter: ChapterArgument, exercise: ExerciseArgument = None) -> None:
    """Your code against the solution (one exercise's files, or the whole chapter)."""
    manifest = _manifest()
    selected = _chapter(manifest, chapter)
    workspace = manifest.root / selected.directory
    solution = manifest.root / selected.solution_directory
    if exercise:
        paths = list(_exercise(selected, exercise).files)
    else:
        mine = contract.code_files(workspace, workspace=True)
        paths = sorted(mine.keys() | contract.code_files(solution).keys())
    same = []
    for path in paths:
        yours = _lines(workspace / path)
        theirs = _lines(solution / path)
        if yours == theirs:
            same.append(path)
            continue
        for line in difflib.unified_diff(
            yours,
            theirs,
            f"yours: {selected.directory}/{path}",
            f"solution: {selected.solution_directory}/{path}",
        ):
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else None
            out(line.rstrip("\n"), style=style)
    if same:
        out(f"Same as the solution: {', '.join(same)}", style="dim")


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True) if path.is_file() else []


@app.command()
def reset(chapter: ChapterArgument, yes: YesOption = False) -> None:
    """Put a chapter back to its starter, as committed (your changes in it are lost)."""
    manifest = _manifest()
    selected = _chapter(manifest, chapter)
    root = manifest.root
    path = selected.directory.as_posix()
    if _git(root, "rev-parse", "--is-inside-work-tree").returncode != 0:
        err(f"reset needs the git checkout of the workshop, and {root} is not one.")
        raise typer.Exit(ENVIRONMENT)
    if not _git(root, "ls-tree", "-r", "--name-only", "HEAD", "--", path).stdout.strip():
        err(f"{path} has no committed starter to go back to.")
        raise typer.Exit(ENVIRONMENT)
    _confirm(f"Reset {path} to its starter? Your changes there are lost.", yes)
    for args in (("checkout", "HEAD", "--", path), ("clean", "-fdq", "--", path)):
        if (completed := _git(root, *args)).returncode != 0:
            err(f"git {' '.join(args)} failed: {completed.stderr.strip()}")
            raise typer.Exit(ENVIRONMENT)
    progress = load_progress(root)
    progress.forget([exercise.id for exercise in selected.exercises])
    progress.save()
    out(f"{path} is back to its starter (an ignored .env stays). Hints start over too.")


@app.command()
def solve(
    chapter: ChapterArgument, exercise: ExerciseArgument = None, yes: YesOption = False
) -> None:
    """Copy the solution into your chapter (one exercise's files, or all): to catch up."""
    manifest = _manifest()
    selected = _chapter(manifest, chapter)
    solution = manifest.root / selected.solution_directory
    if exercise:
        paths = list(_exercise(selected, exercise).files)
    else:
        paths = sorted(contract.code_files(solution))
    _confirm(f"Overwrite {len(paths)} file(s) in {selected.directory} with the solution's?", yes)
    for path in paths:
        target = manifest.root / selected.directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(solution / path, target)
    out(f"Copied {', '.join(paths)} from {selected.solution_directory}.")
    out(f"Check it: {command(f'uv run workshop check {selected.number}')}")


@app.command()
def start(chapter: ChapterArgument) -> None:
    """Make a chapter your current one, e.g. to skip ahead in a live session."""
    manifest = _manifest()
    selected = _chapter(manifest, chapter)
    progress: Progress = load_progress(manifest.root)
    progress.current_chapter = selected.id
    progress.save()
    out(
        f"Chapter {selected.number} is now your current chapter. Its starter already holds the "
        f"previous chapters' solutions. Read {selected.directory}/README.md to begin."
    )


@app.command(name="doctor")
def doctor_command(
    chapter: Annotated[str | None, typer.Argument(help="Only what this chapter needs.")] = None,
) -> None:
    """Is your environment ready? Python, dependencies, PostgreSQL, Redis, ports, your code."""
    manifest = _manifest()
    selected = _chapter(manifest, chapter) if chapter else None
    code_chapter = selected or current_chapter(manifest, load_progress(manifest.root))
    findings = doctor.run_doctor(manifest, chapter=selected, code_chapter=code_chapter)
    width = max(len(finding.name) for finding in findings)
    for finding in findings:
        out(f"{mark(finding.status)} {finding.name:<{width}}  {finding.detail}")
    out()
    broken = [f for f in findings if f.status == "failing" and f.about == "environment"]
    code_broken = [f for f in findings if f.status == "failing" and f.about == "code"]
    if broken:
        out(
            "Your environment is not ready: fix the lines marked above. "
            "This is not about your code."
        )
        raise typer.Exit(ENVIRONMENT)
    if code_broken:
        out(
            "Your environment is ready; your code is what fails. "
            f"Check it with {command('uv run workshop check ' + code_chapter.number)}."
        )
        raise typer.Exit(FAILING)
    out("Your environment is ready.")


@app.command(name="serve")
def serve_command(
    target: Annotated[str, typer.Argument(help="A chapter (01, config) or `final`.")],
    port: Annotated[int, typer.Option(help="The port to listen on.")] = 8000,
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    workers: Annotated[int, typer.Option(help="uvicorn workers (final only).")] = 2,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (chapters only).")] = True,
) -> None:
    """Run a chapter's service, or the finished one, on real PostgreSQL and Redis."""
    manifest = _manifest()
    if target == "final":
        selected = serving.ServeTarget(
            "the finished service", manifest.root / "final", ("postgres", "redis"), True
        )
        if not (selected.code_dir / "app" / "main.py").is_file():
            err("final/app/main.py does not exist yet.")
            raise typer.Exit(USAGE)
    else:
        chapter = _chapter(manifest, target)
        selected = serving.ServeTarget(
            f"chapter {chapter.number}", manifest.root / chapter.directory, chapter.services, False
        )
    if not serving.port_is_free(host, port):
        err(f"Port {port} is in use: stop what holds it, or pass --port {port + 1}.")
        raise typer.Exit(ENVIRONMENT)
    try:
        env = serving.server_environment(selected)
    except services.ServiceUnavailable as error:
        err(str(error))
        raise typer.Exit(ENVIRONMENT) from error
    if serving.migrate(selected, env) != 0:
        err("The migrations failed (see above): fix them, then serve again.")
        raise typer.Exit(FAILING)
    out(
        f"Serving {selected.label} from {selected.code_dir} on http://{host}:{port} (docs at /docs)"
    )
    command_line = serving.uvicorn_command(
        selected, host=host, port=port, workers=workers, reload=reload
    )
    raise typer.Exit(serving.run_server(selected, command_line, env))


# The measurement harness: `workshop bench ...` and `workshop reliability` (harness_commands.py).
app.add_typer(harness_commands.bench, name="bench")
app.command(name="reliability")(harness_commands.reliability)


# --- for instructors --------------------------------------------------------------------------


@app.command(name="schedule")
def schedule_command(
    days: Annotated[int | None, typer.Option(help="Only the plan for this many days.")] = None,
) -> None:
    """The one-day and two-day plans, from the manifest's minutes."""
    manifest = _manifest()
    for length in [days] if days else [1, 2]:
        if length < 1:
            err("--days must be 1 or more.")
            raise typer.Exit(USAGE)
        plan = schedule.build_schedule(manifest, days=length)
        out(schedule.render_text(plan))


# --- for authors ------------------------------------------------------------------------------


@dev.command()
def verify(
    chapters: Annotated[
        list[str] | None, typer.Argument(help="Chapters to verify (default: all).")
    ] = None,
) -> None:
    """The chapter contract: starters fail as expected, solutions pass, nothing drifts."""
    manifest = _manifest()
    selected = [_lookup(manifest, ref) for ref in chapters] if chapters else list(manifest.chapters)
    present = [chapter for chapter in selected if (manifest.root / chapter.directory).is_dir()]
    needed = {name for chapter in present for name in chapter.services}
    env = _service_env(tuple(name for name in SERVICES if name in needed))
    failed = environment_broken = 0
    for chapter in selected:
        verification = contract.verify_chapter(manifest, chapter, env=env)
        if verification.ok:
            starter, solution = verification.starter, verification.solution
            failing = sum(len(r.failures) for r in starter.exercises)
            passing = sum(len(r.tests) for r in solution.exercises) + len(solution.untagged)
            out(
                f"{mark('passed')} {chapter.slug}: starter fails {failing} exercise tests as "
                f"expected, solution passes all {passing} tests, no drift"
            )
            continue
        failed += 1
        environment_broken += verification.environment_broken
        out(f"{mark('failing')} {chapter.slug}: {len(verification.findings)} problem(s)")
        for finding in verification.findings:
            out(f"    [{finding.rule}] {finding.message}")
    out()
    if environment_broken:
        raise typer.Exit(ENVIRONMENT)
    if failed:
        out(f"{failed} of {len(selected)} chapter(s) break the contract.")
        raise typer.Exit(FAILING)
    out(f"All {len(selected)} chapter(s) keep the contract.")


def main() -> None:
    app()
