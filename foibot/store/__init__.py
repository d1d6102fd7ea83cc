"""Persistence: SQLAlchemy 2.x models, engine/session helpers and queries."""
