"""The attack catalogue of the long run: the attack tests (and the regression tests of the
bugs the suite found) run by pytest in a process of its own, read back from its JUnit
report, each with the statement its docstring makes (see final/tests/reliability/conftest.py)."""

from __future__ import annotations

import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

from harness.paths import FINAL_DIR, REPO_ROOT

# The attack tests live with the service's tests, where `uv run pytest` runs them too.
SUITE_DIR = FINAL_DIR / "tests" / "reliability"
AREAS = {
    "test_final_rel_attacks_tokens": "tokens",
    "test_final_rel_attacks_accounts": "accounts",
    "test_final_rel_attacks_input": "input",
    "test_final_rel_regressions": "regressions",
}


@dataclass
class AttackOutcome:
    area: str
    test: str
    statement: str
    outcome: str  # passed (refused as required), failed, error or skipped
    message: str = ""


def run_attack_tests(work_dir: Path) -> tuple[list[AttackOutcome], float]:
    work_dir.mkdir(parents=True, exist_ok=True)
    junit = work_dir / "attacks.xml"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += [str(SUITE_DIR / f"{module}.py") for module in AREAS]
    command += [f"--junitxml={junit}", "-o", "junit_family=xunit2"]
    started = time.monotonic()
    with (work_dir / "pytest.log").open("w") as log:
        subprocess.run(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, check=False)
    return read_junit(junit), time.monotonic() - started


def read_junit(path: Path) -> list[AttackOutcome]:
    if not path.is_file():
        return []
    outcomes = []
    for case in ElementTree.parse(path).iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        outcome, message = "passed", ""
        for kind in ("failure", "error", "skipped"):
            if (element := case.find(kind)) is not None:
                outcome = {"failure": "failed"}.get(kind, kind)
                message = (
                    (element.get("message") or "").splitlines()[0][:200]
                    if element.get("message")
                    else ""
                )
        outcomes.append(
            AttackOutcome(
                area=AREAS.get(module, module),
                test=case.get("name", ""),
                statement=properties.get("statement") or "",
                outcome=outcome,
                message=message,
            )
        )
    return outcomes
