"""The one-day and two-day schedules, as `workshop schedule` and the instructor guide show them."""

import pytest

from workshop import schedule
from workshop.manifest import load_manifest

MANIFEST = load_manifest()


@pytest.mark.parametrize("days", [1, 2])
def test_every_chapter_is_taught_then_practised_in_order(days):
    plan = schedule.build_schedule(MANIFEST, days=days)

    sessions = [session for day in plan.days for session in day.sessions if session.chapter]
    expected = [(c.id, kind) for c in MANIFEST.chapters for kind in ("teaching", "exercises")]
    assert [(s.chapter.id, s.kind) for s in sessions] == expected
    for session in sessions:
        if session.kind == "teaching":
            assert session.minutes == session.chapter.teaching_minutes


@pytest.mark.parametrize("days", [1, 2])
def test_sessions_follow_each_other_with_breaks_and_lunch(days):
    plan = schedule.build_schedule(MANIFEST, days=days)

    for day in plan.days:
        assert day.start == schedule.DAY_START
        for before, after in zip(day.sessions, day.sessions[1:], strict=False):
            assert before.end == after.start, f"a gap or overlap at {schedule.clock(before.end)}"
        kinds = [session.kind for session in day.sessions]
        assert "lunch" in kinds
        assert kinds.count("lunch") == 1
    assert plan.days[0].sessions[0].kind == "welcome"
    assert plan.days[-1].sessions[-1].kind == "wrap-up"


def test_one_day_fits_by_shortening_the_exercises():
    plan = schedule.one_day(MANIFEST)

    (day,) = plan.days
    assert day.end <= schedule.ONE_DAY_END
    assert 0 < plan.exercise_scale < 1
    assert "cut to about" in schedule.render_text(plan)


def test_two_days_keep_full_minutes_and_split_the_chapters_evenly():
    plan = schedule.two_day(MANIFEST)

    assert plan.exercise_scale == 1
    first, second = plan.days
    assert first.chapters + second.chapters == MANIFEST.chapters
    minutes = [sum(c.minutes for c in day.chapters) for day in plan.days]
    assert abs(minutes[0] - minutes[1]) <= max(c.minutes for c in MANIFEST.chapters)
    for day in plan.days:
        for session in day.sessions:
            if session.kind == "exercises":
                assert session.minutes == session.chapter.exercise_minutes


def test_the_markdown_and_the_text_show_the_same_sessions():
    plan = schedule.two_day(MANIFEST)

    markdown = schedule.render_markdown(plan)
    text = schedule.render_text(plan)
    for day in plan.days:
        for start, end, title in map(schedule.Session.row, day.sessions):
            assert f"| {start} | {end} | {title} |" in markdown
            assert f"{start}-{end}  {title}" in text


def test_the_schedule_command_prints_both_plans(run_workshop):
    finished = run_workshop("schedule")

    assert finished.returncode == 0
    assert finished.stdout.count("Welcome") == 2
    assert "One-day workshop" in finished.stdout
    assert "2-day workshop" in finished.stdout
