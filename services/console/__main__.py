"""Run the console: `python -m services.console` (port from its URL, 8100 by default);
`... migrate` migrates its database, `... revision -m "what changed"` writes a revision."""

from services.console.app import SCHEMA, SERVICE, create_app
from services.console.settings import ConsoleSettings
from shared.service import run_service

if __name__ == "__main__":
    run_service(create_app, SERVICE, ConsoleSettings, SCHEMA)
