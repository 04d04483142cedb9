"""Idempotent event consumption: the inbox of processed event ids, dead letters, and what a consumer
does with a record it cannot apply.

`EventConsumer` (consumer.py) subscribes a service's handler table (the contract's data model ->
handler, checked against the contracts registry when it is registered: handlers.py) to its topics.
For each record it decodes the CloudEvent, validates `data` against the contracts registry and runs
the handler in one database transaction together with the inbox row (tables.py), so a redelivered
event has no second effect. A handler whose effect lies outside the database (`EffectFirst`, e.g.
the journey's signal to Temporal) runs before that transaction instead, and must be idempotent.

A record the handler does not apply meets this policy (the classification is failures.py):

- not a CloudEvent, an unknown type, invalid data, or refused by the handler with `PermanentError`:
  a dead letter at once (a row in `dead_letters` and, through the outbox, a record on
  `edih.<group>.dlq`: dead_lettering.py), and the consumer goes on with the next record;
- an unavailable dependency (`is_transient`: the database's connection and operational errors,
  `OSError`/`ConnectionError`, timeouts, Temporal's UNAVAILABLE, DEADLINE_EXCEEDED,
  RESOURCE_EXHAUSTED or a failed connection, httpx transport errors): retried without limit and
  never dead-lettered, so a fact waits for its dependency instead of being lost to it;
- any other error (a bug): retried until the record has failed `attempts` times, then dead-lettered
  so the partition goes on.

A record's offset is committed only once its effect or its dead letter is committed. A record to
try again is nacked: FastStream seeks its partition back and the next fetch returns it, after a pause
that doubles from the setting `consumer_retry_base_seconds` up to `consumer_retry_cap_seconds`.
Pausing between fetches, instead of looping inside one handler call, keeps the consumer within aiokafka's
`max_poll_interval_ms`, so it stays in its group. Every retry counts in `edih_event_retries_total`
and logs a warning.

Once its cause is fixed, a dead letter can be replayed (`EventConsumer.replay`; shared/dead_letters.py
serves it as `POST /admin/dead-letters/{id}/retry`): the record runs through the handler again and the
letter is marked resolved in the same transaction as the effect.

Every `kafka_lag_interval_seconds` the consumer measures its lag (lag.py: end offset minus committed
offset of each assigned partition) into `edih_consumer_lag`, so a stuck consumer shows a growing lag.
"""

from shared.inbox.consumer import EventConsumer
from shared.inbox.failures import AlreadyResolved, PermanentError, ReplayFailed, describe, is_transient
from shared.inbox.handlers import EffectFirst, Handler, HandlerTable, InvalidHandlerTable
from shared.inbox.tables import DeadLetter, ProcessedEvent

__all__ = [
    "AlreadyResolved",
    "DeadLetter",
    "EffectFirst",
    "EventConsumer",
    "Handler",
    "HandlerTable",
    "InvalidHandlerTable",
    "PermanentError",
    "ProcessedEvent",
    "ReplayFailed",
    "describe",
    "is_transient",
]
