"""`uv run python -m reliability --help`: the reliability suite's long forms, which write
final/RELIABILITY.md. The suite itself lives in final/tests/reliability/ (its helpers are
modules there, imported by name as pytest imports them)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The service's package `app` and the suite's helpers, as the pytest run sees them.
sys.path[:0] = [
    str(ROOT / "final"),
    str(ROOT / "final" / "tests"),  # final_proxy: the replica drill runs the shipped HAProxy config
    str(ROOT / "final" / "tests" / "reliability"),
]

from rel_main import main  # noqa: E402  (importable only once the paths are set)

sys.exit(main())
