"""Retry schedules scaled down for fault trials: the same retries in the same shape, without minutes asleep.

botocore waits about 1 s after a first throttle (25 ms after DynamoDB's other errors) and rollwise's
:class:`~rollwise.retry.Patience` 50 ms, doubling up to 5 s; a trial that throttles thousands of
requests would spend most of its time asleep. Scaled by ``factor``, every wait keeps its place in
its schedule, and time-bounded patience (a Lambda's deadline) still runs out in real time.
"""

from __future__ import annotations

FACTOR = 0.01


def scale_backoff(monkeypatch, factor: float = FACTOR) -> None:
    from botocore.retries.standard import ExponentialBackoff

    import rollwise.retry as retry

    monkeypatch.setitem(
        ExponentialBackoff._DEFAULT_BACKOFF_CONFIG,
        "throttling_base_scale",
        ExponentialBackoff._DEFAULT_BACKOFF_CONFIG["throttling_base_scale"] * factor,
    )
    for service, config in ExponentialBackoff._SERVICE_BACKOFF_CONFIG.items():
        monkeypatch.setitem(
            ExponentialBackoff._SERVICE_BACKOFF_CONFIG, service, {**config, "non_throttling_base_scale": config["non_throttling_base_scale"] * factor}
        )
    monkeypatch.setattr(retry, "BASE_SECONDS", retry.BASE_SECONDS * factor)
    monkeypatch.setattr(retry, "CAP_SECONDS", retry.CAP_SECONDS * factor)
