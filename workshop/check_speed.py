"""How long a learner waits for `workshop check`: a benchmark, not a test.

    uv run python -m workshop.check_speed                 chapters 01, 02 and 06, 3 runs each
    uv run python -m workshop.check_speed 04 --runs 5
    uv run python -m workshop.check_speed --plain         `python -m workshop`, without `uv run`

Each chapter is checked on a copy of the workshop, as a learner re-runs it: once on its starter
and once solved (the solution laid over the starter), timed from the command's start to its
exit, after one warm-up run. The targets are issue 19's, for a quiet machine: chapter 01 in 2 s,
a database chapter in 5 s, chapter 06 in 30 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workshop.contract import copy_tree
from workshop.manifest import ROOT_ENV, Chapter, load_manifest

DEFAULT_CHAPTERS = ("01", "02", "06")
TARGET_SECONDS = {"01": 2.0, "06": 30.0}
DATABASE_CHAPTER_TARGET = 5.0
COPIED = ("chapters", "solutions", ".gitignore")


def target(chapter: Chapter) -> float:
    return TARGET_SECONDS.get(chapter.number, DATABASE_CHAPTER_TARGET)


def workshop_copy(repository: Path, destination: Path) -> Path:
    for name in COPIED:
        source = repository / name
        if source.is_dir():
            copy_tree(source, destination / name)
        elif source.is_file():
            shutil.copy(source, destination / name)
    return destination


def solve(root: Path, chapter: Chapter) -> None:
    solution = root / chapter.solution_directory
    for path in solution.rglob("*"):
        if path.is_file():
            target_path = root / chapter.directory / path.relative_to(solution)
            target_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target_path)


def timed_check(command: list[str], root: Path, chapter: Chapter) -> tuple[float, int]:
    env = dict(os.environ, **{ROOT_ENV: str(root)})
    # A learner's Python caches bytecode; some CI images turn that off, which costs seconds.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    finished = subprocess.run(
        [*command, "check", chapter.number],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return time.perf_counter() - started, finished.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", default=list(DEFAULT_CHAPTERS))
    parser.add_argument("--runs", type=int, default=3, help="timed runs per case (after a warm-up)")
    parser.add_argument(
        "--plain", action="store_true", help="time `python -m workshop` instead of `uv run`"
    )
    options = parser.parse_args(argv)
    manifest = load_manifest()
    uv = shutil.which("uv")
    if options.plain or uv is None:
        command = [sys.executable, "-m", "workshop"]
    else:
        command = [uv, "run", "--project", str(manifest.root), "workshop"]
    print(f"command: {' '.join(command)} check NN; {options.runs} runs after a warm-up")
    if hasattr(os, "getloadavg"):
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"load average before: {load} on {os.cpu_count()} CPUs (quiet: well under 1)")
    print(f"{'chapter':<16} {'state':<8} {'min':>7} {'median':>7} {'target':>7}  exit")
    missed = 0
    with tempfile.TemporaryDirectory(prefix="workshop-check-speed-") as scratch:
        for reference in options.chapters:
            chapter = manifest.chapter(reference)
            for state in ("starter", "solved"):
                root = workshop_copy(manifest.root, Path(scratch) / f"{chapter.slug}-{state}")
                if state == "solved":
                    solve(root, chapter)
                timed_check(command, root, chapter)  # warm-up: caches, an embedded server
                runs = [timed_check(command, root, chapter) for _ in range(options.runs)]
                seconds = [elapsed for elapsed, _ in runs]
                fastest, median = min(seconds), statistics.median(seconds)
                missed += median > target(chapter)
                print(
                    f"{chapter.slug:<16} {state:<8} {fastest:6.2f}s {median:6.2f}s "
                    f"{target(chapter):6.1f}s  {runs[-1][1]}"
                    + ("  over the target" if median > target(chapter) else "")
                )
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
