"""The steady load of the fault drills: a process of its own that uses the service as its
clients do, and writes down every answer it got.

    python -m harness.reliability.load SPEC.json RESULT.json

Each virtual client registers an account, logs in, then reads itself and others, lists a
page, renames itself and registers new accounts, with a short think time, until the drill
sends SIGTERM. It stands in for a load balancer too: a refused connection (nothing was
sent) goes to the next server at once.

Every attempt is recorded (time, operation, server, answer), and so is every write a
client meant to make, so the drill can prove afterwards that what the clients were told
was done is in the database, once.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import signal
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, TypedDict, TypeGuard

import httpx

PASSWORD = "load-password-1234"
PROBLEM_JSON = "application/problem+json"
REGISTRATION_RETRIES = 20
RETRY_PAUSE_SECONDS = 0.25

# What a client does, per hundred actions: mostly reads, as real users do.
ACTIONS = {
    "read_me": 30,
    "read_other": 40,  # a normal user sees others by their public fields; listing is for admins
    "rename_me": 15,
    "register": 10,
    "log_in": 5,
}


@dataclass
class Attempt:
    """One HTTP request and what came of it."""

    started: float
    ended: float
    action: str
    server: int
    status: int | None  # None: no HTTP answer (see `transport`)
    code: str | None = None  # the problem's `code` for an error
    transport: str | None = None  # "refused" (nothing sent) or "cut" (sent, no answer)
    problem: bool = True  # an error answered as application/problem+json
    retry_after: bool = False  # an error that says when to come back
    wrong_data: str | None = None  # a 2xx whose body contradicts the request


@dataclass
class Registration:
    email: str
    user_id: str | None = None  # set by a 201
    answers: list[int | str] = field(default_factory=list)


@dataclass
class Rename:
    user_id: str
    value: str
    answer: int | str  # the status, or "cut"/"refused"/"gave up"


@dataclass
class Journal:
    attempts: list[Attempt] = field(default_factory=list)
    registrations: list[Registration] = field(default_factory=list)
    renames: list[Rename] = field(default_factory=list)


class Spec(TypedDict):
    """What the drill asks of the load (SPEC.json)."""

    servers: list[str]  # base URLs, tried in turn
    clients: int
    think_seconds: list[float]  # [low, high]
    email_domain: str
    max_seconds: float  # a safety net: the drill stops the load itself


# The journal as RESULT.json holds it (`asdict(Journal)`), which the drill reads back.
class AttemptRecord(TypedDict):
    started: float
    ended: float
    action: str
    server: int
    status: int | None
    code: str | None
    transport: str | None
    problem: bool
    retry_after: bool
    wrong_data: str | None


class RegistrationRecord(TypedDict):
    email: str
    user_id: str | None
    answers: list[int | str]


class RenameRecord(TypedDict):
    user_id: str
    value: str
    answer: int | str


class JournalRecord(TypedDict):
    attempts: list[AttemptRecord]
    registrations: list[RegistrationRecord]
    renames: list[RenameRecord]


class Cluster:
    """The servers, tried in turn; a refused connection moves on to the next one."""

    def __init__(self, urls: list[str], journal: Journal) -> None:
        self.clients = [
            httpx.AsyncClient(base_url=url, timeout=10, limits=httpx.Limits(max_connections=64))
            for url in urls
        ]
        self.journal = journal
        self._turn = itertools.count()

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()

    async def request(
        self, action: str, method: str, path: str, **kwargs: Any
    ) -> httpx.Response | str:
        """The response, or "cut" when a server took the request and gave no answer."""
        first = next(self._turn)
        for offset in range(len(self.clients)):
            server = (first + offset) % len(self.clients)
            started = time.time()
            try:
                response = await self.clients[server].request(method, path, **kwargs)
            except httpx.ConnectError:
                self._record(action, server, started, None, transport="refused")
                continue
            except httpx.TransportError:
                self._record(action, server, started, None, transport="cut")
                return "cut"
            self._record(action, server, started, response)
            return response
        return "refused"

    def _record(
        self,
        action: str,
        server: int,
        started: float,
        response: httpx.Response | None,
        *,
        transport: str | None = None,
    ) -> None:
        attempt = Attempt(started, time.time(), action, server, None, transport=transport)
        if response is not None:
            attempt.status = response.status_code
            if response.status_code >= 400:
                attempt.problem = response.headers.get("content-type") == PROBLEM_JSON
                attempt.retry_after = "Retry-After" in response.headers
                if attempt.problem:
                    attempt.code = response.json().get("code")
        self.journal.attempts.append(attempt)

    def flag_wrong_data(self, detail: str) -> None:
        self.journal.attempts[-1].wrong_data = detail


def _answered(answer: httpx.Response | str, status: int) -> TypeGuard[httpx.Response]:
    return isinstance(answer, httpx.Response) and answer.status_code == status


class VirtualClient:
    def __init__(self, number: int, cluster: Cluster, spec: Spec, stop: asyncio.Event) -> None:
        self.number = number
        self.cluster = cluster
        self.spec = spec
        self.stop = stop
        self.user_id: str | None = None
        self.email = ""
        self.headers: dict[str, str] = {}
        self.renames = itertools.count()
        self.random = random.Random(number)

    @property
    def my_id(self) -> str:
        """The client's own account, which `start()` made before any action runs."""
        assert self.user_id is not None, "an action ran before start() made the account"
        return self.user_id

    def new_email(self) -> str:
        return f"c{self.number}-{uuid.uuid4().hex[:12]}@{self.spec['email_domain']}"

    async def register(self) -> Registration:
        """Register a new account; retry the same email until the answer is definite."""
        registration = Registration(email=self.new_email())
        self.cluster.journal.registrations.append(registration)
        account = {"email": registration.email, "password": PASSWORD, "full_name": "Load"}
        for _ in range(REGISTRATION_RETRIES):
            answer = await self.cluster.request("register", "POST", "/users", json=account)
            registration.answers.append(answer if isinstance(answer, str) else answer.status_code)
            if isinstance(answer, httpx.Response) and answer.status_code == 201:
                registration.user_id = answer.json()["id"]
                return registration
            if isinstance(answer, httpx.Response) and answer.status_code == 409:
                return registration  # an earlier attempt was applied; the drill finds its row
            if self.stop.is_set() and not isinstance(answer, str):
                return registration  # the drill is ending; only an unknown outcome is chased
            await asyncio.sleep(RETRY_PAUSE_SECONDS)  # 503 or no answer: the same email again
        return registration

    async def log_in(self) -> bool:
        form = {"username": self.email, "password": PASSWORD}
        answer = await self.cluster.request("log_in", "POST", "/auth/token", data=form)
        if isinstance(answer, httpx.Response) and answer.status_code == 200:
            self.headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
            return True
        return False

    async def start(self) -> None:
        """An account of its own, made and logged in even while a fault is on."""
        while self.user_id is None and not self.stop.is_set():
            registration = await self.register()
            if registration.user_id is not None:
                self.user_id, self.email = registration.user_id, registration.email
        while not self.headers and not self.stop.is_set():
            if not await self.log_in():
                await asyncio.sleep(RETRY_PAUSE_SECONDS)

    async def run(self) -> None:
        await self.start()
        actions, weights = zip(*ACTIONS.items(), strict=True)
        low, high = self.spec["think_seconds"]
        while not self.stop.is_set():
            action = self.random.choices(actions, weights)[0]
            await getattr(self, action)()
            await asyncio.sleep(self.random.uniform(low, high))

    async def read_me(self) -> None:
        answer = await self.cluster.request("read_me", "GET", "/users/me", headers=self.headers)
        await self._check_user(answer, self.my_id)

    async def read_other(self) -> None:
        recent = self.cluster.journal.registrations[-50:]
        user_id = self.random.choice([r.user_id for r in recent if r.user_id] or [self.my_id])
        answer = await self.cluster.request(
            "read_other", "GET", f"/users/{user_id}", headers=self.headers
        )
        await self._check_user(answer, user_id)

    async def rename_me(self) -> None:
        value = f"Load {self.number}-{next(self.renames)}"
        answer = await self.cluster.request(
            "rename_me", "PATCH", "/users/me", json={"full_name": value}, headers=self.headers
        )
        status = answer if isinstance(answer, str) else answer.status_code
        self.cluster.journal.renames.append(Rename(self.my_id, value, status))
        if _answered(answer, 200) and answer.json()["full_name"] != value:
            self.cluster.flag_wrong_data(f"renamed to {value!r}, answered another name")
        await self._log_in_again_if_refused(answer)

    async def _log_in_again_if_refused(self, answer: httpx.Response | str) -> None:
        # Never expected (the drill counts the 401 as an error), but the client carries on.
        if isinstance(answer, httpx.Response) and answer.status_code == 401:
            await self.log_in()

    async def _check_user(self, answer: httpx.Response | str, user_id: str) -> None:
        if _answered(answer, 200) and answer.json()["id"] != user_id:
            self.cluster.flag_wrong_data(f"asked for {user_id}, got another user")
        await self._log_in_again_if_refused(answer)


async def run(spec: Spec) -> Journal:
    journal = Journal()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    cluster = Cluster(spec["servers"], journal)
    try:
        clients = [VirtualClient(n, cluster, spec, stop) for n in range(spec["clients"])]
        runs = [asyncio.create_task(client.run()) for client in clients]
        try:
            async with asyncio.timeout(spec["max_seconds"]):
                await stop.wait()
        except TimeoutError:
            stop.set()
        await asyncio.gather(*runs)
    finally:
        await cluster.close()
    return journal


def main() -> None:
    spec_path, result_path = sys.argv[1:3]
    with open(spec_path, encoding="utf-8") as file:
        spec: Spec = json.load(file)
    journal = asyncio.run(run(spec))
    with open(result_path, "w", encoding="utf-8") as file:
        json.dump(asdict(journal), file)


if __name__ == "__main__":
    main()
