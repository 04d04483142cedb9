"""A consumer's lag: every `kafka_lag_interval_seconds`, end offset minus committed offset of each
partition assigned to it, into `edih_consumer_lag`, so a stuck consumer shows a growing lag."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiokafka import TopicPartition

from shared.background import WakeableLoop
from shared.kafka import partition_lag
from shared.metrics import CONSUMER_LAG


class LagGauge:
    """Measures the lag of the aiokafka consumer `consumer()` returns (None before it started)."""

    def __init__(self, service: str, group: str, interval: float, consumer: Callable[[], Any]) -> None:
        self.service = service
        self._consumer = consumer
        self._partitions: set[TopicPartition] = set()
        self._loop = WakeableLoop(f"lag measurement of {group}", self.measure, interval)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def measure(self) -> None:
        """Set `edih_consumer_lag` for every partition assigned to the consumer (and drop the
        partitions it no longer has)."""
        consumer = self._consumer()
        if consumer is None:  # not started yet
            return
        lags = await partition_lag(consumer)
        for gone in self._partitions - lags.keys():
            CONSUMER_LAG.remove(self.service, gone.topic, gone.partition)
        for partition, lag in lags.items():
            CONSUMER_LAG.labels(self.service, partition.topic, partition.partition).set(lag)
        self._partitions = set(lags)
