"""The bare framework ceiling: plain FastAPI with one trivial route, nothing else.

Served by the same uvicorn with the same flags as the service (`serving.py`: the image's, h11
included), it shows how many requests per second the framework itself answers on this
machine. Every scenario is read against it: the gap is what the service's own work (auth,
Redis, PostgreSQL, middleware) costs.
"""

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI(title="Bare framework ceiling", docs_url=None, redoc_url=None)

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        """A constant, small JSON answer: no I/O, no middleware, no validation."""
        return {"status": "ok"}

    return app
