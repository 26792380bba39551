"""The user service: FastAPI, async SQLAlchemy 2.0 on PostgreSQL, and Redis."""
