"""Storage: SQLAlchemy 2 models, the engine, and the repositories that fill ``core.ports``."""
