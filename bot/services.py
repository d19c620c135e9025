"""The services the application wires in once (bot/app.py) and hands to the handlers (through their
context), the console and the runner: one place that says what the diary is made of."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.alerts.desk import AlertDesk
from bot.care_team.intake import Intake
from bot.care_team.replies import Replies
from bot.care_team.staff_chat import StaffChat
from bot.config import Settings
from bot.delivery.rate_limit import FloodLimiter
from bot.diary.checkins import CheckIns
from bot.diary.enrolment import WrongTokens
from bot.diary.scheduler import Scheduler
from bot.metrics import Metrics
from bot.prompts import Catalog
from bot.views.alert_card import CardRenderer
from storage.database import Database


@dataclass
class Services:
    settings: Settings
    database: Database
    catalog: Catalog
    checkins: CheckIns
    scheduler: Scheduler
    desk: AlertDesk
    cards: CardRenderer
    intake: Intake
    replies: Replies
    limiter: FloodLimiter
    wrong_tokens: WrongTokens
    staff_chat: StaffChat  # where cards and patients' messages go: /staffchat's choice, else STAFF_CHAT_ID
    clock: Callable[[], datetime]
    # Set when a handler has queued messages in the outbox: its sender wakes at once.
    outbox_wake: asyncio.Event
    # When each update being handled was stored (bot/delivery/inbox.py): the time a button press
    # counts at, since Telegram gives presses no date of their own.
    received_at: dict[int, datetime] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)  # this application's own registry (bot/metrics.py)
