"""Build STAND-INS for the official base images, from Debian bookworm's packages.

These are not the official images. A machine that reaches no container registry (CI's) cannot
pull python:3.11-slim-bookworm, ghcr.io/astral-sh/uv, postgres or redis, so this script makes
look-alikes with mmdebstrap and imports them into Podman as localhost/workshop-standin-*:

    python   Debian's Python 3.11 (not a source build in /usr/local), with this machine's CA
             bundle so that builds reach the package registries through its TLS proxy
    uv       the uv binary from its PyPI wheel (the official image holds the same binary)
    postgres Debian's PostgreSQL 15 (the compose files name 16), official-style entrypoint
    redis    Debian's Redis 7, official-style entrypoint
    haproxy  Debian's HAProxy 2.6, run as the haproxy user like the official image

Builds pass them through the Dockerfiles' base-image ARGs (workshop/engine.py), so the
Dockerfile under test is the one that ships. A stand-in is rebuilt only when its recipe (this
file, its entrypoint, the CA bundle) changed: Podman's image store, outside the clone, is
the cache. Usage: uv run python containers/standins.py [--rebuild] [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the workshop package is beside it

from workshop.engine import STANDINS, Engine, find_engine  # noqa: E402

HERE = Path(__file__).resolve().parent
SUITE = "bookworm"
MIRRORS = [
    f"deb http://deb.debian.org/debian {SUITE} main",
    f"deb http://deb.debian.org/debian {SUITE}-updates main",
    f"deb http://deb.debian.org/debian-security {SUITE}-security main",
]
SLIM = [  # what the official slim images leave out too
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-include=/usr/share/doc/*/copyright",
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
    "--dpkgopt=path-exclude=/usr/share/info/*",
]
HOST_CA_BUNDLE = Path(os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"))
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
RECIPE_LABEL = "org.workshop.standin.recipe"
STANDIN_NOTE = "STAND-IN built from Debian bookworm packages, not the official image"


@dataclass(frozen=True)
class StandIn:
    official: str
    packages: list[str] = field(default_factory=list)
    hooks: list[str] = field(default_factory=list)  # mmdebstrap --customize-hook commands
    changes: list[str] = field(default_factory=list)  # podman import --change
    inputs: list[Path] = field(default_factory=list)  # files the recipe reads

    @property
    def tag(self) -> str:
        return STANDINS[self.official]

    def recipe_hash(self) -> str:
        digest = hashlib.sha256(Path(__file__).read_bytes())
        recipe = json.dumps([self.official, self.packages, self.hooks, self.changes])
        # The clone's own path must not count: CI's fresh clone reuses what a developer built.
        digest.update(recipe.replace(str(HERE), "containers").encode())
        for path in self.inputs:
            digest.update(path.read_bytes())
        return digest.hexdigest()[:16]


def copy_in(source: Path, target: str, mode: str = "0755") -> list[str]:
    return [f"upload {source} {target}", f'chmod {mode} "$1{target}"']


PYTHON = StandIn(
    official="python:3.11-slim-bookworm",
    packages=["python3", "python-is-python3", "ca-certificates", "netbase", "tzdata"],
    hooks=copy_in(HOST_CA_BUNDLE, "/etc/ssl/certs/ca-certificates.crt", "0644"),
    changes=[
        f"ENV PATH={DEFAULT_PATH}",
        "ENV LANG=C.UTF-8",
        # uv and pip read this bundle: the host's, which trusts the machine's TLS proxy.
        "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
        'CMD ["python3"]',
    ],
    inputs=[HOST_CA_BUNDLE],
)
POSTGRES = StandIn(
    official="postgres:16-alpine",
    packages=["postgresql-15"],
    hooks=[
        # Debian's package creates a cluster of its own; the entrypoint makes the image's.
        'rm -rf "$1/var/lib/postgresql/15" "$1/etc/postgresql/15"',
        *copy_in(HERE / "postgres-entrypoint.sh", "/usr/local/bin/docker-entrypoint.sh"),
    ],
    changes=[
        f"ENV PATH=/usr/lib/postgresql/15/bin:{DEFAULT_PATH}",
        "ENV PGDATA=/var/lib/postgresql/data",
        "ENV LANG=C.UTF-8",
        'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]',
        'CMD ["postgres"]',
        "STOPSIGNAL SIGINT",
        "EXPOSE 5432",
    ],
    inputs=[HERE / "postgres-entrypoint.sh"],
)
REDIS = StandIn(
    official="redis:7-alpine",
    packages=["redis-server", "redis-tools"],
    hooks=[
        'mkdir -p "$1/data"',
        *copy_in(HERE / "redis-entrypoint.sh", "/usr/local/bin/docker-entrypoint.sh"),
    ],
    changes=[
        f"ENV PATH={DEFAULT_PATH}",
        "WORKDIR /data",
        'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]',
        'CMD ["redis-server"]',
        "EXPOSE 6379",
    ],
    inputs=[HERE / "redis-entrypoint.sh"],
)
HAPROXY = StandIn(
    official="haproxy:2.6-alpine",
    # wget: the official alpine image's busybox has one, and the compose health check uses it.
    packages=["haproxy", "wget"],
    hooks=['mkdir -p "$1/usr/local/etc/haproxy"'],
    changes=[
        f"ENV PATH={DEFAULT_PATH}",
        "USER haproxy",  # as the official image: no root, so it binds ports above 1024
        'CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]',
        "STOPSIGNAL SIGUSR1",  # a soft stop: connections in flight finish
    ],
)
UV_VERSION = "0.13.9"
UV = StandIn(official=f"ghcr.io/astral-sh/uv:{UV_VERSION}", changes=['CMD ["/uv"]'])
ALL = [PYTHON, UV, POSTGRES, REDIS, HAPROXY]


def current(engine: Engine, standin: StandIn) -> bool:
    completed = engine.run(
        "image",
        "inspect",
        "--format",
        f'{{{{index .Config.Labels "{RECIPE_LABEL}"}}}}',
        standin.tag,
        check=False,
        timeout=30,
    )
    return completed.returncode == 0 and completed.stdout.strip() == standin.recipe_hash()


def debian_root(standin: StandIn, tarball: Path) -> None:
    """A minimal Debian bookworm with the stand-in's packages, as a tarball."""
    command = [
        "mmdebstrap",
        "--variant=minbase",
        "--quiet",
        *SLIM,
        f"--include={','.join(standin.packages)}",
        *[f"--customize-hook={hook}" for hook in standin.hooks],
        SUITE,
        str(tarball),
        *MIRRORS,
    ]
    subprocess.run(command, check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def uv_root(tarball: Path, workdir: Path) -> None:
    """/uv and /uvx from uv's PyPI wheel (the static musl build the official image holds)."""
    wheels = workdir / "wheels"
    subprocess.run(
        [  # pip, through uv: the virtualenv this runs in has no pip of its own
            "uv",
            "tool",
            "run",
            "--from",
            "pip",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--platform",
            "musllinux_1_1_x86_64",
            "--python-version",
            "3.11",
            "--dest",
            str(wheels),
            f"uv=={UV_VERSION}",
        ],
        check=True,
    )
    (wheel,) = wheels.glob("uv-*.whl")
    unpacked = workdir / "uv"
    subprocess.run(["python3", "-m", "zipfile", "-e", str(wheel), str(unpacked)], check=True)
    root = workdir / "root"
    root.mkdir()
    for name in ("uv", "uvx"):
        binary = root / name
        binary.write_bytes((unpacked / f"uv-{UV_VERSION}.data/scripts/{name}").read_bytes())
        binary.chmod(0o755)
    subprocess.run(["tar", "-C", str(root), "-cf", str(tarball), "uv", "uvx"], check=True)


def build(engine: Engine, standin: StandIn) -> None:
    with tempfile.TemporaryDirectory(prefix="workshop-standin-", dir="/var/tmp") as scratch:
        workdir = Path(scratch)
        tarball = workdir / "root.tar"
        if standin is UV:
            uv_root(tarball, workdir)
        else:
            debian_root(standin, tarball)
        changes = [
            *standin.changes,
            f"LABEL {RECIPE_LABEL}={standin.recipe_hash()}",
            f'LABEL org.opencontainers.image.description="{STANDIN_NOTE}: {standin.official}"',
        ]
        args = [arg for change in changes for arg in ("--change", change)]
        message = f"{STANDIN_NOTE}: {standin.official}"
        replaced = engine.run("image", "inspect", "--format", "{{.Id}}", standin.tag, check=False)
        engine.run("import", *args, "--message", message, str(tarball), standin.tag, timeout=600)
        if replaced.returncode == 0:  # the previous build, untagged now (kept if still in use)
            engine.run("image", "rm", replaced.stdout.strip(), check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="rebuild even if current")
    parser.add_argument("--check", action="store_true", help="only say which are missing")
    options = parser.parse_args()
    engine = find_engine()
    if engine is None or engine.name != "podman":
        print("Stand-ins are made for Podman: no working podman here.", file=sys.stderr)
        return 3
    print(f"Stand-ins for the official base images ({STANDIN_NOTE.lower()}):")
    missing = 0
    for standin in ALL:
        if current(engine, standin) and not options.rebuild:
            print(f"  {standin.tag:55} for {standin.official}: current")
            continue
        if options.check:
            print(f"  {standin.tag:55} for {standin.official}: MISSING or out of date")
            missing += 1
            continue
        started = time.monotonic()
        build(engine, standin)
        took = time.monotonic() - started
        print(f"  {standin.tag:55} for {standin.official}: built in {took:.0f} s")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
