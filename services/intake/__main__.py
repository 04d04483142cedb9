"""Run the intake service: `python -m services.intake` (settings from the EDIH_ environment)."""

from services.intake.app import SERVICE, create_app
from services.intake.settings import IntakeSettings
from shared.service import serve

serve(create_app, SERVICE, IntakeSettings)
