"""Prometheus metrics: latency by route template, responses by status, cache, limits, pool."""

from final_helpers import MetricSamples, client_for, make_settings, parse_metrics, running_app
from final_helpers import metric_value as value
from sqlalchemy import text


async def scrape(client) -> MetricSamples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return parse_metrics(response.text)


async def test_latency_and_responses_are_labelled_by_route_template(client, create_user, login):
    user = await create_user()
    tokens = await login(user)
    before = await scrape(client)

    await client.get(f"/users/{user.id}", headers=tokens.headers)
    await client.get(f"/users/{user.id}", headers=tokens.headers)
    await client.get("/users/00000000-0000-0000-0000-000000000000", headers=tokens.headers)
    after = await scrape(client)

    route = {"method": "GET", "route": "/users/{user_id}"}
    count = "http_request_duration_seconds_count"
    assert value(after, count, **route) - value(before, count, **route) == 3
    ok = value(after, "http_responses_total", **route, status="200")
    not_found = value(after, "http_responses_total", **route, status="404")
    assert ok - value(before, "http_responses_total", **route, status="200") == 2
    assert not_found - value(before, "http_responses_total", **route, status="404") == 1
    assert not any(str(user.id) in dict(labels).get("route", "") for _, labels in after), (
        "raw ids in labels would explode the number of series"
    )


async def test_cache_hits_and_misses_are_counted(client, create_user, login):
    reader, target = await create_user(), await create_user()
    tokens = await login(reader)
    await client.get("/users/me", headers=tokens.headers)
    before = await scrape(client)

    await client.get(f"/users/{target.id}", headers=tokens.headers)  # miss
    await client.get(f"/users/{target.id}", headers=tokens.headers)  # hit
    after = await scrape(client)

    for result, reads in {"miss": 1, "hit": 1 + 2}.items():  # + the reader's own lookups
        labels = {"cache": "user", "result": result}
        delta = value(after, "cache_lookups_total", **labels) - value(
            before, "cache_lookups_total", **labels
        )
        assert delta == reads, result


async def test_rate_limit_rejections_are_counted(
    database_url, redis_url, redis_namespace, database_schema
):
    settings = make_settings(database_url, redis_url, redis_namespace, login_rate_limit=1)
    async with running_app(settings) as app, client_for(app) as client:
        before = await scrape(client)
        form = {"username": "nobody@example.com", "password": "wrong"}
        statuses = [(await client.post("/auth/token", data=form)).status_code for _ in range(2)]
        after = await scrape(client)

    assert statuses == [401, 429]
    name, labels = "rate_limit_rejections_total", {"limit": "login"}
    assert value(after, name, **labels) - value(before, name, **labels) == 1


async def test_pool_connections_in_use_follow_checkouts(app, client):
    async with app.state.resources.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
        while_held = value(await scrape(client), "db_pool_connections_in_use")
    after_release = value(await scrape(client), "db_pool_connections_in_use")

    assert while_held == 1
    assert after_release == 0
