"""The one-day and two-day schedules, as `workshop schedule` and the instructor guide show them."""

from dataclasses import replace

import pytest

from workshop import schedule
from workshop.manifest import ManifestError, load_manifest

MANIFEST = load_manifest()
ALL_EXERCISES = [exercise for chapter in MANIFEST.chapters for exercise in chapter.exercises]


def stretches(day: schedule.Day) -> list[int]:
    """Minutes of work between two pauses (a break or lunch), through the day."""
    minutes = [0]
    for session in day.sessions:
        if session.kind in schedule.PAUSES:
            minutes.append(0)
        else:
            minutes[-1] += session.minutes
    return minutes


@pytest.mark.parametrize("days", [1, 2])
def test_every_chapter_is_taught_then_practised_in_order(days):
    plan = schedule.build_schedule(MANIFEST, days=days)

    sessions = [session for day in plan.days for session in day.sessions if session.chapter]
    for chapter in MANIFEST.chapters:
        own = [session for session in sessions if session.chapter == chapter]
        assert own[0].kind == "teaching", f"{chapter.slug} starts with its concepts and demo"
        assert own[0].minutes == chapter.teaching_minutes
        assert all(s.kind == "exercises" for s in own[1:]), f"{chapter.slug}: {own}"
    in_class = [exercise for session in sessions for exercise in session.exercises]
    assert in_class == [ex for ex in ALL_EXERCISES if ex in plan.in_class], "manifest order"


@pytest.mark.parametrize("days", [1, 2])
def test_an_exercise_block_lasts_as_long_as_its_exercises(days):
    plan = schedule.build_schedule(MANIFEST, days=days)

    for day in plan.days:
        for session in day.sessions:
            if session.kind == "exercises":
                expected = sum(exercise.minutes for exercise in session.exercises)
                assert session.minutes == expected, f"{session.title}: nothing is squeezed"


@pytest.mark.parametrize("days", [1, 2])
def test_sessions_follow_each_other_with_a_pause_at_least_every_75_minutes(days):
    plan = schedule.build_schedule(MANIFEST, days=days)

    for day in plan.days:
        assert day.start == schedule.DAY_START
        for before, after in zip(day.sessions, day.sessions[1:], strict=False):
            assert before.end == after.start, f"a gap or overlap at {schedule.clock(before.end)}"
        kinds = [session.kind for session in day.sessions]
        assert kinds.count("lunch") == 1, f"day {day.number}: {kinds}"
        assert max(stretches(day)) <= schedule.BREAK_EVERY, (
            f"day {day.number} of the {days}-day plan works {max(stretches(day))} minutes "
            f"without a break: {schedule.render_text(plan)}"
        )
        lunch = next(session for session in day.sessions if session.kind == "lunch")
        assert schedule.LUNCH_IF_DUE <= lunch.start <= schedule.LUNCH_LATEST + 60
        assert kinds[-1] in ("feedback", "wrap-up")
        assert "feedback" in kinds, f"day {day.number} ends with a feedback round"
    assert plan.days[0].sessions[0].kind == "welcome"
    assert plan.days[-1].sessions[-1].kind == "wrap-up"
    buffers = [s for day in plan.days for s in day.sessions if s.kind == "buffer"]
    assert len(buffers) == 1, "one labelled buffer, on the last day"
    assert buffers[0].title.startswith("Buffer")
    ending = [session.kind for session in plan.days[-1].sessions[-3:]]
    assert ending == ["buffer", "feedback", "wrap-up"], (
        f"the day ends on its buffer, feedback and wrap-up, with no break among them: {ending}"
    )


def test_one_day_does_the_core_exercises_in_class_and_names_the_homework():
    plan = schedule.one_day(MANIFEST)

    (day,) = plan.days
    assert day.end <= schedule.ONE_DAY_END, schedule.render_text(plan)
    assert [ex.id for ex in plan.in_class] == [ex.id for ex in ALL_EXERCISES if ex.core]
    assert [ex.id for ex in plan.homework] == [ex.id for ex in ALL_EXERCISES if not ex.core]
    for chapter in MANIFEST.chapters:
        own = [s for s in day.sessions if s.chapter == chapter]
        home = [ex for ex in chapter.exercises if not ex.core]
        assert own[-1].homework == tuple(home), f"{chapter.slug}'s last block lists its homework"
        text = schedule.render_text(plan)
        for exercise in chapter.exercises:
            assert exercise.id in text


def test_the_header_states_the_real_ratio():
    plan = schedule.one_day(MANIFEST)

    core_minutes = sum(ex.minutes for ex in ALL_EXERCISES if ex.core)
    total_minutes = sum(chapter.exercise_minutes for chapter in MANIFEST.chapters)
    core_count = sum(ex.core for ex in ALL_EXERCISES)
    percent = round(100 * core_minutes / total_minutes)
    header = schedule.render_text(plan).splitlines()[1]
    assert header.startswith(
        f"In class: {core_count} of {len(ALL_EXERCISES)} exercises, {core_minutes} of "
        f"{total_minutes} exercise minutes ({percent} %)."
    ), header
    assert f"The other {len(ALL_EXERCISES) - core_count} ({total_minutes - core_minutes} min)" in (
        header
    )


def test_two_days_do_every_exercise_in_class_and_split_the_chapters_evenly():
    plan = schedule.two_day(MANIFEST)

    assert plan.in_class == tuple(ALL_EXERCISES)
    assert plan.homework == ()
    assert f"In class: all {len(ALL_EXERCISES)} exercises" in schedule.render_text(plan)
    first, second = plan.days
    assert first.chapters + second.chapters == MANIFEST.chapters
    minutes = [sum(c.minutes for c in day.chapters) for day in plan.days]
    assert abs(minutes[0] - minutes[1]) <= max(c.minutes for c in MANIFEST.chapters)


def test_a_long_exercise_block_is_split_between_two_exercises_by_a_break():
    chapter = MANIFEST.chapter("database")
    long_exercises = tuple(
        replace(exercise, minutes=20, core=True) for exercise in chapter.exercises
    )
    longer = replace(chapter, exercises=long_exercises, exercise_minutes=20 * len(long_exercises))
    manifest = replace(MANIFEST, chapters=(longer,))

    (day,) = schedule.build_schedule(manifest, days=1).days
    blocks = [s for s in day.sessions if s.kind == "exercises"]
    assert len(blocks) >= 2, schedule.render_text(schedule.build_schedule(manifest, days=1))
    assert blocks[1].title.endswith("exercises, continued")
    assert sum(len(block.exercises) for block in blocks) == len(long_exercises)
    assert max(stretches(day)) <= schedule.BREAK_EVERY


def test_an_exercise_without_minutes_is_refused_with_its_id():
    chapter = MANIFEST.chapter("config")
    first, *others = chapter.exercises
    broken = replace(chapter, exercises=(replace(first, minutes=None), *others))

    with pytest.raises(ManifestError, match=r"exercise config\.health has no `minutes`"):
        schedule.build_schedule(replace(MANIFEST, chapters=(broken,)), days=1)


def test_the_markdown_and_the_text_show_the_same_sessions():
    plan = schedule.two_day(MANIFEST)

    markdown = schedule.render_markdown(plan)
    text = schedule.render_text(plan)
    for day in plan.days:
        for session in day.sessions:
            start, end, title = session.row()
            assert f"| {start} | {end} | {schedule.markdown_cell(session)} |" in markdown
            assert f"{start}-{end}  {title}" in text
            for detail in session.details():
                assert detail in text


def test_the_schedule_command_prints_both_plans_with_feedback_prompts(run_workshop):
    finished = run_workshop("schedule")

    assert finished.returncode == 0
    assert finished.stdout.count("Welcome") == 2
    assert "One-day workshop" in finished.stdout
    assert "2-day workshop" in finished.stdout
    first_homework = next(exercise for exercise in ALL_EXERCISES if not exercise.core)
    assert f"at home: {first_homework.id}" in finished.stdout
    assert finished.stdout.count(schedule.FEEDBACK_PROMPTS[0]) == 3, "one per day of each plan"
