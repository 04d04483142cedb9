"""A relay that dies between publishing and marking sent: `python -m tests.support.dying_relay
<service> <settings as JSON>` publishes the service's unsent outbox rows and, once the broker has
acknowledged them, kills its own process (SIGKILL) as its transaction marking them sent begins."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NoReturn

from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.service import ServiceContext
from shared.settings import Settings


class DiesWhenMarking:
    """The relay's database, but a write transaction kills the process before it begins."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def reading(self) -> object:
        return self.db.reading()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("not reached")
        yield  # the shape of Database.transaction


async def main(service: str, settings: Settings) -> NoReturn:
    ctx = ServiceContext.create(service, settings)
    await ctx.broker.start()
    await ctx.relay.check_broker()  # may write (a new broker); what follows may not
    ctx.relay.db = DiesWhenMarking(ctx.db)  # type: ignore[assignment]
    await ctx.relay.publish_pending()
    raise SystemExit("the relay marked its rows sent: it was to die first")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Settings.model_validate_json(sys.argv[2])))
