"""Run the training service: `python -m services.training` (settings from the EDIH_ environment);
`... migrate` migrates its database, `... revision -m "what changed"` writes a revision."""

from services.training.app import SCHEMA, SERVICE, create_app
from services.training.settings import TrainingSettings
from shared.service import run_service

run_service(create_app, SERVICE, TrainingSettings, SCHEMA)
