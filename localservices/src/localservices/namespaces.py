"""Redis key prefixes of their own: one per test session, emptied at the end."""

from __future__ import annotations

import os
import secrets
from contextlib import closing

BATCH = 500


def new_namespace(label: str = "test") -> str:
    """A Redis key prefix no other run uses."""
    return f"ws:{label}:{os.getpid()}:{secrets.token_hex(3)}:"


def delete_namespace(redis_url: str, prefix: str) -> int:
    """Delete every key under a namespace prefix; returns how many were removed."""
    import redis

    removed = 0
    with closing(redis.Redis.from_url(redis_url)) as client:
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{prefix}*", count=BATCH):
            batch.append(key)
            if len(batch) >= BATCH:
                removed += int(client.delete(*batch))
                batch.clear()
        if batch:
            removed += int(client.delete(*batch))
    return removed
