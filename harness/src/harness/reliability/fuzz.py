"""Fuzzing every operation of the OpenAPI schema with Schemathesis, against a real server.

Schemathesis runs as a command in a process of its own (`schemathesis run URL/openapi.json`)
with every check it has, plus the service's own from schemathesis_hooks.py: no 500,
every error a problem document, every answer matching the schema, every operation reached.
Its JSON report gives the number of test cases; the server's metrics the requests answered.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.reliability.checks import metric_total
from harness.reliability.stack import Stack

HOOKS_MODULE = "harness.reliability.schemathesis_hooks"
TIMEOUT_SECONDS = 3600


@dataclass
class FuzzResult:
    command: str
    exit_code: int
    seconds: float
    seed: int | None
    operations: int
    test_cases: int
    requests_answered: int  # by the server, the fuzzer's own accounts included
    failures: list[dict[str, Any]]  # Schemathesis' failure groups (code, title, operations)
    errors: list[str]
    answers: dict[str, list[int]]  # operation -> the statuses it answered
    output_tail: str

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.failures and not self.errors

    def summary(self) -> str:
        return (
            f"Schemathesis: {self.operations} operations, {self.test_cases} test cases, "
            f"{self.requests_answered} requests answered in {self.seconds:.0f} s "
            f"(seed {self.seed}): {len(self.failures)} failures"
        )


def run_schemathesis(
    stack: Stack,
    work_dir: Path,
    *,
    max_examples: int,
    max_seconds: int | None = None,
    phases: str = "examples,coverage,fuzzing,stateful",
) -> FuzzResult:
    """Start a server, fuzz it, and return what Schemathesis found."""
    work_dir.mkdir(parents=True, exist_ok=True)
    # Production hides the schema the fuzzer reads: this instance publishes it.
    settings = stack.settings("fuzz", API_DOCS_ENABLED="true")
    server = stack.server("fuzz", settings, work_dir).start()
    report_path = work_dir / "schemathesis.json"
    answers_path = work_dir / "schemathesis-answers.json"
    command = [
        sys.executable,
        *("-m", "schemathesis.cli", "run", f"{server.url}/openapi.json"),
        *("--checks", "all", "--max-examples", str(max_examples), "--phases", phases),
        *("--generation-database", ":memory:", "--request-timeout", "30", "--no-color"),
        # With a time budget, fuzzing and stateful sequences repeat until it is spent.
        *(("--max-time", str(max_seconds)) if max_seconds else ()),
        *("--report", "json", "--report-json-path", str(report_path)),
    ]
    environment = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": HOOKS_MODULE,
        "REL_FUZZ_BASE_URL": server.url,
        "REL_FUZZ_DATABASE_URL": stack.database_url,
        "REL_FUZZ_REACHED_FILE": str(answers_path),
    }
    started = time.monotonic()
    try:
        before = metric_total(server.url, "http_responses_total")
        completed = subprocess.run(
            command,
            env=environment,
            cwd=work_dir,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
        answered = metric_total(server.url, "http_responses_total") - before - 1  # our scrape
    finally:
        server.stop()
    (work_dir / "schemathesis.log").write_text(completed.stdout + completed.stderr)
    report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    answers = json.loads(answers_path.read_text()) if answers_path.is_file() else {}
    return FuzzResult(
        # As a reader would type it: the server's address and the report's path left out.
        command=" ".join(["schemathesis run URL/openapi.json", *command[5:-4]]),
        exit_code=completed.returncode,
        seconds=time.monotonic() - started,
        seed=report.get("seed"),
        operations=report.get("operations", {}).get("tested", 0),
        test_cases=report.get("test_cases", {}).get("generated", 0),
        requests_answered=int(answered),
        failures=report.get("failures", []),
        errors=[str(error) for error in report.get("errors", [])],
        answers=answers,
        output_tail="\n".join((completed.stdout + completed.stderr).splitlines()[-60:]),
    )
