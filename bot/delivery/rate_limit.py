"""Telegram's flood limits, applied to every message the bot sends (replies and outbox alike).

PTB's bundled AIORateLimiter has no per-chat limit and does not retry by default; this one paces
sends with a generic cell-rate algorithm: about 30 messages/s overall, about 1/s per private chat
(short bursts allowed), 20/min per group. A 429 still waits `retry_after` and tries again, except
for the outbox, whose sender reschedules the row itself rather than hold it while it waits.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

SENDING = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "sendVoice", "sendMediaGroup", "copyMessage", "forwardMessage"}
)


def retry_seconds(error: RetryAfter) -> float:
    delay = error.retry_after
    return delay.total_seconds() if isinstance(delay, timedelta) else float(delay)


class Pace:
    """Reserves send times: `rate` per second, `burst` at once, in arrival order."""

    def __init__(self, rate: float, burst: int) -> None:
        self.interval = 1 / rate
        self.tolerance = (burst - 1) * self.interval
        self.theoretical_arrival = 0.0

    def reserve(self, now: float) -> float:
        """The earliest time this send may go."""
        start = max(self.theoretical_arrival, now)
        self.theoretical_arrival = start + self.interval
        return max(now, start - self.tolerance)

    def wait(self, now: float) -> float:
        """How long a send starting now would wait."""
        return max(0.0, max(self.theoretical_arrival, now) - self.tolerance - now)


# rate_limit_args of an outbox request: its sender already waited for its overall turn, and a 429 is
# handed back to it (it reschedules the row) instead of being waited out here.
PACED = {"paced": True}


class FloodLimiter(BaseRateLimiter[dict[str, bool]]):
    def __init__(
        self,
        *,
        overall_per_second: float = 29.0,
        chat_per_second: float = 1.0,
        chat_burst: int = 3,
        group_per_minute: float = 20.0,
        max_retries: int = 5,
    ) -> None:
        # A short burst lets sends that came late (a garbage collection, a busy database) be made up
        # at once instead of lowering the rate for good.
        self.overall = Pace(overall_per_second, 5)
        self.chat_per_second = chat_per_second
        self.chat_burst = chat_burst
        self.group_per_minute = group_per_minute
        self.max_retries = max_retries
        self.chats: dict[int | str, Pace] = {}
        # Chats with a backlog and when their next send may start; kept small (only chats that must wait).
        self._busy: dict[int, float] = {}

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def overall_turn(self) -> None:
        """Wait for a place in the overall rate (the outbox does, before it takes a row to send)."""
        now = time.monotonic()
        at = self.overall.reserve(now)
        if at > now:
            await asyncio.sleep(at - now)

    def busy_chats(self, *, longer_than: float) -> list[int]:
        """Chats whose next send would wait more than `longer_than` seconds: the outbox takes no row for
        them until their turn is near, so no row waits long while marked as being sent."""
        now = time.monotonic()
        self._busy = {chat: free_at for chat, free_at in self._busy.items() if free_at > now}
        return [chat for chat, free_at in self._busy.items() if free_at - now > longer_than]

    def slow_down(self, seconds: float) -> None:
        """Telegram answered 429: nothing goes out for a while (the bot as a whole is over the limit)."""
        self.overall.theoretical_arrival = max(self.overall.theoretical_arrival, time.monotonic() + seconds)

    def _chat(self, chat_id: int | str) -> Pace:
        pace = self.chats.get(chat_id)
        if pace is None:
            if len(self.chats) > 50_000:  # forget chats that have long been quiet
                horizon = time.monotonic() - 60
                self.chats = {key: p for key, p in self.chats.items() if p.theoretical_arrival > horizon}
            group = isinstance(chat_id, str) or int(chat_id) < 0
            pace = Pace(self.group_per_minute / 60, 3) if group else Pace(self.chat_per_second, self.chat_burst)
            self.chats[chat_id] = pace
        return pace

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, bool] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        paced = bool(rate_limit_args and rate_limit_args.get("paced"))
        for attempt in range(self.max_retries + 1):
            if endpoint in SENDING:
                now = time.monotonic()
                at = now if paced and attempt == 0 else self.overall.reserve(now)
                chat_id = data.get("chat_id")
                if chat_id is not None:
                    pace = self._chat(chat_id)
                    at = max(at, pace.reserve(now))
                    if isinstance(chat_id, int) and pace.wait(now) > 0:
                        self._busy[chat_id] = now + pace.wait(now)
                if at > now:
                    await asyncio.sleep(at - now)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                seconds = retry_seconds(error)
                log.warning("Telegram asked to slow down for %.0f s (%s)", seconds, endpoint)
                # Everyone waits: a 429 means the bot as a whole is over the limit.
                self.slow_down(seconds)
                if paced or attempt == self.max_retries:
                    raise
                await asyncio.sleep(seconds)
        raise AssertionError("unreachable")
