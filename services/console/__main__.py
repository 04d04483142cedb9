"""Run the console: `python -m services.console` (port from its URL, 8100 by default)."""

from services.console.app import create_app
from services.console.settings import ConsoleSettings
from shared.service import serve

if __name__ == "__main__":
    serve(create_app, "console", ConsoleSettings)
