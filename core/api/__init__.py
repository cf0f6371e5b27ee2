"""The REST API: a thin FastAPI transport over the core's services."""
