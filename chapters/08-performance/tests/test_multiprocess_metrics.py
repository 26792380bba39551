"""Worked section performance.multiprocess_metrics: /metrics adds up every worker process,
keeps a stopped worker's gauge out of the sums, and is served only to who may read it.

The chapter gives this code (app/metrics.py's read_metrics and forget_this_process, the
METRICS_TOKEN setting): these tests pass before and after the exercises.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from scraping import parse

from app.config import Settings

CHAPTER = Path(__file__).resolve().parents[1]
METRICS_TOKEN = "a-scraper-token-0123456789"
# What one worker process does: count three answers, hold two connections, and maybe stop.
WORKER = """
from app.metrics import DB_POOL_CONNECTIONS_IN_USE, RESPONSES, forget_this_process
RESPONSES.labels("GET", "/users/me", "200").inc({answers})
DB_POOL_CONNECTIONS_IN_USE.inc({connections})
if {stopped}:
    forget_this_process()
"""


def run_workers(directory: Path, *workers: dict[str, object]) -> None:
    """Processes of their own, as uvicorn workers are, writing to the shared directory."""
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    environment["PYTHONPATH"] = os.pathsep.join([str(CHAPTER), environment.get("PYTHONPATH", "")])
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER.format(**worker)],
            cwd=CHAPTER,
            env=environment,
            stderr=subprocess.PIPE,
            text=True,
        )
        for worker in workers
    ]
    for process in processes:
        _, errors = process.communicate(timeout=60)
        assert process.returncode == 0, f"a worker process failed:\n{errors[-2000:]}"


async def test_every_worker_is_counted_and_a_stopped_one_leaves_the_gauge(
    client, tmp_path, monkeypatch
):
    run_workers(
        tmp_path,
        {"answers": 3, "connections": 2, "stopped": False},  # still serving
        {"answers": 4, "connections": 5, "stopped": True},  # shut down cleanly
    )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    response = await client.get("/metrics")
    samples = parse(response.text)

    answers = samples.value("http_responses_total", method="GET", route="/users/me", status="200")
    assert answers == 3 + 4, (
        f"/metrics should add up the counters of every worker that ever ran (3 + 4); it "
        f"served {answers:g}. read_metrics reads PROMETHEUS_MULTIPROC_DIR's files."
    )
    in_use = samples.value("db_pool_connections_in_use")
    assert in_use == 2, (
        f"The pool gauge (multiprocess_mode='livesum') adds up the live workers only: 2 from "
        f"the one still running, none from the one that stopped; it served {in_use:g}."
    )


async def test_with_a_token_set_metrics_need_it(app_with):
    async with app_with(metrics_token=METRICS_TOKEN) as (_, client):
        anonymous = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
        scraper = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})

    assert (anonymous.status_code, wrong.status_code) == (401, 401), (
        "/metrics with METRICS_TOKEN set should refuse a request without the token, or with "
        f"another one, with 401; got {anonymous.status_code} and {wrong.status_code}."
    )
    assert scraper.status_code == 200, f"the scraper's token was refused: {scraper.text[:200]}"
    assert "http_request_duration_seconds" in scraper.text, "the metrics should be served"


async def test_production_serves_no_metrics_without_a_token(app_with):
    async with app_with(environment="production") as (_, client):
        response = await client.get("/metrics")

    assert response.status_code == 404, (
        f"In production without METRICS_TOKEN, /metrics should not exist (404): what runs and "
        f"how busy it is helps an attacker. It answered {response.status_code}."
    )


def test_a_short_metrics_token_is_refused_at_start_up():
    with pytest.raises(ValidationError, match="METRICS_TOKEN"):
        Settings(_env_file=None, metrics_token="short")
