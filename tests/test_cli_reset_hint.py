"""`workshop reset` brings the starter back; `workshop hint` gives one more layer each time."""

import json

from workshop.cli import render_hint
from workshop.manifest import load_manifest

HEALTH = load_manifest().chapter("config").exercise("health")


def test_reset_restores_the_committed_starter(run_workshop, workshop_root, solve_chapter):
    starter_config = (workshop_root / "chapters/01-config/app/config.py").read_text()
    solve_chapter("01-config")
    (workshop_root / "chapters/01-config/app/extra.py").write_text("learner = 'work'\n")
    (workshop_root / "chapters/01-config/.env").write_text("APP_NAME=mine\n")
    assert run_workshop("check", "01").returncode == 0

    finished = run_workshop("reset", "01", "--yes")

    assert finished.returncode == 0, finished.stderr
    workspace = workshop_root / "chapters/01-config"
    assert (workspace / "app/config.py").read_text() == starter_config
    assert not (workspace / "app/extra.py").exists(), "files the learner added are removed"
    assert (workspace / ".env").read_text() == "APP_NAME=mine\n", "an ignored .env is kept"
    progress = json.loads((workshop_root / ".workshop/progress.json").read_text())
    assert not any(key.startswith("config.") for key in progress["exercises"])
    assert run_workshop("check", "01").returncode == 1, "the starter fails again"


def test_reset_without_a_terminal_asks_for_yes_and_changes_nothing(run_workshop, workshop_root):
    health = workshop_root / "chapters/01-config/app/health.py"
    health.write_text("# my work in progress\n")

    finished = run_workshop("reset", "01")

    assert finished.returncode == 2
    assert "--yes" in finished.stderr
    assert health.read_text() == "# my work in progress\n"


def test_hint_shows_the_next_layer_each_time(run_workshop):
    outputs = [run_workshop("hint", "01").stdout for _ in range(len(HEALTH.hints) + 1)]

    for shown, output in enumerate(outputs[: len(HEALTH.hints)], start=1):
        assert f"Hint {shown} of {len(HEALTH.hints)}:" in output
        assert f"Hint {shown + 1} of" not in output
        assert render_hint(HEALTH.hints[shown - 1]) in output
    assert "again for the next hint" in outputs[0]
    assert "That was the last hint" in outputs[-1]
    assert f"Hint {len(HEALTH.hints)} of {len(HEALTH.hints)}:" in outputs[-1]


def test_a_hints_code_block_is_shown_without_fences_and_lined_up():
    shown = render_hint(
        "And then:\n```python\nasync def live():\n    return {___: ___}\n```\nThat is all."
    )

    assert shown.splitlines() == [
        "  And then:",
        "      async def live():",
        "          return {___: ___}",
        "  That is all.",
    ]


def test_hint_follows_progress_to_the_first_unfinished_exercise(run_workshop, workshop_root):
    solution_health = workshop_root / "solutions/01-config/app/health.py"
    (workshop_root / "chapters/01-config/app/health.py").write_text(solution_health.read_text())
    run_workshop("check", "01")

    finished = run_workshop("hint", "01")

    assert finished.stdout.startswith("config.settings:"), finished.stdout


def test_diff_shows_what_the_solution_adds(run_workshop):
    finished = run_workshop("diff", "01", "health")

    assert finished.returncode == 0
    lines = finished.stdout.splitlines()
    assert "--- yours: chapters/01-config/app/health.py" in lines
    assert "+++ solution: solutions/01-config/app/health.py" in lines
    assert any(line.startswith("+") and not line.startswith("+++") for line in lines)
