"""CORS comes from the settings: the origins configured are granted, every other one is not,
the default origin included once it is no longer configured."""

import pytest
from final_helpers import client_for, make_settings, running_app

CONFIGURED = ["https://app.example", "https://admin.example"]
NOT_CONFIGURED = ["http://localhost:3000", "https://evil.example", "https://app.example.evil"]


async def preflight(client, origin: str):
    return await client.options(
        "/users/me",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )


@pytest.fixture(params=["settings", "environment"])
def cors_settings(request, monkeypatch, database_url, redis_url, redis_namespace):
    """Settings whose CORS origins are CONFIGURED: given directly, or read from CORS_ORIGINS."""
    if request.param == "settings":
        return make_settings(database_url, redis_url, redis_namespace, cors_origins=CONFIGURED)
    monkeypatch.setenv("CORS_ORIGINS", ",".join(CONFIGURED))
    return make_settings(database_url, redis_url, redis_namespace)


async def test_the_configured_origins_are_granted_and_no_other(cors_settings, database_schema):
    assert cors_settings.cors_origins == CONFIGURED, "the control: the origins were configured"
    async with running_app(cors_settings) as app, client_for(app) as client:
        granted = {origin: await preflight(client, origin) for origin in CONFIGURED}
        simple = {
            origin: await client.get("/health/live", headers={"Origin": origin})
            for origin in CONFIGURED + NOT_CONFIGURED
        }
        refused = {origin: await preflight(client, origin) for origin in NOT_CONFIGURED}

    for origin, response in granted.items():
        assert response.status_code == 200, f"a preflight from {origin}: {response.text}"
        assert response.headers["Access-Control-Allow-Origin"] == origin
        assert response.headers["Access-Control-Allow-Credentials"] == "true"
        assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    for origin in CONFIGURED:
        assert simple[origin].headers.get("Access-Control-Allow-Origin") == origin
    for origin, response in refused.items():
        assert response.status_code == 400, f"{origin} is not configured: its preflight fails"
        assert response.headers["content-type"] == "application/problem+json"
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "Access-Control-Allow-Origin" not in simple[origin].headers, (
            f"{origin} is not in CORS_ORIGINS: a browser must not let it read the answer"
        )


async def test_credentials_are_not_granted_when_switched_off(
    database_url, redis_url, redis_namespace, database_schema
):
    settings = make_settings(
        database_url,
        redis_url,
        redis_namespace,
        cors_origins=CONFIGURED,
        cors_allow_credentials=False,
    )
    async with running_app(settings) as app, client_for(app) as client:
        response = await preflight(client, CONFIGURED[0])

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == CONFIGURED[0]
    assert "Access-Control-Allow-Credentials" not in response.headers, (
        "CORS_ALLOW_CREDENTIALS=false: browsers must not send cookies or auth cross-origin"
    )
