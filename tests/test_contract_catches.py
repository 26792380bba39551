"""The contract check itself: it must catch a starter that passes, a solution that fails,
a crash where an assertion belongs, and drift. Each case is a broken copy in a temp dir."""

import pytest

from workshop import contract
from workshop.manifest import load_manifest

SLUG = "01-config"


def verify_copy(root):
    manifest = load_manifest(root)
    return contract.verify_chapter(manifest, manifest.chapter(SLUG), env={})


def messages(verification, rule: str) -> str:
    return "\n".join(f.message for f in verification.findings if f.rule == rule)


def test_the_unbroken_copy_keeps_the_contract(workshop_root):
    verification = verify_copy(workshop_root)

    assert verification.ok, [f.message for f in verification.findings]


def test_a_starter_that_passes_is_caught_by_dev_verify(run_workshop, solve_chapter):
    solve_chapter(SLUG)  # the starter now holds the answers

    finished = run_workshop("dev", "verify", "01")

    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert "[FAIL] 01-config" in finished.stdout
    assert "tests/test_health.py::test_liveness_answers_ok passes on the starter" in finished.stdout
    assert "must leave config.health undone" in finished.stdout


def test_a_solution_that_fails_is_caught_by_dev_verify(run_workshop, workshop_root):
    health = workshop_root / "solutions" / SLUG / "app/health.py"
    health.write_text(health.read_text().replace('{"status": "ok"}', '{"status": "fine"}'))

    finished = run_workshop("dev", "verify", "01")

    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert "[solution] tests/test_health.py::test_liveness_answers_ok is failed" in finished.stdout


def test_a_starter_that_crashes_instead_of_asserting_is_caught(workshop_root):
    middleware = workshop_root / "chapters" / SLUG / "app/middleware.py"
    middleware.write_text(
        middleware.read_text().replace(
            "        await self.app(scope, receive, send)",
            "        raise NotImplementedError  # TODO(config.timing)",
        )
    )
    verification = verify_copy(workshop_root)

    found = messages(verification, "starter")
    assert "fails with NotImplementedError instead of an assertion" in found


def test_drift_between_the_starter_and_the_solution_is_caught(workshop_root):
    init = workshop_root / "solutions" / SLUG / "app/__init__.py"
    init.write_text(init.read_text() + "VERSION = 2\n")

    verification = verify_copy(workshop_root)

    assert "solutions/01-config/app/__init__.py differs from the same file in the starter" in (
        messages(verification, "drift")
    )


def test_a_test_file_with_the_wrong_marker_is_caught(workshop_root):
    test_file = workshop_root / "chapters" / SLUG / "tests/test_health.py"
    test_file.write_text(test_file.read_text().replace('"config.health"', '"config.timing"'))

    verification = verify_copy(workshop_root)

    assert 'should be marked pytest.mark.exercise("config.health")' in messages(
        verification, "manifest"
    )
    assert "no test of config.health ran" in messages(verification, "starter")


@pytest.mark.parametrize("missing", ["chapters", "solutions"])
def test_a_missing_chapter_directory_fails_rather_than_skips(workshop_root, missing):
    import shutil

    shutil.rmtree(workshop_root / missing / SLUG)

    verification = verify_copy(workshop_root)

    assert not verification.ok
    assert f"{missing}/{SLUG}/ does not exist yet" in messages(verification, "manifest")


def test_a_previous_solutions_tests_are_not_carried_into_the_next_starter(workshop_root):
    # A write-tests chapter (06) keeps its tests in its solution; chapter 07 starts without them.
    manifest = load_manifest(workshop_root)
    following = manifest.chapters[1]
    before = contract.check_drift(manifest, following)
    written = workshop_root / "solutions" / SLUG / "tests" / "test_written_by_the_learner.py"
    written.parent.mkdir()
    written.write_text("def test_it():\n    assert True\n")

    after = contract.check_drift(manifest, following)

    assert after == before, [finding.message for finding in after]


def test_final_is_the_last_chapters_solution(workshop_root):
    manifest = load_manifest(workshop_root)

    assert contract.check_final(manifest) == [], "the control: the copy's final/ is unchanged"


def test_a_one_line_change_in_final_app_is_caught(workshop_root):
    main = workshop_root / "final/app/main.py"
    main.write_text(main.read_text().replace('"1.0.0"', '"1.0.1"', 1))
    (workshop_root / "final/migrations/versions/stray.py").write_text("# a stray revision\n")

    findings = contract.check_final(load_manifest(workshop_root))

    assert [finding.rule for finding in findings] == ["final", "final"]
    assert "final/app/main.py differs from" in findings[0].message
    assert "final/migrations/versions/stray.py is new" in findings[1].message
