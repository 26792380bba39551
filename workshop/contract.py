"""The chapter contract, checked by `workshop dev verify` and by the repository's tests.

For every chapter:
1. the manifest agrees with the files (they exist, tests carry their exercise's marker, every
   exercise has hints and a TODO in the starter, the README and the docs page exist);
2. the starter is the previous chapter's solution plus what the manifest names (no drift), and
   the solution is the starter plus its exercises' files;
3. on the starter, every exercise's tests fail on an assertion, untagged tests pass, and
   nothing fails to collect;
4. on the solution, every test passes, against real PostgreSQL and Redis.

Each broken rule is a `Finding`: one sentence that says what is wrong and where.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from workshop import checking
from workshop.checking import CheckRequest, CheckResult
from workshop.manifest import Chapter, Manifest

# Never part of a code tree: caches, the learner's own `.env`, editor droppings.
IGNORED_NAMES = frozenset(
    {"__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".env", ".DS_Store"}
)
IGNORED_SUFFIXES = (".pyc", ".pyo", ".swp")
# In a chapter's directory but not in its code tree: they exist for the learner only.
WORKSPACE_ONLY = frozenset({"README.md", "tests"})
DOCS_MARKERS = ("objectives", "exercises", "check", "key-points")
EXERCISE_MARKER = re.compile(r"""pytest\.mark\.exercise\(\s*["']([^"']+)["']\s*\)""")


@dataclass(frozen=True)
class Finding:
    rule: str  # manifest, drift, starter, solution, environment
    message: str


@dataclass
class Verification:
    chapter: Chapter
    findings: list[Finding] = field(default_factory=list)
    starter: CheckResult | None = None
    solution: CheckResult | None = None

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def environment_broken(self) -> bool:
        return any(finding.rule == "environment" for finding in self.findings)


# --- code trees -------------------------------------------------------------------------------


def _ignored(path: Path) -> bool:
    return path.name in IGNORED_NAMES or path.name.endswith(IGNORED_SUFFIXES)


def code_files(directory: Path, *, workspace: bool = False) -> dict[str, bytes]:
    """Every file of a code tree by its relative POSIX path (a workspace minus README/tests)."""
    files: dict[str, bytes] = {}
    if not directory.is_dir():
        return files
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if any(_ignored(Path(part)) for part in relative.parts) or not path.is_file():
            continue
        if workspace and relative.parts[0] in WORKSPACE_ONLY:
            continue
        files[relative.as_posix()] = path.read_bytes()
    return files


def copy_tree(source: Path, destination: Path) -> None:
    shutil.copytree(
        source, destination, ignore=lambda _, names: [n for n in names if _ignored(Path(n))]
    )


def solved_workspace(root: Path, chapter: Chapter, destination: Path) -> None:
    """The chapter's README and tests with the solution's code tree: what a finished learner has."""
    workspace = root / chapter.directory
    destination.mkdir(parents=True)
    for name in WORKSPACE_ONLY:
        if (workspace / name).is_dir():
            copy_tree(workspace / name, destination / name)
        elif (workspace / name).is_file():
            shutil.copy2(workspace / name, destination / name)
    for relative, content in code_files(root / chapter.solution_directory).items():
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


# --- rule 1: the manifest agrees with the files -------------------------------------------------


def check_manifest(manifest: Manifest, chapter: Chapter) -> list[Finding]:
    root = manifest.root
    workspace = root / chapter.directory
    solution = root / chapter.solution_directory
    problems: list[str] = []
    for directory in (chapter.directory, chapter.solution_directory):
        if not (root / directory).is_dir():
            problems.append(f"{directory}/ does not exist yet")
    if problems:
        return [Finding("manifest", problem) for problem in problems]
    if not chapter.exercises:
        problems.append("the manifest declares no exercises for this chapter")
    problems += _docs_page_problems(root, chapter)
    readme = workspace / "README.md"
    readme_text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    if not readme_text:
        problems.append(f"{chapter.directory}/README.md is missing")
    for path in chapter.scaffolding:
        if not (workspace / path).is_file():
            problems.append(f"scaffolding file {chapter.directory}/{path} does not exist")
    for exercise in chapter.exercises:
        where = f"exercise {exercise.id}"
        if len(exercise.hints) < 2:
            problems.append(f"{where} has {len(exercise.hints)} hint(s); give it at least two")
        if not exercise.files:
            problems.append(f"{where} lists no files")
        if not exercise.tests:
            problems.append(f"{where} lists no test files")
        if readme_text and exercise.id not in readme_text:
            problems.append(f"{chapter.directory}/README.md does not mention {exercise.id}")
        for path in exercise.files:
            if not (workspace / path).is_file() and not (solution / path).is_file():
                problems.append(f"{where}: {path} exists in neither the starter nor the solution")
        if chapter.kind == "exercises" and not _has_todo(workspace, exercise.files, exercise.id):
            problems.append(
                f"{where}: no `TODO({exercise.id})` in its starter files {list(exercise.files)}"
            )
        for path in exercise.tests:
            shown = f"{chapter.directory}/{path}"
            if chapter.kind == "exercises":
                problems += _test_file_problems(workspace / path, shown, where)
            elif not (workspace / path).is_file():
                problems.append(f"{where}: its test file {shown} does not exist")
    for section in chapter.worked:
        where = f"worked section {section.id}"
        if not section.features:
            problems.append(f"{where} names no feature of the finished service")
        for path in section.files:
            if not (workspace / path).is_file():
                problems.append(f"{where}: {path} is not in the starter, which gives its code")
        for path in section.tests:
            test_file = workspace / path
            if not test_file.is_file():
                problems.append(f"{where}: its test file {chapter.directory}/{path} does not exist")
            elif EXERCISE_MARKER.search(test_file.read_text(encoding="utf-8")):
                problems.append(
                    f"{where}: {chapter.directory}/{path} carries an exercise marker; a worked "
                    "section's tests pass on the starter, so they have none"
                )
    for relative, content in code_files(solution).items():
        if b"TODO(" in content:
            problems.append(f"{chapter.solution_directory}/{relative} still has a TODO marker")
    return [Finding("manifest", problem) for problem in problems]


def _docs_page_problems(root: Path, chapter: Chapter) -> list[str]:
    page = root / chapter.docs_page
    if not page.is_file():
        return [f"the docs page {chapter.docs_page} does not exist"]
    text = page.read_text(encoding="utf-8")
    positions = [text.find(f"<!-- workshop:{marker} -->") for marker in DOCS_MARKERS]
    missing = [m for m, at in zip(DOCS_MARKERS, positions, strict=True) if at < 0]
    if missing:
        return [f"{chapter.docs_page} lacks the markers {missing}"]
    if positions != sorted(positions):
        return [f"{chapter.docs_page} must place its markers in the order {list(DOCS_MARKERS)}"]
    return []


def _has_todo(workspace: Path, files: tuple[str, ...], exercise_id: str) -> bool:
    marker = f"TODO({exercise_id})"
    return any(
        (workspace / path).is_file() and marker in (workspace / path).read_text(encoding="utf-8")
        for path in files
    )


def _test_file_problems(path: Path, shown: str, where: str) -> list[str]:
    if not path.is_file():
        return [f"{where}: its test file {shown} does not exist"]
    exercise_id = where.removeprefix("exercise ")
    marked = set(EXERCISE_MARKER.findall(path.read_text(encoding="utf-8")))
    if marked != {exercise_id}:
        found = sorted(marked) or "none"
        return [f'{shown} should be marked pytest.mark.exercise("{exercise_id}"); found {found}']
    return []


# --- rule 2: no drift -------------------------------------------------------------------------


def check_drift(manifest: Manifest, chapter: Chapter) -> list[Finding]:
    root = manifest.root
    previous = manifest.previous(chapter)
    base_name = f"{previous.solution_directory}" if previous else "an empty tree (first chapter)"
    # A write-tests chapter's solution holds its tests/; the next starter does not carry them.
    base = code_files(root / previous.solution_directory, workspace=True) if previous else {}
    starter = code_files(root / chapter.directory, workspace=True)
    solution = code_files(root / chapter.solution_directory)
    exercise_files = {path for exercise in chapter.exercises for path in exercise.files}
    worked_files = {path for section in chapter.worked for path in section.files}
    given = set(chapter.scaffolding) | worked_files
    findings = [
        Finding(
            "drift",
            f"{chapter.directory}/{path} {_how_it_differs(base, starter, path)} {base_name}, "
            "but neither `scaffolding`, a worked section's nor an exercise's `files` names it",
        )
        for path in sorted(base.keys() | starter.keys())
        if base.get(path) != starter.get(path) and path not in exercise_files | given
    ]
    findings += [
        Finding(
            "drift",
            f"{chapter.solution_directory}/{path} {_how_it_differs(starter, solution, path)} "
            f"the starter {chapter.directory}, but no exercise's `files` names it",
        )
        for path in sorted(starter.keys() | solution.keys())
        if starter.get(path) != solution.get(path) and path not in exercise_files
    ]
    return findings


def _how_it_differs(before: dict[str, bytes], after: dict[str, bytes], path: str) -> str:
    if path not in after:
        return "is missing, though it is in"
    if path not in before:
        return "is new: it is not in"
    return "differs from the same file in"


# --- rule 6: final/ is where the last chapter ends ---------------------------------------------

FINAL_DIRECTORY = Path("final")
FINAL_CODE = ("app", "migrations")  # final/'s tests, Dockerfile and deploy files are its own


def check_final(manifest: Manifest) -> list[Finding]:
    """final/app and final/migrations are the last chapter's solution, file for file."""
    last = manifest.chapters[-1]
    findings = []
    for part in FINAL_CODE:
        final = code_files(manifest.root / FINAL_DIRECTORY / part)
        solution = code_files(manifest.root / last.solution_directory / part)
        for path in sorted(final.keys() | solution.keys()):
            if final.get(path) != solution.get(path):
                findings.append(
                    Finding(
                        "final",
                        f"{FINAL_DIRECTORY}/{part}/{path} "
                        f"{_how_it_differs(solution, final, path)} "
                        f"{last.solution_directory}/{part}: the finished service must be the "
                        "last chapter's solution (change both, or move the change into a "
                        "chapter)",
                    )
                )
    return findings


# --- rules 3 and 4: the starter fails where expected, the solution passes ---------------------


def check_starter(result: CheckResult) -> list[Finding]:
    findings = _broken_run(result, "starter")
    if findings:
        return findings
    problems: list[str] = []
    chapter = result.chapter
    for test in result.untagged:
        if test.outcome not in ("passed", "skipped"):
            problems.append(f"{test.nodeid} has no exercise marker and fails: {test.message}")
    for exercise_result in result.exercises:
        exercise = exercise_result.exercise
        if not exercise_result.tests:
            problems.append(f"no test of {exercise.id} ran: mark its tests with its id")
        for test in exercise_result.tests:
            test_file = test.nodeid.split("::", 1)[0]
            if chapter.kind == "exercises" and test_file not in exercise.tests:
                problems.append(f"{test.nodeid} is marked {exercise.id}, whose tests omit it")
            if test.outcome == "passed":
                problems.append(
                    f"{test.nodeid} passes on the starter: the starter must leave "
                    f"{exercise.id} undone (solved it as a learner? "
                    f"`uv run workshop reset {chapter.number}` restores the starter)"
                )
            elif test.outcome == "skipped":
                problems.append(f"{test.nodeid} is skipped on the starter: it must fail")
            elif not test.is_assertion:
                crash = test.exception or test.outcome
                problems.append(
                    f"{test.nodeid} fails with {crash} instead of an assertion that names "
                    f"{exercise.id}: {_first_line(test.message)}"
                )
    return [Finding("starter", problem) for problem in problems]


def check_solution(result: CheckResult) -> list[Finding]:
    findings = _broken_run(result, "solution")
    if findings:
        return findings
    every_test = [test for r in result.exercises for test in r.tests]
    every_test += result.untagged + result.stray
    return [
        Finding("solution", f"{test.nodeid} is {test.outcome} on the solution: {test.message}")
        for test in every_test
        if test.outcome != "passed"
    ]


def _broken_run(result: CheckResult, tree: str) -> list[Finding]:
    if result.environment_error:
        return [Finding("environment", result.environment_error)]
    if result.crashed:
        tail = "\n".join(result.output.strip().splitlines()[-15:])
        return [Finding(tree, f"pytest could not run the {tree}'s tests:\n{tail}")]
    findings = [
        Finding(tree, f"{error['nodeid']} fails to collect on the {tree}: {error['message']}")
        for error in result.collection_errors
    ]
    findings += [
        Finding(tree, f"{test.nodeid} is marked {test.exercise}, which this chapter lacks")
        for test in result.stray
    ]
    return findings


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else ""


# --- all rules for one chapter ----------------------------------------------------------------


def verify_chapter(manifest: Manifest, chapter: Chapter, *, env: dict[str, str]) -> Verification:
    """Every rule of the contract for one chapter; `env` carries the resolved service URLs."""
    verification = Verification(chapter, check_manifest(manifest, chapter))
    trees = (manifest.root / chapter.directory, manifest.root / chapter.solution_directory)
    if not all(tree.is_dir() for tree in trees) or not chapter.exercises:
        return verification
    verification.findings += check_drift(manifest, chapter)
    if chapter == manifest.chapters[-1]:
        verification.findings += check_final(manifest)
    with tempfile.TemporaryDirectory(prefix=f"workshop-verify-{chapter.slug}-") as scratch:
        starter_tree = Path(scratch) / "starter" / chapter.slug
        solved_tree = Path(scratch) / "solution" / chapter.slug
        copy_tree(manifest.root / chapter.directory, starter_tree)
        solved_workspace(manifest.root, chapter, solved_tree)
        # Two independent pytest processes: run them side by side.
        with ThreadPoolExecutor(max_workers=2) as pool:
            starter_run = pool.submit(checking.run_check, CheckRequest(chapter, starter_tree, env))
            solved_run = pool.submit(checking.run_check, CheckRequest(chapter, solved_tree, env))
            verification.starter = starter_run.result()
            verification.solution = solved_run.result()
    verification.findings += check_starter(verification.starter)
    verification.findings += check_solution(verification.solution)
    # The same missing service would otherwise be reported twice.
    unique = list(dict.fromkeys(verification.findings))
    verification.findings = unique
    return verification
