"""Run the notifications service: `python -m services.notifications`; `... migrate` migrates its
database, `... revision -m "what changed"` writes a revision."""

from services.notifications.app import SCHEMA, SERVICE, create_app
from services.notifications.settings import NotificationSettings
from shared.service import run_service

if __name__ == "__main__":
    run_service(create_app, SERVICE, NotificationSettings, SCHEMA)
