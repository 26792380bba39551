"""Exercise config.factory: the app is built from its settings (docs, CORS, trusted hosts)."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.main import create_app
from app.middleware import ProcessTimeMiddleware

pytestmark = pytest.mark.exercise("config.factory")

WHERE = "Finish create_app in app/main.py (exercise config.factory)."
FRONTEND = "http://frontend.test"
EXPOSED = {"x-request-id", "x-process-time", "retry-after", "location"}
DOC_PATHS = ("/docs", "/redoc", "/openapi.json")


@asynccontextmanager
async def client_for(settings: Settings) -> AsyncIterator[AsyncClient]:
    """A client of an app built from these settings."""
    app = create_app(settings)
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        yield client


def preflight(origin: str, method: str = "PATCH") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type",
    }


def test_create_app_keeps_its_settings_and_times_every_request(settings):
    app = create_app(settings)

    kept = getattr(app.state, "settings", None)
    kept_the_same = kept is settings  # compared apart: an assert would print their repr
    assert kept_the_same, (
        f"create_app(settings) should keep the settings it was given on app.state.settings, "
        f"so routes and tests use the same ones; found "
        f"{'another Settings' if kept is not None else 'nothing'} there. {WHERE}"
    )
    outermost = app.user_middleware[0].cls if app.user_middleware else None
    assert outermost is ProcessTimeMiddleware, (
        f"ProcessTimeMiddleware should stay the outermost middleware (added last), so it also "
        f"times the requests the others refuse; the outermost is {outermost}. Add CORS and "
        f"trusted hosts before it. {WHERE}"
    )


async def test_cors_lets_the_configured_origins_call_with_credentials(client):
    allowed = await client.options("/health/live", headers=preflight(FRONTEND))
    foreign = await client.options("/health/live", headers=preflight("http://evil.test"))
    simple = await client.get("/health/live", headers={"Origin": FRONTEND})

    assert allowed.headers.get("access-control-allow-origin") == FRONTEND, (
        f"A preflight from {FRONTEND} (in settings.cors_origins) for a PATCH with the "
        f"Authorization and Content-Type headers should be allowed: Access-Control-Allow-Origin:"
        f" {FRONTEND}; it answered {allowed.status_code} with "
        f"{allowed.headers.get('access-control-allow-origin')!r}. Add Starlette's "
        f"CORSMiddleware configured from the settings. {WHERE}"
    )
    assert "access-control-allow-origin" not in foreign.headers, (
        "A preflight from http://evil.test (not in settings.cors_origins) must not be allowed: "
        f"allow the configured origins, never every origin. {WHERE}"
    )
    assert allowed.headers.get("access-control-allow-credentials") == "true", (
        "settings.cors_allow_credentials is true: the preflight should answer "
        f"Access-Control-Allow-Credentials: true, or browsers drop the user's credentials. {WHERE}"
    )
    exposed = {
        name.strip().lower()
        for name in simple.headers.get("access-control-expose-headers", "").split(",")
        if name.strip()
    }
    assert exposed >= EXPOSED, (
        f"A page's script can read only the response headers CORS exposes; expose "
        f"{sorted(EXPOSED)}, the headers this service adds. Exposed now: {sorted(exposed)}. "
        f"{WHERE}"
    )


async def test_credentials_are_allowed_only_when_the_settings_say_so(settings):
    without = settings.model_copy(update={"cors_allow_credentials": False})

    async with client_for(without) as client:
        response = await client.options("/health/live", headers=preflight(FRONTEND))

    assert response.headers.get("access-control-allow-origin") == FRONTEND, (
        f"A preflight from {FRONTEND} should be allowed (CORS from settings.cors_origins). {WHERE}"
    )
    assert "access-control-allow-credentials" not in response.headers, (
        "With CORS_ALLOW_CREDENTIALS=false the preflight must not allow credentials: pass "
        f"settings.cors_allow_credentials, not True. {WHERE}"
    )


async def test_trusted_hosts_refuse_unknown_host_headers_unless_any_is_allowed(client, settings):
    refused = await client.get("/health/live", headers={"Host": "evil.test"})
    served = await client.get("/health/live", headers={"Host": "api.test"})
    async with client_for(settings.model_copy(update={"allowed_hosts": ["*"]})) as any_host:
        anything = await any_host.get("/health/live", headers={"Host": "whatever.test"})

    assert refused.status_code == 400, (
        f"A request for Host: evil.test (not in settings.allowed_hosts) should get 400; it got "
        f"{refused.status_code}. Add Starlette's TrustedHostMiddleware configured from the "
        f"settings. {WHERE}"
    )
    assert served.status_code != 400, (
        f"Host: api.test is in settings.allowed_hosts: serve it; use settings.allowed_hosts, "
        f"not a list of your own. {WHERE}"
    )
    assert anything.status_code != 400, (
        f"With ALLOWED_HOSTS=* every Host should be served; Host: whatever.test got "
        f"{anything.status_code}. {WHERE}"
    )


def local_assets(page: str) -> tuple[list[str], list[str]]:
    """The page's script, style and icon addresses: (served here, fetched elsewhere)."""
    addresses = re.findall(r'(?:src|href)="([^"]+)"', page)
    return (
        [address for address in addresses if address.startswith("/")],
        [address for address in addresses if not address.startswith("/")],
    )


async def test_the_api_docs_are_served_offline_and_hidden_in_production(client, settings):
    pages = {path: await client.get(path) for path in ("/docs", "/redoc")}
    assets_served = []
    for path, page in pages.items():
        assert page.status_code == 200, (
            f"GET {path} should answer 200 outside production; it answered {page.status_code}."
        )
        local, remote = local_assets(page.text)
        assert not remote, (
            f"{path} loads {remote}: the docs must work offline and behind a firewall. Build "
            f"the app with fastapi-offline's FastAPIOffline, which serves Swagger UI and ReDoc "
            f"from the package. {WHERE}"
        )
        assets_served += [(await client.get(asset)).status_code for asset in local]
    assert set(assets_served) == {200}, (
        f"The docs' own files should be served by the app; they answered {assets_served}. {WHERE}"
    )

    production = settings.model_copy(update={"environment": "production"})
    async with client_for(production) as client:
        hidden = {path: (await client.get(path)).status_code for path in DOC_PATHS}
    async with client_for(production.model_copy(update={"api_docs_enabled": True})) as client:
        enabled = {path: (await client.get(path)).status_code for path in DOC_PATHS}

    assert set(hidden.values()) == {404}, (
        f"In production, /docs, /redoc and /openapi.json should answer 404 (a production API "
        f"does not publish its map); they answered {hidden}. Turn them off when "
        f"settings.serves_api_docs is false. {WHERE}"
    )
    assert set(enabled.values()) == {200}, (
        f"With API_DOCS_ENABLED=true the docs are served even in production; they answered "
        f"{enabled}. Decide with settings.serves_api_docs, not settings.environment. {WHERE}"
    )
