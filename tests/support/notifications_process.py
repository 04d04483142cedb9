"""The notifications service in a process of its own, for tests that kill it:
`python -m tests.support.notifications_process <settings as JSON>` runs the service (consumer,
relay and sender; no HTTP port) until it is killed."""

from __future__ import annotations

import asyncio
import sys

from services.notifications.app import create_app
from services.notifications.settings import NotificationSettings
from shared.settings import Settings


async def main(settings: Settings) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(NotificationSettings.model_validate_json(sys.argv[1])))
