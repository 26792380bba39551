"""One-day and two-day schedules computed from the manifest's minutes.

`workshop schedule` prints them and the docs site's instructor guide renders them, both from
`build_schedule()`, so the room and the page always agree.

The rules, in the order they apply:
- each chapter is a teaching block followed by its exercises, in manifest order; every
  exercise keeps its own minutes from the manifest (nothing is squeezed);
- two or more days: every exercise is done in class, the chapters split where the days come
  out most even; one day: only the exercises marked `core` are done in class, the others are
  homework, and every exercise block says which are which;
- the first day opens with a welcome (and `workshop doctor` on every laptop), later days with
  a recap; every day ends with a feedback round, and the last day with a buffer (time to
  catch up, taken from whichever block ran late; it shrinks rather than force one more break
  before the end) and a wrap-up;
- nobody works more than BREAK_EVERY minutes without a pause: a break goes in before the
  block that would pass it (an exercise block is split between two exercises if needed), and
  lunch at the first chapter boundary after LUNCH_EARLIEST (earlier if a pause is due from
  LUNCH_IF_DUE on, and at the latest by LUNCH_LATEST).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workshop.manifest import Chapter, Exercise, Manifest, ManifestError

DAY_START = 9 * 60  # minutes after midnight
ONE_DAY_END = 17 * 60 + 30  # the one-day plan must end by then (a test holds it to it)
WELCOME_MINUTES = 20
RECAP_MINUTES = 10
FEEDBACK_MINUTES = 5
BUFFER_MINUTES = 15
MIN_BUFFER_MINUTES = 5  # what is left of the buffer when the day's last stretch is long
WRAP_UP_MINUTES = 15
BREAK_MINUTES = 10
LUNCH_MINUTES = 45
BREAK_EVERY = 75  # the longest stretch of work without a break or lunch
LUNCH_EARLIEST = 12 * 60  # lunch at the first chapter boundary from then on,
LUNCH_IF_DUE = 11 * 60 + 45  # or earlier when a pause is due anyway,
LUNCH_LATEST = 13 * 60  # and at the first block boundary after this at the latest

FEEDBACK_PROMPTS = (
    "What clicked today?",
    "What is still unclear?",
    "The pace: too fast, right, too slow?",
)
PAUSES = ("break", "lunch")


@dataclass(frozen=True)
class Session:
    start: int  # minutes after midnight
    end: int
    kind: str  # welcome, recap, teaching, exercises, break, lunch, buffer, feedback, wrap-up
    title: str
    chapter: Chapter | None = None
    exercises: tuple[Exercise, ...] = ()  # done in class in this block
    homework: tuple[Exercise, ...] = ()  # the chapter's exercises left for home (its last block)

    @property
    def minutes(self) -> int:
        return self.end - self.start

    def row(self) -> tuple[str, str, str]:
        """`("09:00", "09:20", "Welcome ...")`: what the CLI and the docs print."""
        return clock(self.start), clock(self.end), self.title

    def details(self) -> list[str]:
        """The lines under a block: the exercises in class, those at home, feedback prompts."""
        lines = []
        if self.exercises:
            lines.append(f"in class: {_names(self.exercises)}")
        if self.homework:
            lines.append(f"at home: {_names(self.homework)}")
        if self.kind == "feedback":
            lines.append("ask: " + " ".join(FEEDBACK_PROMPTS))
        return lines


@dataclass(frozen=True)
class Day:
    number: int
    sessions: tuple[Session, ...]

    @property
    def start(self) -> int:
        return self.sessions[0].start

    @property
    def end(self) -> int:
        return self.sessions[-1].end

    @property
    def chapters(self) -> tuple[Chapter, ...]:
        seen: list[Chapter] = []
        for session in self.sessions:
            if session.chapter and session.chapter not in seen:
                seen.append(session.chapter)
        return tuple(seen)


@dataclass(frozen=True)
class Schedule:
    days: tuple[Day, ...]
    chapters: tuple[Chapter, ...]

    @property
    def title(self) -> str:
        return "One-day workshop" if len(self.days) == 1 else f"{len(self.days)}-day workshop"

    @property
    def in_class(self) -> tuple[Exercise, ...]:
        return tuple(ex for day in self.days for s in day.sessions for ex in s.exercises)

    @property
    def homework(self) -> tuple[Exercise, ...]:
        return tuple(ex for day in self.days for s in day.sessions for ex in s.homework)

    @property
    def exercise_minutes(self) -> int:
        """Every exercise's minutes, in class or not."""
        return sum(chapter.exercise_minutes for chapter in self.chapters)

    @property
    def in_class_minutes(self) -> int:
        return sum(_minutes(exercise) for exercise in self.in_class)

    @property
    def in_class_share(self) -> float:
        """The real ratio of exercise time done in class (1.0 when nothing is homework)."""
        return self.in_class_minutes / self.exercise_minutes if self.exercise_minutes else 1.0

    def header(self) -> list[str]:
        """What the plan is, in numbers: printed above it by the command and the docs."""
        total = len(self.in_class) + len(self.homework)
        spans = ", ".join(f"day {d.number} {clock(d.start)}-{clock(d.end)}" for d in self.days)
        lines = [f"{self.title}: {spans}."]
        if self.homework:
            home_minutes = self.exercise_minutes - self.in_class_minutes
            lines.append(
                f"In class: {len(self.in_class)} of {total} exercises, {self.in_class_minutes} of "
                f"{self.exercise_minutes} exercise minutes ({round(self.in_class_share * 100)} %). "
                f"The other {len(self.homework)} ({home_minutes} min) are homework, listed under "
                "each chapter; `uv run workshop check NN` checks them at home."
            )
        else:
            lines.append(
                f"In class: all {total} exercises, {self.exercise_minutes} exercise minutes."
            )
        lines.append(f"A break or lunch at least every {BREAK_EVERY} minutes.")
        return lines


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def build_schedule(manifest: Manifest, days: int) -> Schedule:
    """The schedule for a workshop of `days` days (1 or 2 make sense; more works too)."""
    if days < 1:
        raise ValueError("a workshop lasts at least one day")
    for chapter in manifest.chapters:
        for exercise in chapter.exercises:
            _minutes(exercise)  # every exercise must say how long it takes
    groups = _split(manifest.chapters, days)
    planned = tuple(
        _day(number, group, first=number == 1, last=number == days, core_only=days == 1)
        for number, group in enumerate(groups, start=1)
    )
    return Schedule(days=planned, chapters=manifest.chapters)


plan = build_schedule  # the short name the docs hook uses


def one_day(manifest: Manifest) -> Schedule:
    return build_schedule(manifest, days=1)


def two_day(manifest: Manifest) -> Schedule:
    return build_schedule(manifest, days=2)


def render_text(schedule: Schedule) -> str:
    """The plan as plain text, for `workshop schedule`."""
    lines = list(schedule.header())
    for day in schedule.days:
        lines += ["", f"Day {day.number}"] if len(schedule.days) > 1 else [""]
        for session in day.sessions:
            start, end, title = session.row()
            lines.append(f"  {start}-{end}  {title}")
            lines += [f"               {detail}" for detail in session.details()]
    return "\n".join(lines) + "\n"


def render_markdown(schedule: Schedule) -> str:
    """The plan as Markdown tables, for the docs' instructor guide."""
    parts = [" ".join(schedule.header()) + "\n"]
    for day in schedule.days:
        if len(schedule.days) > 1:
            parts.append(f"**Day {day.number}**\n")
        rows = "\n".join(
            f"| {session.row()[0]} | {session.row()[1]} | {markdown_cell(session)} |"
            for session in day.sessions
        )
        parts.append(f"| Start | End | Session |\n| --- | --- | --- |\n{rows}\n")
    return "\n".join(parts)


def markdown_cell(session: Session, title: str | None = None) -> str:
    """A session's title and its details on separate lines of one table cell."""
    return "<br>".join([title or session.title, *session.details()]).replace("|", "\\|")


# --- building a day ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    """Something that takes time and cannot be cut: a talk, one exercise, a welcome."""

    kind: str
    title: str
    minutes: int
    chapter: Chapter | None = None
    exercise: Exercise | None = None
    homework: tuple[Exercise, ...] = ()


def _names(exercises: tuple[Exercise, ...]) -> str:
    return ", ".join(exercise.id for exercise in exercises)


def _minutes(exercise: Exercise) -> int:
    if exercise.minutes is None:
        raise ManifestError(
            f"exercise {exercise.id} has no `minutes`: the schedules need each exercise's time"
        )
    return exercise.minutes


def _blocks(
    chapters: Sequence[Chapter], *, first: bool, last: bool, core_only: bool
) -> list[_Block]:
    blocks = [
        _Block("welcome", "Welcome, set-up check (`uv run workshop doctor`)", WELCOME_MINUTES)
        if first
        else _Block("recap", "Recap of the previous day, questions", RECAP_MINUTES)
    ]
    for chapter in chapters:
        label = f"{chapter.number} {chapter.short_title}"
        blocks.append(
            _Block("teaching", f"{label}: concepts and demo", chapter.teaching_minutes, chapter)
        )
        in_class = [ex for ex in chapter.exercises if ex.core or not core_only]
        homework = tuple(ex for ex in chapter.exercises if ex not in in_class)
        for position, exercise in enumerate(in_class, start=1):
            blocks.append(
                _Block(
                    "exercises",
                    f"{label}: exercises",
                    _minutes(exercise),
                    chapter,
                    exercise,
                    homework if position == len(in_class) else (),
                )
            )
        if homework and not in_class:  # nothing in class: the talk's block names the homework
            blocks[-1] = _Block(**{**vars(blocks[-1]), "homework": homework})
    if last:
        blocks.append(_Block("buffer", "Buffer: catch up where the day ran late", BUFFER_MINUTES))
    blocks.append(_Block("feedback", "Feedback round", FEEDBACK_MINUTES))
    if last:
        blocks.append(
            _Block(
                "wrap-up", "Wrap-up: the finished service, benchmarks, questions", WRAP_UP_MINUTES
            )
        )
    return blocks


def _day(
    number: int, chapters: Sequence[Chapter], *, first: bool, last: bool, core_only: bool
) -> Day:
    sessions: list[Session] = []
    now, stretch, lunch_taken = DAY_START, 0, False
    blocks = _blocks(chapters, first=first, last=last, core_only=core_only)
    for index, block in enumerate(blocks):
        if block.kind == "buffer":
            block = _fitted_buffer(block, stretch, blocks[index + 1 :])
        chapter_starts = block.kind == "teaching"
        pause_due = stretch + block.minutes > BREAK_EVERY
        lunch_now = not lunch_taken and (
            (chapter_starts and now >= LUNCH_EARLIEST)
            or (pause_due and now >= LUNCH_IF_DUE)
            or now >= LUNCH_LATEST
        )
        if lunch_now or pause_due:
            kind = "lunch" if lunch_now else "break"
            minutes = LUNCH_MINUTES if kind == "lunch" else BREAK_MINUTES
            sessions.append(Session(now, now + minutes, kind, kind.title()))
            lunch_taken = lunch_taken or kind == "lunch"
            now, stretch = now + minutes, 0
        previous = sessions[-1] if sessions else None
        if (
            block.exercise
            and previous
            and previous.kind == "exercises"
            and (previous.chapter == block.chapter)
        ):
            # The next exercise of the same block: the block grows.
            sessions[-1] = Session(
                previous.start,
                now + block.minutes,
                "exercises",
                previous.title,
                block.chapter,
                (*previous.exercises, block.exercise),
                block.homework,
            )
        else:
            continued = any(s.kind == "exercises" and s.chapter == block.chapter for s in sessions)
            title = f"{block.title}, continued" if block.exercise and continued else block.title
            exercises = (block.exercise,) if block.exercise else ()
            sessions.append(
                Session(
                    now,
                    now + block.minutes,
                    block.kind,
                    title,
                    block.chapter,
                    exercises,
                    block.homework,
                )
            )
        now += block.minutes
        stretch += block.minutes
    return Day(number=number, sessions=tuple(sessions))


def _fitted_buffer(buffer: _Block, stretch: int, rest: list[_Block]) -> _Block:
    """The buffer gives up minutes (down to MIN_BUFFER_MINUTES) rather than push the end of
    the day into one more break: a buffer is slack, and that is what slack is for."""
    over = stretch + buffer.minutes + sum(block.minutes for block in rest) - BREAK_EVERY
    if over <= 0:
        return buffer
    minutes = max(MIN_BUFFER_MINUTES, buffer.minutes - over)
    return _Block(buffer.kind, buffer.title, minutes)


def _split(chapters: tuple[Chapter, ...], days: int) -> list[tuple[Chapter, ...]]:
    """Contiguous groups, one per day, cut where each day's minutes come closest to even."""
    groups: list[tuple[Chapter, ...]] = []
    remaining = chapters
    for days_left in range(days, 0, -1):
        if days_left == 1:
            groups.append(remaining)
            break
        target = sum(chapter.minutes for chapter in remaining) / days_left
        best_cut, best_gap, total = 1, float("inf"), 0
        for cut in range(1, len(remaining) - days_left + 2):
            total += remaining[cut - 1].minutes
            if abs(total - target) < best_gap:
                best_cut, best_gap = cut, abs(total - target)
        groups.append(remaining[:best_cut])
        remaining = remaining[best_cut:]
    return groups
