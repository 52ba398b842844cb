"""coachcore's packaged Alembic environment and version scripts."""
