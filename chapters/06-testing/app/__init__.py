"""The user service: a FastAPI application built by `app.main.create_app`."""
