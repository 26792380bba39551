"""The container engine on this machine, if any: Docker, or Podman where Docker is not there.

Chapter 07's check, the doctor and the finished service's image tests build and run images
through it. Where no registry is reachable (CI's machine), `containers/standins.py` builds
stand-ins for the official base images from Debian packages; a build then passes them as
build arguments (`ARG PYTHON_IMAGE=python:3.11-slim-bookworm` in the Dockerfiles) and says
so, and nothing else differs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The official images the repository's Dockerfiles and compose files name, and the stand-in
# that `containers/standins.py` builds for each from Debian bookworm's packages. The stand-ins'
# names do not end like the official ones: Podman would otherwise take a local
# `.../python:3.11-slim-bookworm` for `python:3.11-slim-bookworm`, and a build would use a
# stand-in without saying so.
STANDIN_PREFIX = "localhost/workshop-standin-"
STANDINS = {
    "python:3.11-slim-bookworm": f"{STANDIN_PREFIX}python:3.11-slim-bookworm",
    "ghcr.io/astral-sh/uv:0.13.9": f"{STANDIN_PREFIX}uv:0.13.9",
    "postgres:16-alpine": f"{STANDIN_PREFIX}postgres:15-bookworm",
    "redis:7-alpine": f"{STANDIN_PREFIX}redis:7-bookworm",
    "haproxy:2.6-alpine": f"{STANDIN_PREFIX}haproxy:2.6-bookworm",
}
GLOBAL_ARG = re.compile(r"^\s*ARG\s+(\w+)=(\S+)\s*$", re.IGNORECASE)


class EngineError(RuntimeError):
    """An engine command failed; the message carries its output."""


@dataclass(frozen=True)
class Engine:
    name: str  # "docker" or "podman"
    executable: str
    version: str

    def describe(self) -> str:
        return f"{self.name} {self.version}"

    def run(
        self, *args: str, timeout: float = 120, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        completed = subprocess.run(
            [self.executable, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and completed.returncode != 0:
            raise EngineError(
                f"`{self.name} {' '.join(args[:3])} ...` exited {completed.returncode}:\n"
                f"{completed.stdout[-3000:]}{completed.stderr[-3000:]}"
            )
        return completed

    def has_image(self, image: str) -> bool:
        return self.run("image", "inspect", image, check=False, timeout=30).returncode == 0

    def standin_for(self, image: str) -> str | None:
        """The stand-in to use for an official image: only when the official one is not here
        and the stand-in is (a machine with a registry pulls the official image)."""
        standin = STANDINS.get(image)
        if standin is None or self.has_image(qualified(image)) or not self.has_image(standin):
            return None
        return standin

    def base_image_arguments(self, dockerfile: Path) -> dict[str, str]:
        """Build arguments that swap the Dockerfile's base-image ARGs for stand-ins, if needed."""
        swapped = {}
        for line in dockerfile.read_text().splitlines():
            if line.lstrip().upper().startswith("FROM"):
                break  # only the global ARGs, before the first stage, can name base images
            match = GLOBAL_ARG.match(line)
            if match and (standin := self.standin_for(match.group(2))):
                swapped[match.group(1)] = standin
        return swapped

    def build_options(self) -> list[str]:
        if self.name != "podman":
            return []
        # Docker's image format, or Podman drops the HEALTHCHECK (OCI images have none); the
        # host's network, the only one from which the build reaches the package registries.
        return ["--format", "docker", "--network", "host"]

    def build(
        self,
        context: Path,
        *,
        tag: str,
        dockerfile: Path | None = None,
        build_contexts: dict[str, Path] | None = None,
        timeout: float = 1200,
    ) -> subprocess.CompletedProcess[str]:
        """Build an image; the completed process (its output says what failed)."""
        dockerfile = dockerfile or context / "Dockerfile"
        args = ["build", *self.build_options(), "-t", tag, "-f", str(dockerfile)]
        for name, value in self.base_image_arguments(dockerfile).items():
            args += ["--build-arg", f"{name}={value}"]
        for name, path in (build_contexts or {}).items():
            args += ["--build-context", f"{name}={path}"]
        return self.run(*args, str(context), timeout=timeout, check=False)

    def inspect(self, container: str) -> dict[str, Any]:
        output = self.run("inspect", "--type", "container", container, timeout=30).stdout
        details: dict[str, Any] = json.loads(output)[0]  # the engine's JSON, as it is
        return details

    def health(self, container: str) -> str:
        """The container's health: starting, healthy, unhealthy, or none (no HEALTHCHECK).

        Podman runs health checks from systemd timers; where there is no systemd (CI's
        machine) nothing would run them, so the check is run here, once per call: it is the
        image's own HEALTHCHECK, run in the container, and it updates the same status."""
        details = self.inspect(container)
        if not (details.get("Config") or {}).get("Healthcheck"):
            return "none"
        if self.name == "podman":
            self.run("healthcheck", "run", container, check=False, timeout=60)
            details = self.inspect(container)
        state = details.get("State", {})
        health = state.get("Health") or state.get("Healthcheck") or {}
        return str(health.get("Status", "")).lower() or "starting"

    def last_health_check(self, container: str) -> str:
        """The health check's command run once more in the container: the last line it
        prints (the error, usually), or '' when it passes or there is none."""
        test = ((self.inspect(container).get("Config") or {}).get("Healthcheck") or {}).get(
            "Test"
        ) or []
        if not test or test[0] not in {"CMD", "CMD-SHELL"}:
            return ""
        command = test[1:] if test[0] == "CMD" else ["/bin/sh", "-c", " ".join(test[1:])]
        completed = self.run("exec", container, *command, check=False, timeout=60)
        lines = [line for line in (completed.stdout + completed.stderr).splitlines() if line]
        return lines[-1].strip() if completed.returncode != 0 and lines else ""

    def wait_healthy(self, container: str, *, timeout: float = 120, interval: float = 1.0) -> str:
        """Poll until the container is healthy, stopped or out of time; the last status."""
        deadline = time.monotonic() + timeout
        status = ""
        while time.monotonic() < deadline:
            if not self.inspect(container).get("State", {}).get("Running"):
                return "exited"
            status = self.health(container)
            if status in {"healthy", "unhealthy", "none"}:  # unhealthy: its retries ran out
                return status
            time.sleep(interval)  # a poll interval, like the engine's own --interval
        return status or "starting"

    def host_access(self) -> tuple[list[str], str]:
        """(run options, address) for a container to reach servers on this machine's loopback,
        such as the shared PostgreSQL and Redis, while its own ports stay its own."""
        if self.name == "podman":
            # slirp4netns forwards the container's 10.0.2.2 to the host's 127.0.0.1.
            return ["--network", "slirp4netns:allow_host_loopback=true"], "10.0.2.2"
        return ["--add-host", "host.docker.internal:host-gateway"], "host.docker.internal"

    def published_port(self, container: str, port: int) -> int:
        output = self.run("port", container, f"{port}/tcp", timeout=30).stdout
        return int(output.split()[0].rsplit(":", 1)[1])

    def exit_code(self, container: str, *, timeout: float = 60) -> int | None:
        """The container's exit code once it stops; None if it still runs after `timeout`."""
        try:
            return int(self.run("wait", container, timeout=timeout).stdout.split()[0])
        except subprocess.TimeoutExpired:
            return None

    def remove(self, *containers: str) -> None:
        if containers:
            # Podman would wait 10 s for each running one to stop first: they are done with.
            quick = ["--time", "1"] if self.name == "podman" else []
            self.run("rm", "--force", *quick, *containers, check=False, timeout=120)

    def logs(self, container: str) -> str:
        completed = self.run("logs", container, check=False, timeout=60)
        return completed.stdout + completed.stderr


def qualified(image: str) -> str:
    """The full name of an image (`python:3.11` -> `docker.io/library/python:3.11`), so that a
    lookup never matches a local image that merely ends the same way."""
    first = image.split("/", 1)[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        return image
    return f"docker.io/{image}" if "/" in image else f"docker.io/library/{image}"


def find_engine() -> Engine | None:
    """Docker if its daemon answers, else Podman if it works; WORKSHOP_CONTAINER_ENGINE
    (docker, podman or none) decides instead."""
    wanted = os.environ.get("WORKSHOP_CONTAINER_ENGINE", "").strip().lower()
    if wanted == "none":
        return None
    candidates = [wanted] if wanted else ["docker", "podman"]
    for name in candidates:
        executable = shutil.which(name)
        if executable is None:
            continue
        try:
            answered = subprocess.run(
                [executable, "version", "--format", "{{.Server.Version}}"],
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        version = answered.stdout.strip()
        if answered.returncode == 0 and version:
            return Engine(name=name, executable=executable, version=version)
    return None
