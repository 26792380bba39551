"""The `workshop` command: where you stand, checks, hints, diffs, resets, the doctor and more.

Exit codes: 0 all good; 1 the code fails its checks; 2 a usage error; 3 the environment is
broken (a service is missing, a dependency is not installed). Without a terminal the output
is plain text.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

import localservices as services
from workshop import changes, checking, contract, doctor, harness_commands, participant, schedule
from workshop import serve as serving
from workshop.checking import CheckRequest, CheckResult
from workshop.console import clear, command, err, heading, mark, out
from workshop.manifest import SERVICES, Chapter, Exercise, Manifest, ManifestError, load_manifest
from workshop.progress import Progress, load_progress
from workshop.report import (
    current_chapter,
    render_check,
    render_completion,
    render_status,
    render_summary,
)
from workshop.standing import Standing, standing
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


def _exercise(chapter: Chapter, reference: str) -> Exercise:
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
            if exercise_result.status == "not run":
                continue  # deselected: what it was stays
            passed = exercise_result.status == "passed"
            if passed and result.selection:
                continue  # some of its tests may not have run: a full check records a pass
            progress.record(exercise_result.exercise.id, passed=passed)
        progress.save()
    return result


def _report(manifest: Manifest, result: CheckResult, *, tracebacks: bool = False) -> None:
    """A check's report and its last line; the end of the workshop when it was the last."""
    render_check(result, tracebacks=tracebacks)
    out()
    render_summary(result)
    if result.passed and not result.selection and result.chapter == manifest.chapters[-1]:
        render_completion(manifest)


def _standing(manifest: Manifest) -> Standing:
    progress = load_progress(manifest.root)
    try:
        who = participant.participant(manifest.root)
    except participant.BadParticipantName as error:
        err(str(error))
        raise typer.Exit(USAGE) from error
    return standing(manifest, progress, current_chapter(manifest, progress), who)


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


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
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
        bool | None,
        typer.Option(
            "--check/--no-check",
            help="Check the current chapter first (the default, but with --json or --summary).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Everything, as JSON: for scripts and instructors.")
    ] = False,
    summary: Annotated[
        bool, typer.Option("--summary", help="One line, for the instructor's room list.")
    ] = False,
) -> None:
    """Where you stand: every chapter, and your current chapter checked."""
    manifest = _manifest()
    progress = load_progress(manifest.root)
    current = current_chapter(manifest, progress)
    if check is None:
        check = not (as_json or summary)
    try:
        result = _run_check(manifest, current, []) if check and current else None
    except typer.Exit:
        if not (as_json or summary):
            render_status(_standing(manifest))  # where they stand, despite the environment
        raise
    if as_json or summary:
        where = _standing(manifest)
        out(json.dumps(where.as_json(), indent=2) if as_json else where.summary())
        raise typer.Exit(ENVIRONMENT if result and result.environment_error else OK)
    render_status(_standing(manifest))
    if result is None or current is None:  # a result means the current chapter was checked
        raise typer.Exit(OK)
    out()
    _report(manifest, result)
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
    tracebacks: Annotated[
        bool,
        typer.Option("--tb", "--verbose", "-v", help="Show pytest's traceback of each failure."),
    ] = False,
) -> None:
    """Run a chapter's tests on your code: a report per exercise."""
    manifest = _manifest()
    selected = _chapter(manifest, chapter)
    result = _run_check(manifest, selected, pytest_args or [])
    _report(manifest, result, tracebacks=tracebacks)
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
        _report(manifest, result)
        out(f"Watching {selected.directory} for changes; Ctrl-C stops.", style="dim")

    try:
        watch_and_check(manifest.root / selected.directory, check_once, poll=poll)
    except KeyboardInterrupt:
        raise typer.Exit(OK) from None


def render_hint(text: str) -> str:
    """A hint for the terminal: prose indented two spaces; a fenced code block loses its
    fences (noise outside Markdown) and its lines are indented four more, keeping their own
    indentation, so the code reads as one block under the prose."""
    lines, in_code = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if not line.strip():
            lines.append("")
        else:
            lines.append(f"      {line}" if in_code else f"  {line}")
    return "\n".join(lines)


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
        if not unfinished:
            following = _following(manifest, selected)
            named = f"uv run workshop hint {selected.number} {selected.exercises[0].name}"
            out(
                f"Chapter {selected.number} is done: every exercise passed its last check, so "
                f"there is no hint to give. For an exercise's hints anyway, name it: "
                f"{command(named)}."
            )
            if following:
                out(f"Next: {command(f'uv run workshop start {following.number}')}.")
            return
        chosen = unfinished[0]
    entry = progress.entry(chosen.id)
    entry.hints_shown = min(entry.hints_shown + 1, len(chosen.hints))
    progress.save()
    heading(f"{chosen.id}: {chosen.title}")
    out(f"Files: {', '.join(f'{selected.directory}/{path}' for path in chosen.files)}")
    for number, text in enumerate(chosen.hints[: entry.hints_shown], start=1):
        out()
        out(f"Hint {number} of {len(chosen.hints)}:", style="bold")
        out(render_hint(text))
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
def diff(
    chapter: Annotated[
        str | None, typer.Argument(help="A chapter: your code against its solution.")
    ] = None,
    exercise: ExerciseArgument = None,
    chapters: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--chapters",
            metavar="FROM TO",
            help="Two chapters' solutions: what the second changes (`--chapters 03 04`).",
        ),
    ] = None,
    stat: Annotated[
        bool, typer.Option("--stat", help="Only the changed files and their line counts.")
    ] = False,
) -> None:
    """Your code against the solution, or one chapter's solution against another's."""
    manifest = _manifest()
    if chapters and (chapter or exercise):
        err("Give a chapter (your code against its solution) or --chapters FROM TO, not both.")
        raise typer.Exit(USAGE)
    if chapters:
        first, second = (_lookup(manifest, reference) for reference in chapters)
        old_root = manifest.root / first.solution_directory
        new_root = manifest.root / second.solution_directory
        paths = sorted(contract.code_files(old_root).keys() | contract.code_files(new_root).keys())
        labels = (f"solution {first.number}", f"solution {second.number}")
        trees = (first.solution_directory, second.solution_directory)
    elif chapter:
        selected = _chapter(manifest, chapter)
        old_root = manifest.root / selected.directory
        new_root = manifest.root / selected.solution_directory
        if exercise:
            paths = list(_exercise(selected, exercise).files)
        else:
            mine = contract.code_files(old_root, workspace=True)
            paths = sorted(mine.keys() | contract.code_files(new_root).keys())
        labels = ("yours", "solution")
        trees = (selected.directory, selected.solution_directory)
    else:
        err("Name a chapter (`workshop diff 02`) or two (`workshop diff --chapters 03 04`).")
        raise typer.Exit(USAGE)
    found = changes.compare(old_root, new_root, paths)
    if stat:
        out(f"{labels[0]} ({trees[0]}) -> {labels[1]} ({trees[1]}):")
        for line in changes.stat_lines(found):
            out(line)
        return
    same = []
    for change in found:
        if not change.changed:
            same.append(change.path)
            continue
        for line in change.unified(
            f"{labels[0]}: {trees[0]}/{change.path}", f"{labels[1]}: {trees[1]}/{change.path}"
        ):
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else None
            out(line, style=style)
    if same and not chapters:
        out(f"Same as the solution: {', '.join(same)}", style="dim")


@app.command()
def reset(
    chapter: ChapterArgument, exercise: ExerciseArgument = None, yes: YesOption = False
) -> None:
    """Put a chapter (or one exercise's files) back to the starter, as committed."""
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
    if exercise:
        _reset_exercise(manifest, selected, _exercise(selected, exercise), yes)
        return
    _confirm(f"Reset {path} to its starter? Your changes there are lost.", yes)
    for args in (("checkout", "HEAD", "--", path), ("clean", "-fdq", "--", path)):
        if (completed := _git(root, *args)).returncode != 0:
            err(f"git {' '.join(args)} failed: {completed.stderr.strip()}")
            raise typer.Exit(ENVIRONMENT)
    progress = load_progress(root)
    progress.forget([exercise.id for exercise in selected.exercises])
    progress.save()
    out(f"{path} is back to its starter (an ignored .env stays). Hints start over too.")


def _reset_exercise(manifest: Manifest, chapter: Chapter, exercise: Exercise, yes: bool) -> None:
    files = [f"{chapter.directory.as_posix()}/{file}" for file in exercise.files]
    others = changes.sharing(chapter, exercise)
    if others:
        out(
            f"Careful: {', '.join(exercise.files)} also hold(s) the work of "
            f"{', '.join(other.id for other in others)}; resetting resets that work too."
        )
    _confirm(f"Reset {', '.join(files)} to the starter? Your changes there are lost.", yes)
    if (completed := _git(manifest.root, "checkout", "HEAD", "--", *files)).returncode != 0:
        err(f"git checkout failed: {completed.stderr.strip()}")
        raise typer.Exit(ENVIRONMENT)
    progress = load_progress(manifest.root)
    progress.forget([exercise.id, *(other.id for other in others)])
    progress.save()
    out(f"{', '.join(files)} back to the starter. {exercise.id}'s hints start over too.")


@app.command()
def solve(
    chapter: ChapterArgument, exercise: ExerciseArgument = None, yes: YesOption = False
) -> None:
    """Copy the solution into your chapter (one exercise's files, or all): to catch up."""
    manifest = _manifest()
    selected = _chapter(manifest, chapter)
    solution = manifest.root / selected.solution_directory
    if exercise:
        chosen = _exercise(selected, exercise)
        paths = list(chosen.files)
        others = changes.sharing(selected, chosen)
        if others:
            out(
                f"Careful: {', '.join(paths)} also hold(s) the work of "
                f"{', '.join(other.id for other in others)}; the solution's version replaces "
                "it too."
            )
    else:
        paths = sorted(contract.code_files(solution))
    _confirm(f"Overwrite {len(paths)} file(s) in {selected.directory} with the solution's?", yes)
    for path in paths:
        target = manifest.root / selected.directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(solution / path, target)
    solved = changes.covered_by(selected, paths)
    progress = load_progress(manifest.root)
    for done in solved:
        progress.entry(done.id).solved = True
    progress.save()
    out(f"Copied {', '.join(paths)} from {selected.solution_directory}.")
    out(
        f"Marked as solved by copying: {', '.join(done.id for done in solved)} "
        "(`workshop status` counts them apart)."
    )
    out(f"Check it: {command(f'uv run workshop check {selected.number}')}")


@app.command()
def start(chapter: ChapterArgument) -> None:
    """Make a chapter your current one, e.g. to skip ahead in a live session."""
    manifest = _manifest()
    selected = _chapter(manifest, chapter)
    progress: Progress = load_progress(manifest.root)
    progress.current_chapter = selected.id
    progress.save()
    holds = (
        ""
        if manifest.previous(selected) is None
        else " Its starter already holds the previous chapters' solutions."
    )
    out(
        f"Chapter {selected.number} is now your current chapter.{holds} "
        f"Read {selected.directory}/README.md to begin."
    )


def _following(manifest: Manifest, chapter: Chapter) -> Chapter | None:
    index = manifest.chapters.index(chapter)
    return manifest.chapters[index + 1] if index + 1 < len(manifest.chapters) else None


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
    if code_broken and code_chapter is not None:  # code findings are code_chapter's
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
            "the finished service",
            manifest.root / "final",
            ("postgres", "redis"),
            True,
            manifest.root,
        )
        if not (selected.code_dir / "app" / "main.py").is_file():
            err("final/app/main.py does not exist yet.")
            raise typer.Exit(USAGE)
    else:
        chapter = _chapter(manifest, target)
        selected = serving.ServeTarget(
            f"chapter {chapter.number}",
            manifest.root / chapter.directory,
            chapter.services,
            False,
            manifest.root,
        )
    if not serving.port_is_free(host, port):
        err(f"Port {port} is in use: stop what holds it, or pass --port {port + 1}.")
        raise typer.Exit(ENVIRONMENT)
    try:
        env = serving.prepare(selected)
    except (services.ServiceUnavailable, participant.BadParticipantName) as error:
        err(str(error))
        raise typer.Exit(ENVIRONMENT) from error
    except serving.ServeProblem as problem:
        err(str(problem))
        raise typer.Exit(ENVIRONMENT if problem.environment else FAILING) from problem
    if warning := serving.missing_tables(selected, env):
        err(warning)
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
        starter, solution = verification.starter, verification.solution
        # A chapter the contract could run has both results (check_manifest refuses the rest).
        if verification.ok and starter is not None and solution is not None:
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
