"""What a failure of a handler means: a refusal (`PermanentError`: dead-letter at once), an
unavailable dependency (`is_transient`: retry without limit), or a bug (retry a few times); and the
failures of a dead letter's replay."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
from sqlalchemy import exc as sa_exc
from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode


class PermanentError(Exception):
    """A handler's refusal that retrying cannot change: the event goes to the dead letters."""


class ReplayFailed(Exception):
    """A dead letter's record failed again when replayed; `transient` when a dependency was down."""

    def __init__(self, error: str, *, transient: bool) -> None:
        super().__init__(error)
        self.error = error
        self.transient = transient


class AlreadyResolved(Exception):
    """The dead letter was resolved before (or by a concurrent replay)."""


# SQLSTATE classes of PostgreSQL errors that say the server is unavailable, not that the statement is
# wrong: connection exception, transaction rollback (serialization, deadlock), insufficient
# resources, operator intervention (shutdown, cannot connect now), system error.
_TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
_TRANSIENT_TEMPORAL_STATUSES = frozenset({
    RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED,
})
_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    OSError,  # ConnectionError and TimeoutError (asyncio's too) among them
    sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError,
    httpx.TransportError,
    RPCTimeoutOrCancelledError,
)


def is_transient(error: BaseException) -> bool:
    """Whether `error` says that a dependency is unavailable (retry without limit), rather than
    that this record cannot be applied. Looks through the error's causes too: SQLAlchemy wraps the
    driver's error, and handlers often wrap a client's."""
    if isinstance(error, PermanentError):
        return False
    return any(_says_unavailable(link) for link in _causes(error))


def _says_unavailable(error: BaseException) -> bool:
    if isinstance(error, _TRANSIENT_TYPES):
        return True
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if str(getattr(error, "sqlstate", None) or "")[:2] in _TRANSIENT_SQLSTATE_CLASSES:
        return True
    if isinstance(error, RPCError):
        if error.status in _TRANSIENT_TEMPORAL_STATUSES:
            return True
        # The SDK reports some failed connections as INTERNAL with the transport's message.
        message = error.message.lower()
        return error.status == RPCStatusCode.INTERNAL and ("connect" in message or "transport" in message)
    # temporalio's Client.connect raises a plain RuntimeError when the server cannot be reached.
    return isinstance(error, RuntimeError) and str(error).startswith("Failed client connect")


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or (None if link.__suppress_context__ else link.__context__)


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
