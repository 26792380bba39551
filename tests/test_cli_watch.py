"""`workshop watch` checks once, then again when a file of the chapter is saved."""

import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from workshop.manifest import ROOT_ENV


def read_until(lines: queue.Queue, wanted: str, seen: list[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        seen.append(line)
        if wanted in line:
            return
    raise AssertionError(f"never printed {wanted!r}; output so far:\n{''.join(seen)}")


@pytest.mark.parametrize("mode", ["--poll", "--no-poll"])
def test_watch_rechecks_when_a_file_is_saved(workshop_root, mode):
    env = dict(os.environ, **{ROOT_ENV: str(workshop_root)})
    watcher = subprocess.Popen(
        [sys.executable, "-m", "workshop", "watch", "01", mode],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in watcher.stdout], daemon=True
    ).start()
    seen: list[str] = []
    try:
        read_until(lines, "Watching chapters/01-config", seen)
        assert any(line.startswith("[FAIL] 1. config.health") for line in seen)

        solution = workshop_root / "solutions/01-config/app/health.py"
        (workshop_root / "chapters/01-config/app/health.py").write_text(solution.read_text())

        read_until(lines, "[pass] 1. config.health", seen)
    finally:
        watcher.send_signal(signal.SIGINT)
        watcher.wait(timeout=30)
    assert watcher.returncode == 0
