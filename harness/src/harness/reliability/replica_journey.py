"""Locust for the replica drill: the benchmarks' mixed journey (bench/scenarios/journey.py)
through the proxy, unchanged, with every request written down and every write the service
acknowledged, so the drill can time the failover and audit the database afterwards.
replicas.read_journal() reads it back.

    locust -f rel_replica_journey.py ReplicaJourneyUser ...   (REPLICA_JOURNAL=where to write)
"""

from __future__ import annotations

import json
import os
from typing import Any

from locust import events
from locust.env import Environment

from harness.bench.scenarios.journey import JourneyUser

JOURNAL_ENV = "REPLICA_JOURNAL"
# One JSON line per event, written as it happens (line-buffered): an answer that arrives while
# Locust shuts down is written down too.
_journal = open(os.environ[JOURNAL_ENV], "a", buffering=1, encoding="utf-8")  # noqa: SIM115


def _write(kind: str, **fields: object) -> None:
    _journal.write(json.dumps({"kind": kind, **fields}) + "\n")


class ReplicaJourneyUser(JourneyUser):
    """The journey's user, whose requests say whose they are (for the audit of renames)."""

    def context(self) -> dict[str, str | None]:
        return {"email": getattr(self, "email", None)}


@events.request.add_listener
def _write_down(
    request_type: str,
    name: str,
    response_time: float,
    response: Any = None,  # Locust's client's response: requests' or its own (FastHttpUser)
    context: dict[str, Any] | None = None,
    exception: BaseException | None = None,
    **kwargs: Any,
) -> None:
    started = kwargs.get("start_time") or 0.0
    status = getattr(response, "status_code", 0) or 0
    # [started (epoch s), method, name, milliseconds, status (0: no answer), failed]
    row = [started, request_type, name, round(response_time, 1), status, bool(exception)]
    _write("request", row=row)
    if request_type == "POST" and name == "/users" and status == 201:
        body = response.json()
        _write("registered", id=body["id"], email=body["email"])
    elif request_type == "PATCH" and name == "/users/me":
        value = response.json().get("full_name") if status == 200 else None
        email = (context or {}).get("email")
        _write("rename", email=email, at=started, answer=status, value=value)


@events.quitting.add_listener
def _close(environment: Environment, **kwargs: Any) -> None:
    _journal.flush()
