"""Intake's event handler table: short event name -> handler, and the topics they come from.

Intake consumes no events yet: it is where the journey starts. When it does (e.g. a place freed in
a quota pool), the handlers go here and `app.create_app` subscribes them.
"""

from __future__ import annotations

from shared.inbox import Handler

TOPICS: list[str] = []
HANDLERS: dict[str, Handler] = {}
