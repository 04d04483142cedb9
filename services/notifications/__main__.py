"""Run the notifications service: `python -m services.notifications`."""

from services.notifications.app import create_app
from services.notifications.settings import NotificationSettings
from shared.service import serve

if __name__ == "__main__":
    serve(create_app, "notifications", NotificationSettings)
