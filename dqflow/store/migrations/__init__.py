"""Alembic migrations of dqflow's database: package data, applied by `dqflow.store.schema`.

`versions/` holds one revision per schema change, oldest first (0001 is the schema of the release
1a76da4). A revision is written once and never edited after a release: a later change is a new
revision whose `down_revision` is the current head, and `dqflow.store.schema.HEAD` moves to it
(tests/test_migrations.py checks that a database made by the revisions equals the models).
Draft one from the models' difference with:

    .venv/bin/python -c "from dqflow import schema; schema.draft('what changed')"
"""
