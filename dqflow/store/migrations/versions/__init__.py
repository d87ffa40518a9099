"""The revisions, read by Alembic from this folder (not imported as a package)."""
