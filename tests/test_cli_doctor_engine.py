"""`workshop doctor` says whether a container engine answers, and what chapter 07 does then."""

import pytest

from workshop.engine import find_engine


def engine_line(stdout: str) -> str:
    return next(line for line in stdout.splitlines() if "Container engine" in line)


def test_without_an_engine_the_doctor_says_chapter_07_is_checked_from_its_files(run_workshop):
    finished = run_workshop("doctor", "07", env={"WORKSHOP_CONTAINER_ENGINE": "none"})

    line = engine_line(finished.stdout)
    assert line.startswith("[info]"), line
    assert "no Docker or Podman answers" in line
    assert "without building the image" in line
    assert finished.returncode == 0, finished.stdout  # optional: never a broken environment


def test_with_an_engine_the_doctor_names_it(run_workshop):
    engine = find_engine()

    line = engine_line(run_workshop("doctor", "07").stdout)

    if engine is None:
        assert line.startswith("[info]"), line
    else:
        assert line.startswith("[pass]"), line
        assert engine.describe() in line
        assert "builds and runs the image" in line


@pytest.mark.slow  # chapter 07 checked whole
def test_without_an_engine_chapter_07_passes_from_its_files_and_says_it_built_nothing(
    run_workshop, solve_chapter
):
    solve_chapter("07-deployment")

    finished = run_workshop("check", "07", env={"WORKSHOP_CONTAINER_ENGINE": "none"})

    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "Note: The image was not built and the stack not started" in finished.stdout
    assert "Chapter 07 passes" in finished.stdout
