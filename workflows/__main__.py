"""Run the journey service: `python -m workflows` (listens on the port of its URL, 8106 by default);
`python -m workflows migrate` migrates its database (the infrastructure tables only)."""

from shared.service import run_service
from workflows.app import SCHEMA, SERVICE, create_app
from workflows.settings import JourneySettings

run_service(create_app, SERVICE, JourneySettings, SCHEMA)
