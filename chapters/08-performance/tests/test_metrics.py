"""Exercise performance.metrics: every request timed and counted, by route template.

The metrics are read from GET /metrics (given), before and after the test's own requests:
the registry is shared by every app of the test session.
"""

import asyncio
import re
from uuid import uuid4

import pytest
from scraping import Samples, scrape

pytestmark = pytest.mark.exercise("performance.metrics")

WHERE = "(exercise performance.metrics: MetricsMiddleware in app/metrics.py)"
LATENCY = "http_request_duration_seconds"
RESPONSES = "http_responses_total"
KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"}
SLOW_SECONDS = 0.05
RAW_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")


def rose(after: Samples, before: Samples, name: str, **labels: str) -> float:
    return after.value(name, **labels) - before.value(name, **labels)


def seen_labels(samples: Samples) -> str:
    routes = sorted(samples.label_values(f"{LATENCY}_count", "route"))
    methods = sorted(samples.label_values(f"{LATENCY}_count", "method"))
    return f"route labels seen: {routes or 'none'}; method labels seen: {methods or 'none'}"


async def test_requests_are_counted_by_route_template_and_status(client, create_user, login):
    reader, target = await create_user(), await create_user()
    headers = (await login(reader)).headers
    before = await scrape(client)

    statuses = [
        (await client.get(f"/users/{target.id}", headers=headers)).status_code,
        (await client.get(f"/users/{target.id}", headers=headers)).status_code,
        (await client.get(f"/users/{uuid4()}", headers=headers)).status_code,
    ]
    after = await scrape(client)

    assert statuses == [200, 200, 404], (
        f"Two reads of a user and one of an unknown id should answer 200, 200, 404 whatever "
        f"the middleware measures; they answered {statuses} {WHERE}."
    )
    routes = after.label_values(RESPONSES, "route") | after.label_values(
        f"{LATENCY}_count", "route"
    )
    raw = sorted(label for label in routes if RAW_ID.search(label))
    assert not raw, (
        f"A route label holds a raw id: {raw[:2]}. One series per user would grow without "
        f"bound: label by the route template that matched, /users/{{user_id}} {WHERE}."
    )
    route = {"method": "GET", "route": "/users/{user_id}"}
    timed = rose(after, before, f"{LATENCY}_count", **route)
    assert timed == 3, (
        f'Three GET /users/<id> should add 3 to {LATENCY}_count{{method="GET", '
        f'route="/users/{{user_id}}"}}; it rose by {timed:g} ({seen_labels(after)}). Time '
        f"every HTTP request in REQUEST_DURATION, labelled by the route template that "
        f"matched: the router records it in the scope while it handles the request {WHERE}."
    )
    counted = {
        status: rose(after, before, RESPONSES, **route, status=status) for status in ("200", "404")
    }
    assert counted == {"200": 2, "404": 1}, (
        f'{RESPONSES}{{method="GET", route="/users/{{user_id}}"}} should rise by 2 with '
        f'status="200" and by 1 with status="404"; it rose by {counted}. Count each answer '
        f"in RESPONSES with the status code the app sent, as text {WHERE}."
    )


async def test_paths_that_match_no_route_share_one_label(client):
    paths = [f"/no-such-page/{uuid4().hex}" for _ in range(2)]
    before = await scrape(client)

    for path in paths:
        assert (await client.get(path)).status_code == 404, f"GET {path} should answer 404"
    after = await scrape(client)

    leaked = sorted(label for label in after.label_values(RESPONSES, "route") if "no-such" in label)
    assert not leaked, (
        f"Unknown paths became route labels: {leaked}. Anyone could create series by asking "
        f"for random URLs: every request that matched no route shares one label {WHERE}."
    )
    unmatched = rose(after, before, RESPONSES, method="GET", route="unmatched", status="404")
    assert unmatched == 2, (
        f'Two requests to unknown paths should add 2 to {RESPONSES}{{method="GET", '
        f'route="unmatched", status="404"}}; it rose by {unmatched:g} ({seen_labels(after)}). '
        f"app/middleware.py's route_template(scope) names them unmatched {WHERE}."
    )


async def test_made_up_methods_share_one_label(client):
    made_up = [f"X{uuid4().hex[:8].upper()}" for _ in range(3)]
    before = await scrape(client)

    for method in made_up:
        response = await client.request(method, "/users")
        assert response.status_code == 405, f"{method} /users should answer 405 Method Not Allowed"
    after = await scrape(client)

    methods = after.label_values(RESPONSES, "method") | after.label_values(
        f"{LATENCY}_count", "method"
    )
    invented = sorted(methods - KNOWN_METHODS)
    assert not invented, (
        f"Methods a client made up became labels: {invented[:5]}. The server passes any "
        f"method it is sent (2,000 made-up ones grew a real /metrics tenfold): keep the label "
        f"to the HTTP methods you know and count every other one under a single value, "
        f"OTHER {WHERE}."
    )
    other = rose(after, before, RESPONSES, method="OTHER", route="/users", status="405")
    assert other == 3, (
        f'Three requests with made-up methods should add 3 to {RESPONSES}{{method="OTHER", '
        f'route="/users", status="405"}}; it rose by {other:g}: they must be counted, under '
        f"OTHER {WHERE}."
    )


async def test_the_seconds_observed_are_the_time_the_app_took(app, client):
    async def slow_route() -> dict[str, float]:
        await asyncio.sleep(SLOW_SECONDS)
        return {"slept": SLOW_SECONDS}

    app.add_api_route("/slow-for-the-test", slow_route, methods=["GET"])
    route = {"method": "GET", "route": "/slow-for-the-test"}
    before = await scrape(client)

    response = await client.get("/slow-for-the-test")
    after = await scrape(client)

    assert response.status_code == 200, f"the test's slow route answered {response.status_code}"
    count = rose(after, before, f"{LATENCY}_count", **route)
    seconds = rose(after, before, f"{LATENCY}_sum", **route)
    assert count == 1, (
        f"One request to the test's route should add 1 to {LATENCY}_count{{route="
        f'"/slow-for-the-test"}}; it rose by {count:g} ({seen_labels(after)}) {WHERE}.'
    )
    assert seconds >= SLOW_SECONDS, (
        f"A request that took at least {SLOW_SECONDS * 1000:.0f} ms was observed as "
        f"{seconds:.6f} s: the duration does not cover the app's work. Was the clock read a "
        f"second time before the app had answered, or the start taken after it? {WHERE}"
    )


async def test_a_request_whose_route_raised_is_counted_as_a_500(app, client):
    async def failing_route() -> None:
        raise RuntimeError("planted by the test: an unhandled error in a route")

    app.add_api_route("/fails-for-the-test", failing_route, methods=["GET"])
    route = {"method": "GET", "route": "/fails-for-the-test"}
    before = await scrape(client)

    response = await client.get("/fails-for-the-test")
    after = await scrape(client)

    assert response.status_code == 500, f"the test's failing route answered {response.status_code}"
    timed = rose(after, before, f"{LATENCY}_count", **route)
    counted = rose(after, before, RESPONSES, **route, status="500")
    assert (timed, counted) == (1, 1), (
        f"A request whose route raised got a 500, but it added {timed:g} to {LATENCY}_count "
        f'and {counted:g} to {RESPONSES}{{status="500"}} (1 and 1 expected; '
        f"{seen_labels(after)}). The exception passes through the middleware on its way to "
        f"the server's error handler: record the request whether the app returned or raised, "
        f"with 500 as its status when no answer had started {WHERE}."
    )
