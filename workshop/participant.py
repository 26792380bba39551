"""Who is working in this clone: the name that keeps participants apart on shared servers.

In a classroom several people may use one PostgreSQL and one Redis (an instructor's server, a
shared machine). Everything `workshop serve` keeps there is named after the participant, and
after the chapter, so two clones, or two chapters of one clone, never share a database or a
Redis key: registering on one never answers 409 on another, and failed logins on one never
rate-limit another.

The participant is `WORKSHOP_PARTICIPANT` when set (a name the instructor hands out), else the
clone: the login name and a short fingerprint of the machine and the clone's path, so two
clones of one person differ too.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import socket
from pathlib import Path

PARTICIPANT_ENV = "WORKSHOP_PARTICIPANT"
MAX_SLUG = 24
POSTGRES_MAX_NAME = 63  # longer identifiers are cut by PostgreSQL itself


class BadParticipantName(ValueError):
    """WORKSHOP_PARTICIPANT holds nothing usable as a name."""


def slug(text: str) -> str:
    """`Ada Lovelace` -> `ada_lovelace`: lower case letters, digits and underscores."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:MAX_SLUG].strip("_")


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container with an unnamed uid)
        return "learner"


def clone_fingerprint(root: Path) -> str:
    """Six hex digits from the machine and the clone's path: stable while the clone stays."""
    where = f"{socket.gethostname()}:{root.resolve()}"
    return hashlib.sha256(where.encode()).hexdigest()[:6]


def participant(root: Path) -> str:
    """The participant's slug: from WORKSHOP_PARTICIPANT, else login name and clone."""
    if configured := os.environ.get(PARTICIPANT_ENV, "").strip():
        if not (name := slug(configured)):
            raise BadParticipantName(
                f"{PARTICIPANT_ENV}={configured!r} has no letter or digit to name you by: "
                "set it to a name such as `ada`, or unset it."
            )
        return name
    return f"{slug(_login_name()) or 'learner'}_{clone_fingerprint(root)}"


def database_name(root: Path, tree: str) -> str:
    """`workshop_ada_04_auth`: the database of one participant's code tree (a chapter's
    migration history differs from the next one's, so each tree has its own)."""
    name = f"workshop_{participant(root)}_{slug(tree)}"
    return name[:POSTGRES_MAX_NAME]


def redis_prefix(root: Path, tree: str) -> str:
    """`workshop:ada:04-auth:`: where one participant's code tree keeps its Redis keys."""
    return f"workshop:{participant(root)}:{tree}:"
