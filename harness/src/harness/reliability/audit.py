"""The audit after a drill: what the clients were told, against what the database holds.

- Every 201 a client saw is a row, with the id it was given (rows lost: must be 0).
- No email has two rows, and no row appears that no client asked for (no write twice).
- Every user's name is the last rename it was told succeeded, or one it sent later and
  never heard back about (lost updates: must be 0).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from harness.reliability.checks import fetch
from harness.reliability.load import JournalRecord, RenameRecord


@dataclass
class Audit:
    registrations_acknowledged: int = 0  # 201s the clients saw
    rows: int = 0  # the drill's rows in the database
    rows_lost: list[str] = field(default_factory=list)  # 201 seen, no such row
    duplicates: list[str] = field(default_factory=list)  # an email with two rows
    unrequested: list[str] = field(default_factory=list)  # a row no client asked for
    applied_unacknowledged: int = 0  # a row whose 201 was lost in a fault (then 409 or none)
    renames_acknowledged: int = 0
    lost_updates: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        found = []
        if self.rows_lost:
            found.append(f"{len(self.rows_lost)} rows lost: {self.rows_lost[:5]}")
        if self.duplicates:
            found.append(f"{len(self.duplicates)} emails written twice: {self.duplicates[:5]}")
        if self.unrequested:
            found.append(f"{len(self.unrequested)} rows nobody asked for: {self.unrequested[:5]}")
        if self.lost_updates:
            found.append(f"{len(self.lost_updates)} lost updates: {self.lost_updates[:5]}")
        return found


def audit(database_url: str, journal: JournalRecord, email_domain: str) -> Audit:
    rows = fetch(
        database_url,
        "SELECT id::text AS id, lower(email) AS email, full_name FROM users WHERE email LIKE $1",
        f"%@{email_domain}",
    )
    result = Audit(rows=len(rows))
    by_email = {row["email"]: row for row in rows}
    counts = Counter(row["email"] for row in rows)
    result.duplicates = sorted(email for email, n in counts.items() if n > 1)

    asked = {registration["email"].lower() for registration in journal["registrations"]}
    result.unrequested = sorted(set(by_email) - asked)
    for registration in journal["registrations"]:
        email, user_id = registration["email"].lower(), registration["user_id"]
        row = by_email.get(email)
        if user_id is not None:
            result.registrations_acknowledged += 1
            if row is None or row["id"] != user_id:
                result.rows_lost.append(email)
        elif row is not None:
            result.applied_unacknowledged += 1

    names = {row["id"]: row["full_name"] for row in rows}
    renames_by_user: dict[str, list[RenameRecord]] = {}
    for rename in journal["renames"]:
        renames_by_user.setdefault(rename["user_id"], []).append(rename)
    for user_id, renames in renames_by_user.items():
        result.renames_acknowledged += sum(1 for r in renames if r["answer"] == 200)
        if user_id in names and names[user_id] not in acceptable_names(renames):
            result.lost_updates.append(f"{user_id}: {names[user_id]!r}")
    return result


def acceptable_names(renames: list[RenameRecord]) -> set[str]:
    """The last acknowledged name, and any sent after it whose outcome the client never
    learnt (no answer, or a 503 while the database was away)."""
    acknowledged = [i for i, r in enumerate(renames) if r["answer"] == 200]
    last = acknowledged[-1] if acknowledged else -1
    unknown = {r["value"] for r in renames[last + 1 :] if r["answer"] in {"cut", 503}}
    return ({renames[last]["value"]} if last >= 0 else {"Load"}) | unknown
