"""Run the intake service: `python -m services.intake` (settings from the EDIH_ environment);
`... migrate` migrates its database, `... revision -m "what changed"` writes a revision."""

from services.intake.app import SCHEMA, SERVICE, create_app
from services.intake.settings import IntakeSettings
from shared.service import run_service

run_service(create_app, SERVICE, IntakeSettings, SCHEMA)
