"""`workshop check` shows each worked section (`[[chapters.worked]]`: given code with tests of
its own) as one line, passed or failing, and a failing one with its first failure (issue 19)."""

from workshop import checking, report
from workshop.manifest import load_manifest

CHAPTER = load_manifest().chapter("errors")


def passed(nodeid: str, exercise: str | None = None) -> checking.Outcome:
    return checking.Outcome(nodeid, exercise, "passed")


def every_test_passing() -> tuple[list[checking.ExerciseResult], list[checking.Outcome]]:
    exercises = [
        checking.ExerciseResult(exercise, [passed(f"{exercise.tests[0]}::test_x", exercise.id)])
        for exercise in CHAPTER.exercises
    ]
    untagged = [passed(f"{section.tests[0]}::test_given") for section in CHAPTER.worked]
    untagged.append(passed("tests/test_startup.py::test_the_app_starts"))
    return exercises, untagged


def rendered(capsys, result: checking.CheckResult) -> list[str]:
    report.render_check(result)
    report.render_summary(result)
    return capsys.readouterr().out.splitlines()


def worked_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if " worked " in line]


def test_each_worked_section_is_one_line_when_it_passes(capsys):
    exercises, untagged = every_test_passing()

    lines = rendered(capsys, checking.CheckResult(CHAPTER, exercises, untagged=untagged))

    assert len(CHAPTER.worked) == 4, "the test expects chapter 05's four worked sections"
    assert worked_lines(lines) == [line for line in lines if line.startswith("[pass] worked ")], (
        "\n".join(lines)
    )
    for section in CHAPTER.worked:
        (line,) = [line for line in worked_lines(lines) if f" {section.id} " in line]
        assert section.title in line
        assert line.endswith("(1/1 tests)"), line
    assert lines[-1].startswith("Chapter 05 passes"), lines[-1]


def test_a_failing_worked_section_says_so_once_with_its_failure_and_what_to_do(capsys):
    exercises, untagged = every_test_passing()
    outages = next(section for section in CHAPTER.worked if section.id == "errors.outages")
    broken = f"{outages.tests[0]}::test_given"
    message = "A database outage should answer 503; got 500."
    untagged = [
        checking.Outcome(broken, None, "failed", message, "AssertionError")
        if test.nodeid == broken
        else test
        for test in untagged
    ]

    lines = rendered(capsys, checking.CheckResult(CHAPTER, exercises, untagged=untagged))
    text = "\n".join(lines)

    (line,) = [line for line in worked_lines(lines) if f" {outages.id} " in line]
    assert line.startswith("[FAIL] worked "), line
    assert line.endswith("(0/1 tests)"), line
    assert text.count(message) == 1, f"the failure should be shown once, under its section:\n{text}"
    assert "(no exercise) fails" not in text, text
    assert "its tests pass on the starter" in text
    assert "git diff -- chapters/05-errors" in text
    assert lines[-1] == (
        "Every exercise passes, but the given code of errors.outages fails: see above."
    )


def test_a_selection_marks_the_worked_sections_it_did_not_run(capsys):
    exercises, _ = every_test_passing()
    for result in exercises[1:]:
        result.tests.clear()
    result = checking.CheckResult(CHAPTER, exercises, selection=("tests/test_request_id.py",))

    lines = rendered(capsys, result)

    assert all(line.endswith("(not selected)") for line in worked_lines(lines)), lines
    assert len(worked_lines(lines)) == len(CHAPTER.worked)


def test_an_untagged_test_of_no_worked_section_is_still_reported_as_before(capsys):
    exercises, untagged = every_test_passing()
    untagged[-1] = checking.Outcome(
        untagged[-1].nodeid, None, "failed", "The app should start.", "AssertionError"
    )

    lines = rendered(capsys, checking.CheckResult(CHAPTER, exercises, untagged=untagged))

    assert "[FAIL] tests/test_startup.py::test_the_app_starts (no exercise) fails:" in lines
    assert all(line.startswith("[pass]") for line in worked_lines(lines)), lines
    assert lines[-1] == "Every exercise passes, but something else fails: see above."


def test_a_message_from_pytest_fail_is_shown_without_pytests_prefix():
    """pytest.fail("Write GET /health/ready ...") reaches the report as "Failed: Write ...":
    the learner sees the sentence only, as with a plain assertion message."""
    message = "Failed: Write GET /health/ready: it answered 404.\nassert 404 == 200"

    assert report.failure_summary(message) == ["Write GET /health/ready: it answered 404."]
