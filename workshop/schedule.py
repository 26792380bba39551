"""One-day and two-day schedules computed from the manifest's minutes.

`workshop schedule` prints them and the docs site's instructor guide renders them, both from
`build_schedule()`, so the room and the page always agree.

The rules, in the order they apply:
- each chapter is a teaching block followed by an exercise block, in manifest order;
- the first day opens with a welcome (and `workshop doctor` on every laptop), later days with
  a recap, and the last day ends with a wrap-up;
- breaks and lunch go in at the first block boundary after their clock time;
- two days: full minutes, the chapters split where the days come out most even;
- one day: teaching keeps its minutes, exercise blocks shrink by one factor so the day ends by
  17:30 (rounded down to 5 minutes, never under 10); the rest is homework.
"""

from __future__ import annotations

from dataclasses import dataclass

from workshop.manifest import Chapter, Manifest

DAY_START = 9 * 60  # minutes after midnight
ONE_DAY_END = 17 * 60 + 30
WELCOME_MINUTES = 20
RECAP_MINUTES = 10
WRAP_UP_MINUTES = 15
# (earliest start, kind, minutes): each is taken at the first block boundary after its time.
BREAKS = (
    (10 * 60 + 30, "break", 15),
    (12 * 60 + 15, "lunch", 45),
    (15 * 60, "break", 15),
)
MIN_EXERCISE_MINUTES = 10


@dataclass(frozen=True)
class Session:
    start: int  # minutes after midnight
    end: int
    kind: str  # welcome, recap, teaching, exercises, break, lunch, wrap-up
    title: str
    chapter: Chapter | None = None

    @property
    def minutes(self) -> int:
        return self.end - self.start

    def row(self) -> tuple[str, str, str]:
        """`("09:00", "09:20", "Welcome ...")`: what the CLI and the docs print."""
        return clock(self.start), clock(self.end), self.title


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
    exercise_scale: float  # 1.0 when every exercise block keeps its manifest minutes

    @property
    def title(self) -> str:
        return "One-day workshop" if len(self.days) == 1 else f"{len(self.days)}-day workshop"


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def build_schedule(manifest: Manifest, days: int) -> Schedule:
    """The schedule for a workshop of `days` days (1 or 2 make sense; more works too)."""
    if days < 1:
        raise ValueError("a workshop lasts at least one day")
    groups = _split(manifest.chapters, days)
    scale = _one_day_scale(manifest.chapters) if days == 1 else 1.0
    planned = tuple(
        _day(number, group, first=number == 1, last=number == days, scale=scale)
        for number, group in enumerate(groups, start=1)
    )
    return Schedule(days=planned, exercise_scale=scale)


plan = build_schedule  # the short name the docs hook uses


def one_day(manifest: Manifest) -> Schedule:
    return build_schedule(manifest, days=1)


def two_day(manifest: Manifest) -> Schedule:
    return build_schedule(manifest, days=2)


def render_text(schedule: Schedule) -> str:
    """The plan as plain text, for `workshop schedule`."""
    lines = [schedule.title]
    if schedule.exercise_scale < 1:
        lines.append(_shortened_note(schedule))
    for day in schedule.days:
        lines += ["", f"Day {day.number}"] if len(schedule.days) > 1 else [""]
        lines += [
            f"  {start}-{end}  {title}" for start, end, title in map(Session.row, day.sessions)
        ]
    return "\n".join(lines) + "\n"


def render_markdown(schedule: Schedule) -> str:
    """The plan as Markdown tables, for the docs' instructor guide."""
    parts: list[str] = []
    if schedule.exercise_scale < 1:
        parts.append(_shortened_note(schedule) + "\n")
    for day in schedule.days:
        if len(schedule.days) > 1:
            parts.append(f"**Day {day.number}**\n")
        rows = "\n".join(
            f"| {start} | {end} | {title} |" for start, end, title in map(Session.row, day.sessions)
        )
        parts.append(f"| Start | End | Session |\n| --- | --- | --- |\n{rows}\n")
    return "\n".join(parts)


def _shortened_note(schedule: Schedule) -> str:
    percent = round(schedule.exercise_scale * 100)
    return (
        f"Exercise blocks are cut to about {percent}% of their full time to fit one day; "
        "learners finish the rest afterwards with `workshop check`."
    )


def exercise_minutes(chapter: Chapter, scale: float) -> int:
    if scale >= 1:
        return chapter.exercise_minutes
    shortened = int(chapter.exercise_minutes * scale) // 5 * 5
    return max(MIN_EXERCISE_MINUTES, shortened)


def _day(number: int, chapters: tuple[Chapter, ...], *, first: bool, last: bool, scale: float):
    blocks: list[tuple[str, str, int, Chapter | None]] = []
    if first:
        blocks.append(
            ("welcome", "Welcome, set-up check (`workshop doctor`)", WELCOME_MINUTES, None)
        )
    else:
        blocks.append(("recap", "Recap of the previous day, questions", RECAP_MINUTES, None))
    for chapter in chapters:
        label = f"{chapter.number} {chapter.short_title}"
        blocks.append(
            ("teaching", f"{label}: concepts and demo", chapter.teaching_minutes, chapter)
        )
        minutes = exercise_minutes(chapter, scale)
        blocks.append(("exercises", f"{label}: exercises", minutes, chapter))
    if last:
        blocks.append(
            (
                "wrap-up",
                "Wrap-up: the finished service, benchmarks, questions",
                WRAP_UP_MINUTES,
                None,
            )
        )

    sessions: list[Session] = []
    now = DAY_START
    pending_breaks = list(BREAKS)
    for kind, title, minutes, chapter in blocks:
        while pending_breaks and now >= pending_breaks[0][0]:
            _, break_kind, break_minutes = pending_breaks.pop(0)
            sessions.append(Session(now, now + break_minutes, break_kind, break_kind.title()))
            now += break_minutes
        sessions.append(Session(now, now + minutes, kind, title, chapter))
        now += minutes
    return Day(number=number, sessions=tuple(sessions))


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


def _one_day_scale(chapters: tuple[Chapter, ...]) -> float:
    """The factor on exercise minutes that makes one day end by ONE_DAY_END."""
    breaks = sum(minutes for _, _, minutes in BREAKS)
    fixed = WELCOME_MINUTES + WRAP_UP_MINUTES + breaks
    teaching = sum(chapter.teaching_minutes for chapter in chapters)
    exercises = sum(chapter.exercise_minutes for chapter in chapters)
    available = ONE_DAY_END - DAY_START - fixed - teaching
    return max(0.0, min(1.0, available / exercises)) if exercises else 1.0
