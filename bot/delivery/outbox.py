"""The outbox sender: delivers queued messages, once, within Telegram's limits.

Each row is marked `sending` (committed) before its request and `sent` after, so a crash leaves
it either not yet tried or recorded as uncertain; uncertain check-ins are never sent again. 5xx
and connection errors retry with backoff; a time-out after the request went out is recorded as
uncertain; 403 means the patient blocked the bot: they are marked unreachable, their schedule
stops, and staff are told.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut
from telegram.ext import Application

from bot.alerts.desk import AlertDesk
from bot.delivery.rate_limit import PACED, FloodLimiter
from bot.diary.checkins import CheckIns
from bot.diary.questionnaire import Questionnaire
from bot.handlers.alert_card import CardRenderer
from bot.handlers.checkin_view import render
from bot.handlers.edits import edit
from bot.prompts import Catalog
from storage import checkins, outbox, patients, schedules
from storage.database import Database
from storage.models import OutboxMessage

log = logging.getLogger(__name__)


class OutboxSender:
    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        database: Database,
        *,
        catalog: Catalog,
        questionnaire: Questionnaire,
        checkins: CheckIns,
        desk: AlertDesk,
        cards: CardRenderer,
        clock: Callable[[], datetime],
        staff_chat_id: int | None,
        limiter: FloodLimiter,
        concurrency: int = 64,
        lease: timedelta = timedelta(seconds=60),
    ) -> None:
        self.application = application
        self.database = database
        self.catalog = catalog
        self.questionnaire = questionnaire
        self.checkins = checkins
        self.desk = desk
        self.cards = cards
        self.clock = clock
        self.staff_chat_id = staff_chat_id
        self.limiter = limiter
        self.concurrency = concurrency
        self.lease = lease
        self.wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        async with self.database.session() as session:
            abandoned = await outbox.abandon_stale(session=session, now=self.clock(), lease=self.lease)
        if abandoned:
            log.warning("%d messages were being sent when a process stopped; recorded as uncertain", abandoned)
        slots = asyncio.Semaphore(self.concurrency)
        in_flight: set[asyncio.Task[None]] = set()
        # The next row is claimed while the current one waits for its turn: one row, at most one
        # interval before its request starts, is all a crash can leave in doubt without a request.
        claiming = asyncio.create_task(self._claim())
        while not stop.is_set():
            await slots.acquire()
            await self.limiter.overall_turn()
            row = await claiming
            if row is None:
                slots.release()
                self.wake.clear()
                waiters = [asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(stop.wait())]
                await asyncio.wait(waiters, timeout=0.5, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
                claiming = asyncio.create_task(self._claim())
                continue
            claiming = asyncio.create_task(self._claim())
            task = asyncio.create_task(self._deliver(row))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            task.add_done_callback(lambda _: slots.release())
        leftover = await claiming
        if leftover is not None and leftover.id is not None:  # taken but never tried: it stays owed
            async with self.database.session() as session:
                await outbox.release(session=session, message_id=leftover.id)
        if in_flight:
            await asyncio.gather(*in_flight)

    async def _claim(self) -> OutboxMessage | None:
        async with self.database.session() as session:
            return await outbox.claim_one(session=session, now=self.clock())

    async def _deliver(self, row: OutboxMessage) -> None:
        assert row.id is not None
        bot = self.application.bot
        try:
            if row.kind == "staff":
                sent = await bot.send_message(row.chat_id, row.text or "", rate_limit_args=PACED)
            elif row.kind in ("alert", "escalation"):
                message_id = await self._alert(row)
                if message_id is None:
                    await self._finish(row, "skipped")
                    return
                await self._finish(row, "sent", telegram_message_id=message_id)
                return
            else:
                assert row.checkin_id is not None
                view = await self.checkins.view(checkin_id=row.checkin_id, now=self.clock())
                if view is None:  # closed or answered elsewhere before its turn came
                    await self._finish(row, "skipped")
                    return
                state, language = view
                if row.kind == "reminder":
                    if state.answers:  # answered meanwhile
                        await self._finish(row, "skipped")
                        return
                    reminder = self.catalog.text(language, "checkin.reminder")
                    sent = await bot.send_message(row.chat_id, reminder, rate_limit_args=PACED)
                else:
                    text, keyboard = render(
                        state, language=language, catalog=self.catalog, questionnaire=self.questionnaire
                    )
                    sent = await bot.send_message(row.chat_id, text, reply_markup=keyboard, rate_limit_args=PACED)
        except Forbidden:
            await self._blocked(row)
        except TimedOut:
            await self._finish(row, "uncertain", error="timed out after the request was sent")
        except BadRequest as error:
            log.warning("Telegram refused outbox message %s: %s", row.id, error.message)
            await self._finish(row, "failed", error=error.message[:200])
        except NetworkError as error:  # 5xx, connection refused: nothing was delivered
            delay = timedelta(seconds=min(300, 2 ** min(row.attempts, 8)))
            async with self.database.session() as session:
                await outbox.retry_later(
                    session=session, message_id=row.id, not_before=self.clock() + delay, error=type(error).__name__
                )
        except Exception:
            # Whatever went wrong, the message may have gone out: record it as uncertain, never resend.
            log.exception("outbox message %s failed unexpectedly", row.id)
            await self._finish(row, "uncertain", error="internal error while sending")
        else:
            await self._finish(row, "sent", telegram_message_id=sent.message_id)

    async def _alert(self, row: OutboxMessage) -> int | None:
        """An alert card (sent with its chart, or updated in place) or an admin's escalation message."""
        assert row.alert_id is not None
        bot, now = self.application.bot, self.clock()
        view = await self.desk.view(alert_id=row.alert_id, now=now)
        if view is None:
            return None
        caption, keyboard = self.cards.caption(view, now=now), self.cards.keyboard(view)
        if row.kind == "escalation":
            if view.alert.status != "open":
                return None  # acknowledged meanwhile
            minutes = int((now - view.alert.opened_at).total_seconds() // 60)
            text = self.cards.t("alerts.escalation", minutes=minutes) + "\n" + caption
            sent = await bot.send_message(row.chat_id, text, reply_markup=keyboard, rate_limit_args=PACED)
            return int(sent.message_id)
        card = view.alert.card_message_id
        if card is not None and view.alert.card_chat_id == row.chat_id:
            await edit(
                bot.edit_message_caption(
                    row.chat_id, card, caption=caption, reply_markup=keyboard, rate_limit_args=PACED
                )
            )
            return card
        chart = await self.cards.chart(view, now=now)
        sent = await bot.send_photo(
            row.chat_id, chart, caption=caption, reply_markup=keyboard, filename="alert.png", rate_limit_args=PACED
        )
        await self.desk.card_sent(alert_id=row.alert_id, chat_id=row.chat_id, message_id=sent.message_id)
        return int(sent.message_id)

    async def _finish(
        self, row: OutboxMessage, status: str, *, telegram_message_id: int | None = None, error: str | None = None
    ) -> None:
        assert row.id is not None
        async with self.database.session() as session:
            if row.kind == "checkin" and row.checkin_id is not None and telegram_message_id is not None:
                # The check-in's message, so that a typed note can edit it later.
                await checkins.set_message(
                    session=session, checkin_id=row.checkin_id, chat_id=row.chat_id, message_id=telegram_message_id
                )
            await outbox.finish(
                session=session,
                message_id=row.id,
                status=status,
                now=self.clock(),
                telegram_message_id=telegram_message_id,
                error=error,
            )

    async def _blocked(self, row: OutboxMessage) -> None:
        """The patient blocked the bot: stop their schedule until they /start again, and tell staff."""
        assert row.id is not None
        now = self.clock()
        async with self.database.session() as session:
            await outbox.finish(session=session, message_id=row.id, status="blocked", now=now)
            patient = await patients.by_chat(session=session, chat_id=row.chat_id)
            if patient is None or patient.id is None or patient.status == "unreachable":
                return
            await patients.set_status(session=session, patient_id=patient.id, status="unreachable")
            await schedules.stop(session=session, patient_id=patient.id)
            if self.staff_chat_id is not None:
                text = self.catalog.text(self.catalog.default_language, "staff.unreachable", code=patient.code)
                await outbox.enqueue(
                    session=session,
                    kind="staff",
                    chat_id=self.staff_chat_id,
                    text=text,
                    patient_id=patient.id,
                    now=now,
                )
        log.info("patient %s is unreachable (blocked the bot); schedule stopped", patient.id)
        self.wake.set()
