"""Exercise performance.metrics: /metrics serves request latency by route template.

Metrics live in prometheus_client's global registry, shared by every app of the test
session, so each test compares the values before and after its own requests.
"""

from uuid import uuid4

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

pytestmark = pytest.mark.exercise("performance.metrics")

WHERE = "(exercise performance.metrics, app/metrics.py)"
LATENCY = "http_request_duration_seconds"


async def scrape(client) -> list[Sample]:
    """Every sample that GET /metrics serves right now."""
    response = await client.get("/metrics")
    assert response.status_code == 200, (
        f"GET /metrics should answer 200 with the metrics in the Prometheus text format; it "
        f"answered {response.status_code}. Add the route to `router` {WHERE}."
    )
    content_type = response.headers.get("content-type", "")
    assert content_type.startswith("text/plain"), (
        f"/metrics should be served as the Prometheus text format (prometheus_client's "
        f"CONTENT_TYPE_LATEST, text/plain); its content type is {content_type!r} {WHERE}."
    )
    try:
        families = list(text_string_to_metric_families(response.text))
    except ValueError as error:
        pytest.fail(
            f"/metrics is not in the Prometheus text format ({error}); serve "
            f"prometheus_client's generate_latest() {WHERE}."
        )
    return [sample for family in families for sample in family.samples]


def request_count(samples: list[Sample], *, method: str, route: str) -> float:
    """How many requests the latency histogram has seen for this method and route label."""
    return sum(
        sample.value
        for sample in samples
        if sample.name == f"{LATENCY}_count"
        and sample.labels.get("method") == method
        and sample.labels.get("route") == route
    )


def route_labels(samples: list[Sample]) -> set[str]:
    return {
        sample.labels["route"]
        for sample in samples
        if sample.name == f"{LATENCY}_count" and "route" in sample.labels
    }


async def test_metrics_are_served_in_the_prometheus_text_format(client):
    await client.get("/health/live")

    samples = await scrape(client)

    names = {sample.name for sample in samples}
    assert f"{LATENCY}_count" in names, (
        f"After a request, /metrics should hold the latency histogram {LATENCY} (its "
        f"_bucket, _sum and _count samples); it has {sorted(names)[:12]}. Time each request "
        f"in MetricsMiddleware and observe the seconds in REQUEST_DURATION {WHERE}."
    )


async def test_latency_is_counted_by_route_template_not_by_raw_path(client, create_user, login):
    user = await create_user()
    headers = (await login(user)).headers
    before = await scrape(client)

    for _ in range(2):
        response = await client.get(f"/users/{user.id}", headers=headers)
        assert response.status_code == 200, (
            f"GET /users/<id> should answer 200 whatever the middleware measures; it answered "
            f"{response.status_code}: {response.text[:200]} {WHERE}"
        )
    after = await scrape(client)

    counted = request_count(after, method="GET", route="/users/{user_id}") - request_count(
        before, method="GET", route="/users/{user_id}"
    )
    seen = sorted(route_labels(after))
    assert counted == 2, (
        f"Two GET /users/<id> requests should add 2 to {LATENCY}_count with the labels "
        f'method="GET", route="/users/{{user_id}}"; it rose by {counted:g}. Route labels '
        f"seen: {seen}. Observe every request in MetricsMiddleware, labelled by "
        f"route_template(scope): the matched route's path. The router records the route in "
        f"the scope while it handles the request, so read it after `await self.app(...)`, "
        f"not before {WHERE}."
    )
    raw_id_labels = [label for label in seen if str(user.id) in label]
    assert not raw_id_labels, (
        f"A route label holds a raw user id: {raw_id_labels}. One time series per user "
        f"exhausts Prometheus: label by the route template, `/users/{{user_id}}` {WHERE}."
    )


async def test_requests_that_match_no_route_share_one_unmatched_label(client):
    paths = [f"/no-such-page/{uuid4().hex}" for _ in range(2)]
    before = await scrape(client)

    for path in paths:
        response = await client.get(path)
        assert response.status_code == 404, (
            f"GET {path} should answer 404; it answered {response.status_code}. When no route "
            f'matched, the scope has no "route": route_template must not fail then {WHERE}.'
        )
    after = await scrape(client)

    counted = request_count(after, method="GET", route="unmatched") - request_count(
        before, method="GET", route="unmatched"
    )
    assert counted == 2, (
        f'Two requests to unknown paths should add 2 to the series route="unmatched"; it '
        f"rose by {counted:g}. Route labels seen: {sorted(route_labels(after))}. When no "
        f'route matched, route_template(scope) should return "unmatched" {WHERE}.'
    )
    leaked = sorted(label for label in route_labels(after) if "no-such-page" in label)
    assert not leaked, (
        f"Unknown paths became route labels: {leaked}. Anyone could create series by "
        f'requesting random URLs: label them all "unmatched" {WHERE}.'
    )
