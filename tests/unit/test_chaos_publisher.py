"""The chaos load's publisher keeps going through a broker outage."""

from typing import Any, ClassVar

import pytest
from kafka.errors import KafkaTimeoutError

from chaos import load


class _Sent:
    def get(self, timeout: float) -> None:
        return None


class _FlakyBroker:
    """Producers whose first send times out and whose close then times out too, the way
    kafka-python behaves while the broker is dead."""

    failures_left: ClassVar[int] = 1
    sent: ClassVar[list[bytes]] = []

    def __init__(self, **config: Any) -> None:
        self.failing = False

    def send(self, topic: str, value: bytes, key: bytes) -> _Sent:
        if _FlakyBroker.failures_left:
            _FlakyBroker.failures_left -= 1
            self.failing = True
            raise KafkaTimeoutError("broker gone")
        _FlakyBroker.sent.append(key)
        return _Sent()

    def close(self, timeout: float) -> None:
        if self.failing:
            raise KafkaTimeoutError("Timeout waiting for future")


def test_a_close_that_times_out_does_not_end_the_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "KafkaProducer", _FlakyBroker)
    monkeypatch.setattr(_FlakyBroker, "sent", [])
    monkeypatch.setattr(_FlakyBroker, "failures_left", 1)
    plan = load.build_plan(6, 1, "r1")
    said: list[str] = []
    publisher = load.Publisher(plan, rate=1000.0, say=said.append)
    monkeypatch.setattr(publisher._halt, "wait", lambda timeout=None: False)
    publisher.run()
    assert publisher.stats.errors == []
    assert publisher.stats.retries == 1
    assert publisher.stats.published == len(plan.messages)
    assert len(_FlakyBroker.sent) == len(plan.messages)
