"""The auth routes' limits: per client address, since nobody is logged in yet."""

from fastapi import Request, Response

from app.dependencies import ResourcesDep
from app.rate_limit import client_ip


async def limit_logins(request: Request, response: Response, resources: ResourcesDep) -> None:
    """Per client IP: slows password guessing from one address (the per-account limit is
    counted where the password is checked, auth/service.py)."""
    settings = resources.settings
    await resources.rate_limiter.enforce(
        response,
        "login",
        client_ip(request),
        limit=settings.login_rate_limit,
        window_seconds=settings.login_rate_limit_window_seconds,
    )


async def limit_refreshes(request: Request, response: Response, resources: ResourcesDep) -> None:
    """Per client IP: a client refreshes once per access token's life, not in a loop."""
    settings = resources.settings
    await resources.rate_limiter.enforce(
        response,
        "refresh",
        client_ip(request),
        limit=settings.refresh_rate_limit,
        window_seconds=settings.refresh_rate_limit_window_seconds,
    )
