"""Run the journey service: `python -m workflows` (listens on the port of EDIH_JOURNEY_URL, 8106)."""

from shared.service import serve
from workflows.app import create_app

serve(create_app, "journey")
