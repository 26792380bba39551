"""Where the harness finds what it measures and where it writes, in the repository."""

from __future__ import annotations

from pathlib import Path

# harness/src/harness/paths.py -> the repository root
REPO_ROOT = Path(__file__).resolve().parents[3]
FINAL_DIR = REPO_ROOT / "final"
SOLUTIONS_DIR = REPO_ROOT / "solutions"
# The benchmarks' committed results and their guide (data, not code).
BENCHMARKS_DIR = REPO_ROOT / "benchmarks"
# Run folders of the reliability suite's long forms (git-ignored).
STATE_DIR = REPO_ROOT / ".workshop"
