"""Intake's event handler table: short event name -> handler, and the topics they come from.

Intake consumes no events yet: it is where the journey starts. When the network service publishes
referrals out (which free a place: `places.leave(..., "referred_out")`), the handler goes here and
`app.create_app` subscribes it.
"""

from __future__ import annotations

from shared.inbox import Handler

TOPICS: list[str] = []
HANDLERS: dict[str, Handler] = {}
