"""Exercise config.factory: the app is built from its settings (CORS, trusted hosts)."""

import pytest

from app.main import create_app

pytestmark = pytest.mark.exercise("config.factory")

WHERE = "Finish create_app in app/main.py (exercise config.factory)."


def test_create_app_keeps_its_settings_on_app_state(settings):
    app = create_app(settings)

    kept = getattr(app.state, "settings", None)
    assert kept is settings, (
        f"create_app(settings) should keep the settings it was given on app.state.settings, "
        f"so routes and tests use the same ones; found {kept!r}. {WHERE}"
    )


async def test_cors_answers_preflights_from_configured_origins_only(client):
    preflight = {"Access-Control-Request-Method": "GET"}

    allowed = await client.options(
        "/health/live", headers={"Origin": "http://frontend.test"} | preflight
    )
    foreign = await client.options(
        "/health/live", headers={"Origin": "http://evil.test"} | preflight
    )

    assert allowed.headers.get("access-control-allow-origin") == "http://frontend.test", (
        "A preflight from http://frontend.test (in settings.cors_origins) should be answered "
        "with Access-Control-Allow-Origin: http://frontend.test; add CORSMiddleware with "
        f"allow_origins=settings.cors_origins. {WHERE}"
    )
    assert "access-control-allow-origin" not in foreign.headers, (
        "A preflight from http://evil.test (not in settings.cors_origins) must not be allowed; "
        f'do not allow every origin: allow_origins=settings.cors_origins, never ["*"]. {WHERE}'
    )


async def test_trusted_hosts_refuse_unknown_host_headers(client):
    refused = await client.get("/health/live", headers={"Host": "evil.test"})
    served = await client.get("/health/live", headers={"Host": "api.test"})

    assert refused.status_code == 400, (
        f"A request for Host: evil.test (not in settings.allowed_hosts) should get 400; it got "
        f"{refused.status_code}. Add TrustedHostMiddleware with "
        f"allowed_hosts=settings.allowed_hosts. {WHERE}"
    )
    assert served.status_code != 400, (
        f"Host: api.test is in settings.allowed_hosts: serve it; pass "
        f"allowed_hosts=settings.allowed_hosts, not a list of your own. {WHERE}"
    )
