"""Alembic's entry point for every service's migrations: see shared/migrations.py."""

from shared.migrations import run_env

run_env()
