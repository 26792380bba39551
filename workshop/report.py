"""What the learner reads: a chapter's check per exercise, and where they stand overall."""

from __future__ import annotations

from workshop import diagnosis
from workshop.checking import CheckResult, ExerciseResult, Outcome, WorkedResult
from workshop.console import colour, command, heading, mark, out
from workshop.manifest import Chapter, Manifest
from workshop.progress import Progress
from workshop.standing import Standing

MESSAGE_LINES = 4
SERVICE_NAMES = {"postgres": "PostgreSQL", "redis": "Redis"}


def failure_summary(message: str) -> list[str]:
    """The learner's part of an assertion message, without pytest's `assert x == y` detail."""
    lines: list[str] = []
    # pytest.fail("...") reaches the report as "Failed: ...": the learner needs only the text.
    message = message.strip().removeprefix("Failed: ")
    for line in message.splitlines():
        if line.startswith("assert ") or (lines and line.startswith(("  +", " +"))):
            break
        lines.append(line)
    return lines[:MESSAGE_LINES] or message.strip().splitlines()[:MESSAGE_LINES]


def render_check(result: CheckResult, *, tracebacks: bool = False) -> None:
    """The report of a check; `tracebacks` adds pytest's traceback of every failing test."""
    chapter = result.chapter
    heading(f"Chapter {chapter.number} · {chapter.title}")
    if result.services_line:
        out(result.services_line, style="dim")
    if result.environment_error:
        out(f"{mark('failing')} Your environment is not ready: {result.environment_error}")
        out(f"  This is not about your code. Run {command('uv run workshop doctor')}.")
        return
    if result.selected_nothing:
        out(
            f"{mark('not run')} No test matched {' '.join(result.selection)}: nothing was checked.",
            style="yellow",
        )
        out(
            f"  Check the whole chapter with {command(f'uv run workshop check {chapter.number}')},"
            " or pick a word from a test's name (a full check names the first failing test of"
            " each exercise)."
        )
        return
    if result.crashed:
        out(f"{mark('failing')} pytest could not run the tests. Its output:", style="red")
        for line in result.output.strip().splitlines()[-20:]:
            out(f"  {line}")
        out("Fix the error above (it names the file and line), then check again.")
        return
    for error in result.collection_errors:
        out(f"{mark('failing')} {error['nodeid']} does not even import:", style="red")
        for line in error["message"].strip().splitlines()[-6:]:
            out(f"    {line}")
    worked = result.worked
    ids = [r.exercise.id for r in result.exercises] + [w.section.id for w in worked]
    width = max(map(len, ids), default=0)
    causes = _cause_owners(result)
    for position, exercise_result in enumerate(result.exercises, start=1):
        code = result.source_of(exercise_result.exercise)
        _render_exercise(
            chapter,
            position,
            exercise_result,
            width,
            causes,
            tracebacks,
            code,
            selected=bool(result.selection),
        )
    for worked_result in worked:
        _render_worked(chapter, worked_result, width, causes, tracebacks, bool(result.selection))
    shown = {test.nodeid for worked_result in worked for test in worked_result.tests}
    for test in result.untagged + result.stray:
        if test.outcome not in ("passed", "skipped") and test.nodeid not in shown:
            out(f"{mark('failing')} {test.nodeid} (no exercise) fails:", style="red")
            owner = causes.get(diagnosis.cause_key(test) or "")
            if owner:
                out(f"      Fails with the same error as {owner}: fix that one first (see there).")
                continue
            for line in failure_summary(test.message):
                out(f"      {line}")
            _render_details(test, tracebacks)
    for sentence in diagnosis.unawaited_sentences(result.unawaited):
        out(f"{mark('warning')} {sentence}", style="yellow")
    for note in result.notes:
        out(f"Note: {note}", style="yellow")


def _cause_owners(result: CheckResult) -> dict[str, str]:
    """For a cause that fails several exercises: the exercise that owns it (the one whose
    files hold the failing line, else the first), so it is explained there, once."""
    owners: dict[str, str] = {}
    for exercise_result in result.exercises:
        for failure in exercise_result.failures[:1]:
            key = diagnosis.cause_key(failure)
            if key is None:
                continue
            current = owners.get(key)
            mine = exercise_result.exercise.id
            if current is None or (not _owns(result, current, key) and _owns(result, mine, key)):
                owners[key] = mine
    return owners


def _owns(result: CheckResult, exercise_id: str, key: str) -> bool:
    exercise = result.result_of(exercise_id).exercise
    return any(key.startswith(f"{file}:") for file in exercise.files)


def _render_exercise(
    chapter: Chapter,
    position: int,
    result: ExerciseResult,
    width: int,
    causes: dict[str, str],
    tracebacks: bool,
    code: str,
    selected: bool = False,
) -> None:
    passed = sum(test.outcome == "passed" for test in result.tests)
    exercise = result.exercise
    line = f"{mark(result.status)} {position}. {exercise.id:<{width}}  {exercise.title}"
    # Write-tests: each of the learner's tests and each planted fault is a check of its own.
    counted = "checks" if chapter.kind == "write-tests" else "tests"
    if result.tests:
        line += f"  ({passed}/{len(result.tests)} {counted})"
    else:
        line += "  (not selected)" if selected else "  (no test ran)"
    out(line, style=colour(result.status))
    if result.status != "failing":
        return
    first, *others = result.failures
    owner = causes.get(diagnosis.cause_key(first) or "", exercise.id)
    if owner != exercise.id:
        out(f"      Fails with the same error as {owner}: fix that one first (see there).")
    else:
        for text in failure_summary(first.message):
            out(f"      {text}")
        _render_details(first, tracebacks=False, code=code)
    out(f"      ({first.nodeid})", style="dim")
    if chapter.kind == "write-tests":
        # Write-tests: every failure is a test to fix or a fault no test caught; list them all.
        for other in others:
            out(f"      - {failure_summary(other.message)[0]}")
    if tracebacks:
        for failure in result.failures:
            _render_traceback(failure)
    out(f"      Stuck? {command(f'uv run workshop hint {chapter.number} {exercise.name}')}")


def _render_worked(
    chapter: Chapter,
    result: WorkedResult,
    width: int,
    causes: dict[str, str],
    tracebacks: bool,
    selected: bool,
) -> None:
    """One line per worked section (given code, explained on the chapter's page), and under
    a failing one its first failure: its tests pass on the starter, so a change broke it."""
    section = result.section
    line = f"{mark(result.status)} worked {section.id:<{width}}  {section.title}"
    if result.tests:
        passed = sum(test.outcome == "passed" for test in result.tests)
        line += f"  ({passed}/{len(result.tests)} tests)"
    else:
        line += "  (not selected)" if selected else "  (no test ran)"
    out(line, style=colour(result.status))
    if result.status != "failing":
        return
    first = result.failures[0]
    owner = causes.get(diagnosis.cause_key(first) or "")
    if owner:
        out(f"      Fails with the same error as {owner}: fix that one first (see there).")
    else:
        for text in failure_summary(first.message):
            out(f"      {text}")
        _render_details(first, tracebacks=False)
    out(f"      ({first.nodeid})", style="dim")
    if tracebacks:
        for failure in result.failures:
            _render_traceback(failure)
    out(
        f"      This code is given and its tests pass on the starter: a change of yours broke "
        f"it. Its files: {', '.join(section.files)}; "
        f"{command(f'git diff -- {chapter.directory}')} shows what you changed."
    )


def _render_details(test: Outcome, tracebacks: bool, code: str = "") -> None:
    for text in diagnosis.explain(test, code):
        out(f"      {text}", style="yellow")
    if tracebacks:
        _render_traceback(test)


def _render_traceback(test: Outcome) -> None:
    if not test.traceback:
        return
    out(f"      --- pytest's traceback of {test.nodeid} ---", style="dim")
    for text in test.traceback.rstrip().splitlines():
        out(f"      {text}")


def render_summary(result: CheckResult) -> None:
    """The last line of a check: how far the chapter is, and what to do next."""
    chapter = result.chapter
    if result.environment_error or result.crashed or result.selected_nothing:
        return
    if result.selection:
        _render_selection_summary(result)
        return
    todo = [r for r in result.exercises if r.status != "passed"]
    if result.passed:
        out(f"Chapter {chapter.number} passes: all {len(result.exercises)} exercises are done.")
        return
    if not todo:
        out(f"Every exercise passes, but {_what_else_fails(result)} fails: see above.")
        return
    next_result = _first_cause(result, todo[0])
    next_up = next_result.exercise
    files = ", ".join(next_up.files)
    what = f"look for TODO({next_up.id})"
    if next_result is not todo[0]:
        what = "the error that fails the others is there"
    elif chapter.kind == "write-tests" and todo[0].failures:
        # Once its stubs are written, a write-tests exercise has no TODO left to look for.
        first = todo[0].failures[0].nodeid
        if first.startswith("planted fault"):
            what = "write a test that catches the first unnoticed fault above"
        elif first.startswith("fixture check"):
            what = "fix the fixture that the check above names"
        elif "::" in first:
            what = "make the test that fails on the correct service pass"
    out(
        f"{len(todo)} of {len(result.exercises)} exercises to go. Next: {next_up.id} "
        f"(edit {files} in {chapter.directory}, {what})."
    )


def _first_cause(result: CheckResult, first_todo: ExerciseResult) -> ExerciseResult:
    """The exercise to work on next: the first unfinished one, unless what fails it is an
    error owned by another exercise (then that one)."""
    for failure in first_todo.failures[:1]:
        owner = _cause_owners(result).get(diagnosis.cause_key(failure) or "")
        if owner and owner != first_todo.exercise.id:
            return result.result_of(owner)
    return first_todo


def _render_selection_summary(result: CheckResult) -> None:
    """A check narrowed by the learner (`-- -k race`) speaks only of what it ran."""
    chapter = result.chapter
    checked = result.checked
    failing = [r for r in checked if r.status != "passed"]
    whole = command(f"uv run workshop check {chapter.number}")
    if not failing and not result.passed:
        out(
            f"The selected exercises' tests pass, but {_what_else_fails(result)} fails: see "
            f"above. {whole} checks the whole chapter."
        )
        return
    if not failing:
        out(
            f"The selected tests pass ({len(checked)} of {len(chapter.exercises)} exercises "
            f"touched). {whole} checks the whole chapter."
        )
        return
    next_up = failing[0].exercise
    out(
        f"Of the selected tests, {len(failing)} exercise(s) fail. Next: {next_up.id} (edit "
        f"{', '.join(next_up.files)} in {chapter.directory}). {whole} checks the whole chapter."
    )


def _what_else_fails(result: CheckResult) -> str:
    broken = [worked.section.id for worked in result.worked if worked.status == "failing"]
    if broken:
        return f"the given code of {', '.join(broken)}"
    return "something else"


def render_status(standing: Standing) -> None:
    heading("Where you stand")
    width = max(len(chapter.chapter.short_title) for chapter in standing.chapters)
    for chapter_standing in standing.chapters:
        chapter = chapter_standing.chapter
        done, total = chapter_standing.done, len(chapter_standing.exercises)
        if not chapter_standing.available or not total:
            status, detail = "not checked", "not in this checkout yet"
        else:
            status = "passed" if done == total else "failing" if done else "not checked"
            detail = f"{done}/{total} exercises"
            notes = [
                f"{count} {label}"
                for label, count in (
                    ("copied", chapter_standing.count("solved")),
                    ("in a later starter", chapter_standing.count("given")),
                )
                if count
            ]
            if notes:
                detail += f" ({', '.join(notes)})"
        needs = [SERVICE_NAMES[service] for service in chapter.services]
        services = f"  needs {', '.join(needs)}" if needs else ""
        pointer = "  <- you are here" if chapter == standing.current else ""
        text = f"{chapter.number} {chapter.short_title:<{width}}  {detail:<24}{services}{pointer}"
        out(f"{mark(status)} {text}", style=colour(status))


def render_completion(manifest: Manifest) -> None:
    """Said once the last chapter passes: the workshop is done, and what comes next."""
    out()
    heading("You finished the workshop: every chapter's service is built.")
    out(
        "What you built is final/ in this repository: compare it with "
        f"{command('uv run workshop diff ' + manifest.chapters[-1].number)}, run it with "
        f"{command('uv run workshop serve final')}, and see what each step bought in "
        f"{command('uv run workshop bench compare')} and the docs' benchmark page."
    )
    out(
        "Before you go: tell the instructor (or the repository's issues) one thing that "
        "clicked, one that is still unclear, and how the pace felt."
    )


def current_chapter(manifest: Manifest, progress: Progress) -> Chapter | None:
    """The chapter chosen with `workshop start`, else the first one not finished from the
    furthest chapter the learner has worked on (its starter holds the ones before it)."""
    if progress.current_chapter:
        try:
            return manifest.chapter(progress.current_chapter)
        except KeyError:
            pass  # a chapter id that no longer exists: fall back to the first unfinished
    available = [
        chapter
        for chapter in manifest.chapters
        if (manifest.root / chapter.directory).is_dir() and chapter.exercises
    ]
    worked = [
        index
        for index, chapter in enumerate(available)
        if any(progress.of(ex.id).status != "not checked" for ex in chapter.exercises)
    ]
    for chapter in available[max(worked, default=0) :]:
        if any(progress.of(ex.id).status != "passed" for ex in chapter.exercises):
            return chapter
    return available[-1] if available else None
