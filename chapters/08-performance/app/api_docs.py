"""/redoc, served so that it asks nothing of any other host.

FastAPIOffline serves Swagger UI and ReDoc from its package's files, so both pages work
offline. ReDoc's bundle still fetches the Redocly logo of its menu from a CDN
(`REDOC_LOGO_URL`): this page loads its own copy of the bundle, with that one address
replaced by an empty image.
"""

from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse, Response

REDOC_BUNDLE = Path(fastapi_offline.__file__).parent / "static" / "redoc.standalone.js"
REDOC_LOGO_URL = "https://cdn.redoc.ly/redoc/logo-mini.svg"
EMPTY_IMAGE = "data:image/svg+xml,%3Csvg%20xmlns='http://www.w3.org/2000/svg'/%3E"
FAVICON = "/static-offline-docs/favicon.png"  # FastAPIOffline's static files


@cache
def _redoc_bundle() -> bytes:
    bundle = REDOC_BUNDLE.read_text(encoding="utf-8")
    if REDOC_LOGO_URL not in bundle:  # a new ReDoc: check what it fetches before trusting it
        raise RuntimeError(f"{REDOC_BUNDLE} no longer names {REDOC_LOGO_URL}")
    return bundle.replace(REDOC_LOGO_URL, EMPTY_IMAGE).encode()


def install_redoc(app: FastAPI, *, path: str = "/redoc") -> None:
    """Serve ReDoc at `path`; create the app with `FastAPIOffline(redoc_url=None)`."""
    bundle_path = f"{path}/redoc.standalone.js"

    @app.get(path, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        """The API's reference as one page (ReDoc)."""
        root = request.scope.get("root_path", "")  # behind a proxy that strips a prefix
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{bundle_path}",
            redoc_favicon_url=f"{root}{FAVICON}",
            with_google_fonts=False,
        )

    @app.get(bundle_path, include_in_schema=False)
    async def redoc_bundle() -> Response:
        """ReDoc's script, its logo's address replaced by an empty image."""
        return Response(_redoc_bundle(), media_type="text/javascript")
