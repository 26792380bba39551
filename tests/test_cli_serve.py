"""`workshop serve 01` runs the chapter's service with uvicorn, and stops cleanly."""

import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from localservices import free_port
from workshop.manifest import ROOT_ENV


def wait_for(url: str, server: subprocess.Popen, timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, server.communicate()[0]
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)  # polling a server that is starting, not a timing assertion
    raise AssertionError(f"{url} did not answer within {timeout} s")


def test_serve_runs_the_solved_chapter_and_stops_on_sigterm(workshop_root, solve_chapter):
    solve_chapter("01-config")
    port = free_port()
    env = dict(os.environ, **{ROOT_ENV: str(workshop_root)})
    server = subprocess.Popen(
        [sys.executable, "-m", "workshop", "serve", "01", "--port", str(port), "--no-reload"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        response = wait_for(f"http://127.0.0.1:{port}/health/live", server)

        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert float(response.headers["x-process-time"]) >= 0
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
    assert server.returncode == 0, output
    assert f"Serving chapter 01 from {workshop_root / 'chapters/01-config'}" in output


def test_serve_refuses_a_port_in_use(run_workshop):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        finished = run_workshop("serve", "01", "--port", str(port))

    assert finished.returncode == 3
    assert f"Port {port} is in use" in finished.stderr
