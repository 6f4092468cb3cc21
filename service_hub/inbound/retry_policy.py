"""When a failed attempt is tried again: exponential back-off with jitter, stored as next_attempt_at."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from config.settings import ChannelSettings


def next_attempt(now: datetime, attempts: int, settings: ChannelSettings) -> datetime:
    delay = min(settings.retry_base_seconds * 2 ** max(attempts - 1, 0), settings.retry_max_seconds)
    # Full jitter on the upper half: retries of one outage do not all land on the same second.
    return now + timedelta(seconds=delay * (0.5 + random.random() / 2))


def lease_until(now: datetime, settings: ChannelSettings) -> datetime:
    """How long an attempt in progress may take before the sweeper assumes its worker died."""
    return now + timedelta(seconds=settings.sweep_after_seconds)
