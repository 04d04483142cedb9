"""Run the console: `python -m services.console` (port from EDIH_CONSOLE_URL, 8100 by default)."""

from services.console.app import create_app
from shared.service import serve

if __name__ == "__main__":
    serve(create_app, "console")
