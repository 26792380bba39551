"""A compose file brought up for real, one service at a time in its declared order.

Each service is started with `compose up --no-deps`, and what its dependents wait for
(`service_healthy`, `service_completed_successfully`) is waited for here, reading the same
`depends_on` conditions. On Docker, compose could do the waiting itself; Podman 4.3 (Debian
bookworm's) cannot: podman-compose ignores `service_healthy` there ("podman 4.3.1 doesn't
support healthy"), Podman runs no health checks without systemd, and starting the app with its
dependencies fails in Podman's dependency graph. Doing it here is the same order on both.

An override file, written beside the run and never in the repository, swaps the official
images for stand-ins where needed (see workshop/engine.py) and publishes every port on a free
local port, so a stack never collides with the servers already on this machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from workshop.engine import Engine

CONDITION_STRENGTH = {
    "service_started": 0,
    "service_healthy": 1,
    "service_completed_successfully": 2,
}


# A service of a compose file, or the override's changes to one: YAML as PyYAML reads it.
Service = dict[str, Any]


class StackError(AssertionError):
    """A service did not get where its dependents need it; the message names it."""


class _Override(list[str]):
    """A list that replaces the compose file's instead of being merged with it."""


class _OverrideDumper(yaml.SafeDumper):
    pass


_OverrideDumper.add_representer(
    _Override, lambda dumper, data: dumper.represent_sequence("!override", list(data))
)


def compose_command(engine: Engine) -> list[str] | None:
    """How to run compose with this engine, or None if there is no compose for it."""
    if engine.name == "docker":
        probe = subprocess.run(
            [engine.executable, "compose", "version"], capture_output=True, check=False
        )
        return [engine.executable, "compose"] if probe.returncode == 0 else None
    beside_python = Path(sys.executable).parent / "podman-compose"
    found = str(beside_python) if beside_python.exists() else shutil.which("podman-compose")
    if found is None:
        return None
    return [found, "--podman-build-args", " ".join(engine.build_options())]


def start_order(services: dict[str, Service]) -> list[str]:
    """The services, each after everything it depends on; otherwise in the file's order."""
    ordered: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in ordered:
            return
        if name in path:
            raise StackError(f"depends_on goes round in a circle: {' -> '.join((*path, name))}")
        for dependency in dependencies(services[name]):
            if dependency in services:
                visit(dependency, (*path, name))
        ordered.append(name)

    for name in services:
        visit(name, ())
    return ordered


def dependencies(service: Service) -> dict[str, str]:
    """{dependency: condition}; the short list form means service_started."""
    value = service.get("depends_on") or {}
    if isinstance(value, list):
        return dict.fromkeys(value, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in value.items()}


def container_port(entry: str | int | dict[str, Any]) -> str:
    """The container's side of a `ports:` entry ("127.0.0.1:8000:8000" -> "8000")."""
    if isinstance(entry, dict):
        return str(entry["target"])
    return str(entry).rsplit(":", 1)[-1]


@dataclass
class ComposeStack:
    engine: Engine
    compose_file: Path
    project: str
    scratch: Path  # where the override file goes (a temporary directory)
    profiles: list[str] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    # Named build contexts to use instead of the file's (a copy of a chapter is not where the
    # file's relative `project: ../..` leads).
    build_contexts: dict[str, Path] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)  # what was done, for messages

    def __post_init__(self) -> None:
        command = compose_command(self.engine)
        if command is None:
            raise StackError(f"no compose command for {self.engine.name} here")
        self._command = command
        document = yaml.safe_load(self.compose_file.read_text())
        self.services: dict[str, Service] = document["services"]
        self.override = self.scratch / "compose.override.yml"
        self.override.write_text(yaml.dump(self._override(), Dumper=_OverrideDumper))

    def _override(self) -> dict[str, dict[str, Service]]:
        services: dict[str, Service] = {}
        for name, service in self.services.items():
            changes: Service = {}
            build = service.get("build")
            if isinstance(build, (str, dict)):
                context = build if isinstance(build, str) else build.get("context", ".")
                dockerfile = (
                    "Dockerfile"
                    if isinstance(build, str)
                    else build.get("dockerfile", "Dockerfile")
                )
                path = (self.compose_file.parent / context / dockerfile).resolve()
                build_changes: dict[str, object] = {}
                if path.exists() and (args := self.engine.base_image_arguments(path)):
                    build_changes["args"] = args
                named = (build.get("additional_contexts") or {}) if isinstance(build, dict) else {}
                if replaced := {n: str(p) for n, p in self.build_contexts.items() if n in named}:
                    build_changes["additional_contexts"] = replaced
                if build_changes:
                    changes["build"] = build_changes
            elif (image := service.get("image")) and (standin := self.engine.standin_for(image)):
                changes["image"] = standin
            if service.get("ports"):
                ports = {container_port(entry) for entry in service["ports"]}
                changes["ports"] = _Override(f"127.0.0.1::{port}" for port in sorted(ports))
            if changes:
                services[name] = changes
        return {"services": services}

    # --- running compose ------------------------------------------------------------------

    def compose(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        options = ["-p", self.project, "-f", str(self.compose_file), "-f", str(self.override)]
        for profile in self.profiles:
            options += ["--profile", profile]
        return subprocess.run(
            [*self._command, *options, *args],
            cwd=self.compose_file.parent,
            env={**os.environ, **self.environment},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def containers(self, service: str) -> list[str]:
        listed = self.engine.run(
            "ps", "--all", "--format", "{{.Names}}",
            "--filter", f"label=com.docker.compose.project={self.project}",
            "--filter", f"label=com.docker.compose.service={service}",
        )  # fmt: skip
        return sorted(listed.stdout.split())

    def published_port(self, service: str, port: int) -> int:
        return self.engine.published_port(self.containers(service)[0], port)

    def logs(self, service: str) -> str:
        return "\n".join(self.engine.logs(name)[-3000:] for name in self.containers(service))

    def down(self) -> None:
        self.compose("down", "--volumes", "--timeout", "1", timeout=300)

    def __enter__(self) -> ComposeStack:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.down()

    # --- bringing it up -------------------------------------------------------------------

    def needed_condition(self, name: str) -> str:
        """The strongest condition any service's depends_on puts on `name`."""
        wanted = [
            condition
            for other in self.services.values()
            for dependency, condition in dependencies(other).items()
            if dependency == name
        ]
        return max(
            wanted,
            key=lambda condition: CONDITION_STRENGTH.get(condition, -1),
            default="service_started",
        )

    def up(self, *, timeout: float = 240) -> None:
        """Start every service in order and wait for what its dependents need; the last ones
        (nobody depends on them) must end up healthy when they have a health check."""
        for name in start_order(self.services):
            build = ["--build"] if self.services[name].get("build") else []
            started = self.compose("up", "--detach", "--no-deps", *build, name)
            self.steps.append(f"up {name}: exit {started.returncode}")
            if started.returncode != 0:
                raise StackError(
                    f"`compose up {name}` failed (exit {started.returncode}):\n"
                    f"{started.stdout[-4000:]}{started.stderr[-4000:]}"
                )
            condition = self.needed_condition(name)
            required = condition != "service_started"
            if not self.is_dependency(name):
                condition = "service_healthy"  # a last service: healthy if it has a check
            for container in self.containers(name):
                self._wait(name, container, condition, timeout, required=required)

    def is_dependency(self, name: str) -> bool:
        return any(name in dependencies(other) for other in self.services.values())

    def _wait(
        self, name: str, container: str, condition: str, timeout: float, *, required: bool
    ) -> None:
        if condition == "service_completed_successfully":
            code = self.engine.exit_code(container, timeout=timeout)
            self.steps.append(f"{name} exited {code}")
            if code != 0:
                what = "still ran" if code is None else f"exited {code}"
                raise StackError(
                    f"{name} {what}, and the services that depend on it wait for it to exit 0 "
                    f"(service_completed_successfully).\n{last_words(self.engine, container)}"
                )
        elif condition == "service_healthy":
            status = self.engine.wait_healthy(container, timeout=timeout)
            self.steps.append(f"{name}: {status}")
            if status == "none" and required:
                raise StackError(
                    f"{name} has no healthcheck, yet a service waits for it with condition: "
                    "service_healthy: compose refuses to start that."
                )
            if status not in {"healthy", "none"}:
                check = self.engine.last_health_check(container)
                said = f" Its health check, run once more, says: {check}" if check else ""
                raise StackError(
                    f"{name} did not become healthy (its health check: {status}).{said}\n"
                    f"{last_words(self.engine, container)}"
                )


def last_words(engine: Engine, container: str, count: int = 12) -> str:
    """A container's last log line first (usually the error), then the lines before it."""
    lines = [line for line in engine.logs(container).splitlines() if line.strip()]
    if not lines:
        return "It wrote nothing."
    earlier = "\n".join(lines[-count:-1])
    return f"The container's last line: {lines[-1].strip()}\nBefore that:\n{earlier}"
