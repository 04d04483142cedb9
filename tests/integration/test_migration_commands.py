"""A service's own migration commands: `python -m services.<name> migrate` brings its configured
database to the newest revisions and exits (what a deployment runs before it starts the service), and
`... revision -m` writes a revision into the service's own migrations folder."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from services.intake.app import SCHEMA, SERVICE, create_app
from services.intake.models import MODELS
from services.intake.settings import IntakeSettings
from shared.service import run_service
from shared.tables import INFRASTRUCTURE_TABLES, Schema

REPO = Path(__file__).resolve().parents[2]


def test_migrate_makes_the_services_tables_and_exits(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDIH_")}
    result = subprocess.run([sys.executable, "-m", "services.intake", "migrate"], cwd=REPO, timeout=120,
                            env={**env, "EDIH_DATA_DIR": str(tmp_path)}, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "intake.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    expected = {str(m.__tablename__) for m in (*MODELS, *INFRASTRUCTURE_TABLES)}
    assert tables == expected | {"alembic_version"}


def test_revision_writes_into_the_services_own_folder(tmp_path: Path):
    folder = tmp_path / "migrations"
    shutil.copytree(SCHEMA.folder, folder)
    before = set(folder.glob("*.py"))
    run_service(create_app, SERVICE, IntakeSettings, Schema(SERVICE, SCHEMA.models, folder),
                argv=["revision", "-m", "nothing changed"])
    [written] = set(folder.glob("*.py")) - before
    assert "nothing changed" in written.read_text()
    assert set(SCHEMA.folder.glob("*.py")) == {SCHEMA.folder / p.name for p in before}
