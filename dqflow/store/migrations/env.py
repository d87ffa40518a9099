"""Alembic's environment for dqflow: always handed an open connection inside the caller's transaction
(`dqflow.store.schema`), so a whole upgrade commits or rolls back as one, under the caller's lock."""

from alembic import context
from sqlmodel import SQLModel

import dqflow.store  # noqa: F401 - the tables, for autogenerate's comparison
from dqflow.store.schema import VERSION_TABLE

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("dqflow's migrations run through dqflow.store.schema (or `dqflow migrate`), which hands them a connection")

context.configure(connection=connection, target_metadata=SQLModel.metadata, version_table=VERSION_TABLE,
                  compare_type=True, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
