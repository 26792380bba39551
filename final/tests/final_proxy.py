"""The load balancer's configuration (final/deploy/haproxy/haproxy.cfg), read and checked.

`sections()` reads it into its sections for the content tests; `check_config()` is HAProxy's
own check. The harness runs it (harness/src/harness/proxy.py) with only its addresses moved.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from harness.proxy import BACKEND, HAPROXY_CONFIG, haproxy_binary

__all__ = ["BACKEND", "HAPROXY_CONFIG", "check_config", "directive", "sections"]


def check_config(path: Path) -> subprocess.CompletedProcess[str]:
    """`haproxy -c`: HAProxy's own check of a configuration file."""
    return subprocess.run(
        [haproxy_binary(), "-c", "-f", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _without_comment(line: str) -> str:
    return re.sub(r"\s+#.*$|^\s*#.*$", "", line).rstrip()


def sections(text: str | None = None) -> dict[str, list[str]]:
    """{"frontend users": [directive, ...], ...}: each section's directives, comments dropped."""
    text = HAPROXY_CONFIG.read_text() if text is None else text
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for raw in text.splitlines():
        line = _without_comment(raw)
        if not line.strip():
            continue
        if not line[0].isspace():
            current = found.setdefault(line.strip(), [])
        else:
            current.append(" ".join(line.split()))
    return found


def directive(section: list[str], keyword: str) -> list[str]:
    """The directives of a section that start with `keyword`."""
    return [line for line in section if line == keyword or line.startswith(keyword + " ")]
