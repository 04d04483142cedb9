"""Run the journey service: `python -m workflows` (listens on the port of its URL, 8106 by default)."""

from shared.service import serve
from workflows.app import create_app
from workflows.settings import JourneySettings

serve(create_app, "journey", JourneySettings)
