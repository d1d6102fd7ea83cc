"""Alembic environment: the engine comes from foibot (``foibot db upgrade``), or from
FOIBOT_DATABASE_URL when the ``alembic`` command is run by hand."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from foibot.store.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    engine = create_engine(os.environ.get("FOIBOT_DATABASE_URL", "sqlite:///foibot.db"))

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
