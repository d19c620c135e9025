"""The outbox sender: delivers queued messages at least once, most urgent first, within Telegram's limits.

A row is marked `sending` (committed) just before its request and `sent` after. A process that dies in
between leaves it `sending`; once its lease has run out, any running sender (this process or another)
owes it again, so a check-in, a card or a patient's words are never lost; the price is a rare duplicate
of what was in flight at the instant of the crash. A running sender renews the lease of what it has in
hand, however long Telegram takes to answer. Rows are taken only for chats whose turn under the
flood limits has come, and one at a time per chat, so a row never waits long while marked `sending`; just
before its request it is looked at once more, and one that moved meanwhile to another chat (a re-link, a new
staff chat) goes there instead.

5xx, connection errors and time-outs retry with backoff; 429 reschedules the row after `retry_after`;
403 means the patient blocked the bot: they are marked unreachable, their schedule stops, and staff
are told, with the words of a message for them that was refused (it goes again when the patient is back:
bot/diary/roster.py, reachable_again). The bot removed from the staff chat holds what is owed there; a
group where it may not write (400 no rights) is tried again with backoff.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import (
    ChatMember,
    ChatMemberRestricted,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application

from bot.alerts.desk import AlertDesk
from bot.care_team.staff_chat import StaffChat
from bot.care_team.text_limits import TEXT_LIMIT, Entity, as_words, split, units
from bot.delivery import owners
from bot.delivery.rate_limit import PACED, FloodLimiter, retry_seconds
from bot.delivery.telegram_http import MaybeDone
from bot.diary import roster
from bot.diary.checkins import CheckIns
from bot.metrics import Metrics
from bot.prompts import Catalog
from bot.views.alert_card import CardRenderer
from bot.views.callback_data import CONTACT_ME
from bot.views.checkin import render
from bot.views.edits import edit, gone
from storage import alerts, checkins, clinic_settings, outbox, patient_messages, patients, staff, staff_chat
from storage.database import Database, database_away
from storage.models import OutboxMessage, Priority
from storage.statuses import AlertStatus, OutboxStatus

log = logging.getLogger(__name__)
T = TypeVar("T")

# Kinds whose message is about a patient and lands in a staff chat: a staff member may reply to it.
ABOUT_A_PATIENT = frozenset({"staff", "copy", "alert", "escalation"})
# A row that fails (5xx, time-outs) this long while other chats' messages go through is the trouble of that
# row or its chat, not a Telegram outage: it is given up, so that what is queued after it for that chat
# (which waits for it, in order) can go, and staff are told what did not arrive. Through an outage, when
# nothing goes through, nothing is given up.
GIVE_UP_AFTER = timedelta(hours=1)
# "Other chats' messages go through": one was delivered this recently (the longest backoff is 5 minutes).
GOING_THROUGH = timedelta(minutes=10)
# Why a message was given up, as staff are told (OutboxSender._tell_undelivered).
Undelivered = Literal["hour", "refused", "stuck"]
# The staff chat the admins were told the bot cannot post in (told once, until a message gets there again).
UNWRITABLE_TOLD = "staff_chat_unwritable_told"
# A refusal by the staff chat while Telegram says the bot is in it (or cannot say) is tried this many times
# before what is owed there waits for an admin (_hold).
_REFUSED_TRIES = 5
_REFUSED_IN_THE_GROUP = "refused as the bot was out of the staff chat"


async def tell_admins(
    session: AsyncSession,
    text: str,
    *,
    now: datetime,
    priority: Priority,
    besides: int | None = None,
    or_in: int | None = None,
) -> None:
    """Owe each admin `text` in their own chat (not in `besides`, the chat that could not be reached, which their
    rows name: refused by an admin's chat, they do not go there either, see OutboxSender._to_the_staff_chat_instead),
    in parts when it quotes a message too long to go in one with it; with no admin named, in `or_in` (the staff chat,
    for what someone must act on: an escalation with no admin goes there too). Call it after the transaction's first
    write: the admins are read kept against removal (storage.staff.admins)."""
    admins = await staff.admins(session=session, kept=True)
    if not admins and or_in is not None:
        admins = [or_in]
    for admin in admins:
        if admin != besides:
            for part in split(text, TEXT_LIMIT):
                await outbox.enqueue(
                    session=session,
                    kind="staff",
                    chat_id=admin,
                    text=part,
                    about_chat=besides,
                    priority=priority,
                    now=now,
                )


def may_not_write(error: BadRequest) -> bool:
    """Telegram's 400 for a group where the bot may not post (only admins may write, or the bot was
    restricted, or the forum's General topic, where it posts, was closed): the chat's doing, not the message's.
    Not one that leaves out only this kind of message (refuses_the_kind): the chat takes text."""
    said = error.message.lower()
    if refuses_the_kind(error):
        return False
    return "rights to send" in said or "no rights" in said or "chat_write_forbidden" in said or "topic_closed" in said


def refuses_the_kind(error: BadRequest) -> bool:
    """Telegram's 400 for a group whose permissions let the bot write but leave out this kind of message ("not
    enough rights to send photos to the chat", voice notes, documents...): a clinic may keep patients' pictures off
    staff phones so. Tried again it is refused for good, and all queued after it waits; as text it goes."""
    said = error.message.lower()
    return "not enough rights to send" in said and "text messages" not in said


def no_such_chat(error: BadRequest) -> bool:
    """Telegram's 400 for a chat it does not know (an id mistyped, a group deleted): the chat's doing too."""
    said = error.message.lower()
    return "chat not found" in said or "peer_id_invalid" in said


def _formatting(row: OutboxMessage) -> list[Entity]:
    """The formatting kept with a message's words (a staff reply's: storage/outbox.py `enqueue`)."""
    return [Entity(**entity) for entity in json.loads(row.entities)] if row.entities else []


class OutboxSender:
    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        database: Database,
        *,
        catalog: Catalog,
        checkins: CheckIns,
        desk: AlertDesk,
        cards: CardRenderer,
        clock: Callable[[], datetime],
        staff_chat_id: int | None,
        limiter: FloodLimiter,
        wake: asyncio.Event | None = None,
        concurrency: int = 64,
        lease: timedelta = timedelta(seconds=30),
        poll: float = 0.5,
        away_retry: float = 0.25,
        metrics: Metrics | None = None,
    ) -> None:
        self.application = application
        self.database = database
        self.poll = poll
        self.away_retry = away_retry  # the first wait of _again_while_away
        self.catalog = catalog
        self.checkins = checkins
        self.desk = desk
        self.cards = cards
        self.clock = clock
        self.staff_chat = StaffChat(database, configured=staff_chat_id)
        self.limiter = limiter
        self.concurrency = concurrency
        self.lease = lease
        self.metrics = metrics
        self.wake = wake or asyncio.Event()
        self._rows_in_hand: set[int] = set()
        self._chats_in_hand: Counter[int] = Counter()
        self._delivered: tuple[datetime, int] | None = None  # the last delivery: when, and to which chat
        self._failing_alone_since: dict[int, datetime] = {}  # row id: first failure while others went through
        self._gathered = False  # what was owed to a former staff chat has been moved to the current one
        self._away_at: datetime | None = None  # when the database last failed this sender (see _recover)
        self._stopping = asyncio.Event()  # the stop event `run` was given
        self.owner = owners.new_owner()  # named in the rows it takes, until `run` ends

    async def run(self, stop: asyncio.Event) -> None:
        self._stopping = stop
        slots = asyncio.Semaphore(self.concurrency)
        in_flight: set[asyncio.Task[None]] = set()
        next_recovery = 0.0
        # The next row is claimed while the current one waits for its overall turn, so the database's
        # latency does not slow the pace.
        claiming: asyncio.Task[OutboxMessage | None] | None = None
        keeping = asyncio.create_task(self._keep_leases(stop))
        while not stop.is_set():
            # The database away for a while (PostgreSQL restarting, SQLite locked past its wait): the
            # sender waits and looks again, rather than stopping for good while the bot runs on.
            if time.monotonic() >= next_recovery:
                if await self._or_wait(self._recover(), self._met_away) is False:
                    continue
                next_recovery = time.monotonic() + self.lease.total_seconds() / 3
            await slots.acquire()
            await self.limiter.overall_turn()
            row = await self._or_wait(claiming or self._claim(), self._met_away)
            claiming = None
            if row is None or row is False:
                slots.release()
                self.wake.clear()
                waiters = [asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(stop.wait())]
                await asyncio.wait(waiters, timeout=self.poll, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
                continue
            self._take(row)
            claiming = asyncio.create_task(self._claim())
            task = asyncio.create_task(self._deliver(row))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            task.add_done_callback(functools.partial(self._let_go, row))
            task.add_done_callback(lambda _: slots.release())
        leftover = await claiming if claiming is not None else None
        if leftover is not None and leftover.id is not None:  # taken but never tried: it stays owed
            async with self.database.session() as session:
                await outbox.release(session=session, message_id=leftover.id)
        if in_flight:
            await asyncio.gather(*in_flight)
        await keeping
        owners.ended(self.owner)

    async def _keep_leases(self, stop: asyncio.Event) -> None:
        """The rows in hand here keep their lease while their sends take long (Telegram slow, a 429's wait
        before the next claim): another process on the database would otherwise take one for left behind
        by a dead process and send it again."""
        every = self.lease.total_seconds() / 3
        while not stop.is_set():
            waiting = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiting}, timeout=every)
            waiting.cancel()
            if self._rows_in_hand and not stop.is_set():
                await self._or_wait(self._renew(list(self._rows_in_hand)), self._met_away)

    async def _renew(self, message_ids: list[int]) -> None:
        async with self.database.session() as session:
            await outbox.renew(session=session, message_ids=message_ids, now=self.clock())

    @staticmethod
    async def _or_wait(step: Awaitable[T], away: Callable[[], None] | None = None) -> T | Literal[False]:
        """The step's result, or False (after a second's wait) when it failed: the database away (then `away` is
        called)."""
        try:
            return await step
        except Exception as error:
            if database_away(error):
                if away is not None:
                    away()
                log.warning("the outbox could not be read (%s); trying again in a moment", type(error).__name__)
            else:  # a fault of ours: its traceback, or the sender would loop on it without a word of why
                log.exception("the outbox could not be read; trying again in a moment")
            await asyncio.sleep(1)
            return False

    def _met_away(self) -> None:
        self._away_at = self.clock()

    def _take(self, row: OutboxMessage) -> None:
        assert row.id is not None
        self._rows_in_hand.add(row.id)
        self._chats_in_hand[row.chat_id] += 1

    def _let_go(self, row: OutboxMessage, _: object = None) -> None:
        assert row.id is not None
        self._rows_in_hand.discard(row.id)
        self._chats_in_hand[row.chat_id] -= 1
        if self._chats_in_hand[row.chat_id] <= 0:
            del self._chats_in_hand[row.chat_id]

    async def _recover(self) -> None:
        gathered = 0
        now = self.clock()
        # The database away for longer than a lease ran out every lease, those of rows another running process
        # had sent as it went (their sending not yet written down, their leases not yet renewed): taken for left
        # by a dead process as it came back, they were sent again. They are looked for a lease after this sender
        # last met the database away, once the others have had the time to write down or renew what they hold.
        settled = self._away_at is None or now - self._away_at >= self.lease
        async with self.database.session() as session:
            # Nor those of another process that runs, seen so on this machine: one that started as the database came
            # back (it never saw it away) took them for left by a dead process, and a staff reply reached Ben twice.
            running = [
                owner
                for owner in (await outbox.claimants(session=session) if settled else ())
                if owner != self.owner and owners.seen(owner) is owners.Seen.RUNNING
            ]
            owed, given_up = (
                await outbox.recover_stale(
                    session=session, now=now, lease=self.lease, keep=set(self._rows_in_hand), running=running
                )
                if settled
                else (0, [])
            )
            for row in given_up:  # told in the transaction that gives it up: a crash loses neither
                await self._tell_undelivered(session, row, error=row.error or "", why="stuck")
            if not self._gathered:  # at start: STAFF_CHAT_ID may have changed since what is owed was queued
                gathered = await self.staff_chat.gather(session) + await self.staff_chat.release_held(session)
        self._gathered = True
        if gathered:
            log.warning("%d messages owed to a former staff chat go to the staff chat", gathered)
        if owed:
            log.warning("%d messages were left unfinished by a stopped process; they are sent again", owed)
        if given_up:
            log.error("%d messages were left unfinished too often; given up, and staff told", len(given_up))

    async def _claim(self) -> OutboxMessage | None:
        # One row per chat at a time, and none for a chat whose turn is more than a second away.
        skip = set(self._chats_in_hand) | set(self.limiter.busy_chats(longer_than=1.0))
        async with self.database.session() as session:
            row = await outbox.claim_one(session=session, now=self.clock(), skip_chats=skip, owner=self.owner)
        if row is not None and row.id is not None:  # in hand from here: its lease is kept (see _keep_leases)
            self._rows_in_hand.add(row.id)
        return row

    async def _deliver(self, row: OutboxMessage) -> None:
        assert row.id is not None
        if not await self._still_owed_here(row):
            return
        try:
            message_id = await self._send(row)
        except Forbidden:
            self._count("403")
            await self._blocked(row)
        except RetryAfter as error:  # over Telegram's limit: later, without counting it as a failure
            self._count("429")
            seconds = retry_seconds(error)
            await self._retry(row, after=timedelta(seconds=seconds), error="429", count=False)
        except (TimedOut, MaybeDone):
            self._count("uncertain")
            # The request may or may not have arrived: send again (a rare duplicate, never a loss).
            await self._failed_for_now(row, error="timed out")
        except BadRequest as error:
            self._count("400")
            if may_not_write(error):
                # Telegram says nothing when a group's own permissions change back: tried again later
                # (and sent to another staff chat if an admin names one meanwhile), never given up.
                log.error("the bot may not write in chat %s; outbox message %s waits", row.chat_id, row.id)
                await self._retry(row, after=self._backoff(row), error="no rights to write in the chat")
                await self._tell_admins_unwritable(row)
                return
            if no_such_chat(error) and await self._hold(row):  # the staff chat: held for the next, as after a 403
                return
            if (
                await self._to_the_staff_chat_now(row)
                or await self._escalate_in_the_staff_chat(row, OutboxStatus.FAILED, error=error.message)
                or await self._to_the_staff_chat_instead(row, OutboxStatus.FAILED, error=error.message)
            ):
                return
            log.warning("Telegram refused outbox message %s (%s): %s", row.id, row.kind, error.message)
            # A reply or a crisis text that will never arrive: staff must know (a row for no patient's record,
            # such as the note to an account a record left, names no one they could reach).
            if row.kind in outbox.TO_A_PATIENT and row.patient_id is not None:
                await self._failed_and_told(row, error=error.message[:200], why="refused")
            else:
                await self._finish(row, OutboxStatus.FAILED, error=error.message[:200])
        except ChatMigrated as error:  # the group became a supergroup: a new chat id, nothing delivered
            self._count("400")
            await self._chat_migrated(row, error.new_chat_id)
        except NetworkError as error:  # 5xx, connection refused: nothing was delivered
            self._count("5xx")
            await self._failed_for_now(row, error=type(error).__name__)
        except Exception:
            log.exception("outbox message %s (%s) failed unexpectedly", row.id, row.kind)
            # Given up only when its try before failed so too: tries through an outage count as well.
            if row.attempts + 1 >= outbox.MAX_ATTEMPTS and row.error == outbox.INTERNAL_ERROR:
                await self._failed_and_told(row, error="internal error while sending; given up", why="stuck")
            else:
                await self._retry(row, after=self._backoff(row), error=outbox.INTERNAL_ERROR)
        else:
            if message_id is not None:
                self._count("ok")
                self._delivered = (self.clock(), row.chat_id)
            self._failing_alone_since.pop(row.id, None)
            if await self._finish(
                row, OutboxStatus.SKIPPED if message_id is None else OutboxStatus.SENT, telegram_message_id=message_id
            ):
                self.wake.set()  # owed in its new chat (and, delivered, to be taken back from the old one)

    async def _still_owed_here(self, row: OutboxMessage) -> bool:
        """Looked at just before the request: a row taken for sending may have waited for its turn while a
        re-link moved the patient's record to another account (the old one may be a lost phone, or someone
        else's), or an admin named another staff chat. It is then owed in its new chat, and goes there, not
        here (storage.outbox.still_owed_to).

        A row for a group that is no longer the staff chat goes to the staff chat as well, with what else is
        owed to that group: queued in a transaction that read the staff chat before an admin's /staffchat
        committed, and committed after it (PostgreSQL runs the two side by side), it was addressed to the old
        group after the change had moved what was owed there; the bot, still in that group, would deliver it
        where nobody looks any more."""
        assert row.id is not None
        message_id, chat_id = row.id, row.chat_id
        to_the_staff_chat = row.kind in outbox.STAFF_CHAT_KINDS and chat_id < 0

        async def look() -> bool:
            async with self.database.session() as session:
                if to_the_staff_chat and chat_id != await self.staff_chat.current(session):
                    await self.staff_chat.gather(session)  # this row too: owed in the staff chat, released below
                return await outbox.still_owed_to(session=session, message_id=message_id, chat_id=chat_id)

        try:
            here = await self._again_while_away(look)
        except Exception:  # left `sending`: once its lease runs out it is owed again, and sent then
            log.warning("outbox message %s could not be looked at before sending; it waits", message_id)
            return False
        if not here:
            log.info("outbox message %s moved to another chat before its turn came; it goes there", message_id)
            self.wake.set()
        return here

    async def _take_back(self, row: OutboxMessage) -> int | None:
        """A message delivered to the account a patient's record moved from as the move committed, deleted there
        (see _write_finish). Tried again as any send is (a 5xx, a time-out); given up only when Telegram says it
        is gone already or cannot be deleted (None: nothing to take back)."""
        assert row.source_message_id is not None
        try:
            await self.application.bot.delete_message(row.chat_id, row.source_message_id, rate_limit_args=PACED)
        except BadRequest as error:
            said = error.message.lower()
            if "not found" not in said and "can't be deleted" not in said:
                raise
            log.warning("outbox message %s: a message on the account a record moved from stays (%s)", row.id, said)
            return None
        log.warning("outbox message %s: a message that reached the account a record moved from is deleted", row.id)
        return row.source_message_id

    async def _failed_for_now(self, row: OutboxMessage, *, error: str) -> None:
        """5xx, a time-out, the network: tried again with backoff, or given up after failing for an hour
        while other chats' messages went through (see GIVE_UP_AFTER)."""
        assert row.id is not None
        now = self.clock()
        last = self._delivered
        if last is None or last[1] == row.chat_id or now - last[0] > GOING_THROUGH:  # an outage, maybe
            self._failing_alone_since.pop(row.id, None)
        elif now - self._failing_alone_since.setdefault(row.id, now) >= GIVE_UP_AFTER:
            await self._give_up(row, error=error)
            return
        await self._retry(row, after=self._backoff(row), error=error)

    async def _give_up(self, row: OutboxMessage, *, error: str) -> None:
        """Marked failed, and staff told what did not arrive: the staff chat of a message to a patient
        (with its words, so that someone can reach them another way), the admins of one to the staff chat.
        A check-in or reminder is only logged: it closes unanswered, as the adherence figures show."""
        assert row.id is not None
        self._failing_alone_since.pop(row.id, None)
        log.warning(
            "outbox message %s (%s) to chat %s failed (%s) for over an hour while others were delivered; given up",
            row.id,
            row.kind,
            row.chat_id,
            error,
        )
        await self._failed_and_told(row, error=f"{error}; given up after an hour while others went through")

    async def _failed_and_told(self, row: OutboxMessage, *, error: str, why: Undelivered = "hour") -> None:
        """Marked failed, and staff told what did not arrive (see `_tell_undelivered`)."""
        assert row.id is not None
        message_id = row.id

        async def write() -> None:
            async with self.database.session() as session:  # failed and told in one: a crash loses neither
                if not await outbox.finish(
                    session=session,
                    message_id=message_id,
                    chat_id=row.chat_id,
                    status=OutboxStatus.FAILED,
                    now=self.clock(),
                    error=error,
                ):
                    return  # told at a try whose commit landed as the connection was lost, or owed in another chat
                await self._tell_undelivered(session, row, error=error, why=why)

        await self._again_while_away(write)
        self.wake.set()

    async def _tell_undelivered(
        self, session: AsyncSession, row: OutboxMessage, *, error: str, why: Undelivered
    ) -> None:
        """Staff told what did not arrive, in the transaction that gives it up: the staff chat of a message to a
        patient (with its words, so that someone can reach them another way), the admins of one to the staff chat.
        A check-in or reminder is only logged: it closes unanswered, as the adherence figures show. `why`: it failed
        for an hour while others went through, Telegram refused it outright (a 400, said only of a message to a
        patient), or it was given up as what may kill the process (left unfinished by one dying process after
        another, or an error of the bot's own at try after try)."""
        t = functools.partial(self.catalog.text, self.catalog.default_language)
        now, priority = self.clock(), Priority(row.priority)
        patient = await patients.by_id(session=session, patient_id=row.patient_id) if row.patient_id else None
        code = patient.code if patient is not None else "?"
        if row.kind in outbox.TO_A_PATIENT:
            key = {
                "hour": "staff.undelivered_to_patient",
                "refused": "staff.refused_to_patient",
                "stuck": "staff.stuck_to_patient",
            }[why]
            # Words only: what the patient would have seen struck out is marked so ("Take ~~two~~ one tablet"), and a
            # quote as quoted.
            text = t(key, code=code, text=as_words(row.text or "", _formatting(row)), error=error)
            chat_id = await self.staff_chat.destination(session)
            # A long reply with the notice above it is more than one message may hold: in parts, or
            # Telegram refuses it and staff never learn that the patient did not get their words.
            for part in split(text, TEXT_LIMIT):
                await outbox.enqueue(
                    session=session, kind="staff", chat_id=chat_id, text=part, priority=priority, now=now
                )
        elif row.kind in outbox.STAFF_CHAT_KINDS:
            stuck = why == "stuck"
            if stuck and row.chat_id > 0 and row.text and row.kind != "copy":
                # Words to one admin's own chat (a notice of tell_admins: each has a row of their own) given up as
                # what may kill the process: told to the others with its words, they would fail for them as well and
                # be told back, round the admins for ever. Only logged (by the caller). An escalation has no words:
                # the others are told to look at the record.
                return
            if row.text and row.kind != "copy":
                key = "staff.stuck_to_staff_chat" if stuck else "staff.undelivered_to_staff_chat"
                text = t(key, text=row.text, error=error)
            else:
                key = "staff.stuck_item_to_staff_chat" if stuck else "staff.undelivered_item_to_staff_chat"
                text = t(key, code=code)
            await tell_admins(session, text, now=now, priority=priority, besides=row.chat_id)

    async def _tell_admins_unwritable(self, row: OutboxMessage) -> None:
        """The bot may not post in the staff chat: admins are told in their own chats, once (until a
        message gets there again), as well as the log."""
        async with self.database.session() as session:
            if row.chat_id != await self.staff_chat.current(session):
                return
            told = await clinic_settings.get(session=session, name=UNWRITABLE_TOLD)
            if told == str(row.chat_id) or not await clinic_settings.replace(
                session=session, name=UNWRITABLE_TOLD, old=told, new=str(row.chat_id), now=self.clock()
            ):
                return  # told already, by this process or another
            text = self.catalog.text(self.catalog.default_language, "staff.staff_chat_unwritable")
            await tell_admins(session, text, now=self.clock(), priority=Priority.URGENT, besides=row.chat_id)
        self.wake.set()

    def _count(self, result: str) -> None:
        if self.metrics is not None:
            self.metrics.sent(result)

    @staticmethod
    def _backoff(row: OutboxMessage) -> timedelta:
        return timedelta(seconds=min(300, 2 ** min(row.attempts, 8)))

    async def _retry(self, row: OutboxMessage, *, after: timedelta, error: str, count: bool = True) -> None:
        assert row.id is not None
        message_id, not_before = row.id, self.clock() + after

        async def write() -> None:
            async with self.database.session() as session:
                await outbox.retry_later(
                    session=session, message_id=message_id, not_before=not_before, error=error, count=count
                )

        await self._again_while_away(write)

    async def _send(self, row: OutboxMessage) -> int | None:
        """The request for one row; the Telegram message id, or None when it is no longer owed."""
        bot = self.application.bot
        if row.kind in ("alert", "escalation"):
            return await self._alert(row)
        if row.kind == outbox.TAKE_BACK:
            return await self._take_back(row)
        if row.kind == outbox.STALE_CARD:
            return await self._stale_card(row)
        if row.kind in ("staff", "patient", "received"):
            try:
                return await self._words(row, row.thread_id)
            except BadRequest as error:
                if row.thread_id is None or "thread" not in error.message.lower():
                    raise
                # The topic of the patient's chat it was for is gone ("message thread not found": deleted since): the
                # words go to the chat's main view rather than nowhere.
                log.warning("outbox message %s: its topic is gone; sent to the chat", row.id)
                return await self._words(row, None)
        if row.kind == "copy":
            assert row.source_chat_id is not None and row.source_message_id is not None
            try:
                copied = await bot.copy_message(
                    row.chat_id,
                    row.source_chat_id,
                    row.source_message_id,
                    caption=row.text,  # set only when the original caption must not be shown (see Intake)
                    reply_markup=self._buttons(row),
                    rate_limit_args=PACED,
                )
            except BadRequest as error:
                if may_not_write(error):
                    raise  # the chat's refusal, not the item's: it is tried again (see `_deliver`)
                # Not the staff chat's refusal, unless its words are refused as well ("chat not found" may be
                # said of the patient's chat a copy is made from: an account deleted).
                return await self._not_copied(row, error)
            return int(copied.message_id)
        assert row.checkin_id is not None
        view = await self.checkins.view(checkin_id=row.checkin_id, now=self.clock())
        if view is None:  # closed or answered elsewhere before its turn came
            return None
        state, language = view
        if row.kind == "reminder":
            if state.answers:  # answered meanwhile
                return None
            sent = await bot.send_message(
                row.chat_id, self.catalog.text(language, "checkin.reminder"), rate_limit_args=PACED
            )
            return int(sent.message_id)
        text, keyboard = render(state, language=language, catalog=self.catalog)
        # In the topic of the patient's chat a /checkin asked for it in (row.thread_id), or, that topic gone, the chat.
        try:
            sent = await bot.send_message(
                row.chat_id, text, message_thread_id=row.thread_id, reply_markup=keyboard, rate_limit_args=PACED
            )
        except BadRequest as error:
            if row.thread_id is None or "thread" not in error.message.lower():
                raise
            log.warning("outbox message %s: its topic is gone; sent to the chat", row.id)
            sent = await bot.send_message(row.chat_id, text, reply_markup=keyboard, rate_limit_args=PACED)
        return int(sent.message_id)

    async def _words(self, row: OutboxMessage, thread: int | None) -> int:
        """Send a row of words (with its buttons and formatting), in the topic `thread` of its chat (None: its main
        view); the Telegram message id."""
        bot = self.application.bot
        buttons = await self._contact_me(row) if row.kind == "received" else self._buttons(row)
        formatted = _formatting(row)
        try:
            sent = await bot.send_message(
                row.chat_id,
                row.text or "",
                message_thread_id=thread,
                entities=[MessageEntity(e.type, e.offset, e.length, url=e.url, language=e.language) for e in formatted]
                or None,
                reply_markup=buttons,
                rate_limit_args=PACED,
            )
        except BadRequest:
            if not formatted:
                raise
            # Refused, maybe for the formatting alone (an address Telegram will not link): the words go, those
            # struck out and a quote marked (unless the marks make it too long), rather than none. Refused for the
            # chat's sake, they are refused again, and that is raised.
            log.warning("outbox message %s: refused with its formatting; sent as words", row.id)
            plain = as_words(row.text or "", formatted)
            plain = plain if units(plain) <= TEXT_LIMIT else row.text or ""
            sent = await bot.send_message(
                row.chat_id, plain, message_thread_id=thread, reply_markup=buttons, rate_limit_args=PACED
            )
        return int(sent.message_id)

    async def _not_copied(self, row: OutboxMessage, error: BadRequest) -> int | None:
        """Telegram would not copy a patient's photo, voice note... into the staff chat (deleted by the
        patient before its turn came, a quiz poll): staff get the words that were on it, stored when it
        came, saying that the item itself cannot be shown, under Reply and Seen as the copy would be."""
        log.warning("outbox message %s: Telegram would not copy it (%s); its words go instead", row.id, error.message)
        async with self.database.session() as session:
            patient = await patients.by_id(session=session, patient_id=row.patient_id) if row.patient_id else None
            message = (
                await patient_messages.get(session=session, message_id=row.patient_message_id)
                if row.patient_message_id
                else None
            )
        if patient is None or message is None:
            return None  # erased meanwhile
        kind = f"staff.media.{message.kind}"
        what = self.cards.t(kind if self.catalog.has(self.cards.language, kind) else "staff.media.other")
        # Why staff cannot see it: the staff chat's permissions leave out its kind, or the patient deleted it.
        if refuses_the_kind(error):
            keys = ("staff.copy_not_allowed", "staff.copy_not_allowed_words")
        else:
            keys = ("staff.copy_failed", "staff.copy_failed_words")
        if message.text:
            text = self.cards.t(keys[1], code=patient.code, what=what, words=message.text)
        else:
            text = self.cards.t(keys[0], code=patient.code, what=what)
        parts = split(text, TEXT_LIMIT)
        sent_id = None
        for n, part in enumerate(parts, start=1):
            buttons = self._buttons(row) if n == len(parts) else None
            sent = await self.application.bot.send_message(
                row.chat_id, part, reply_markup=buttons, rate_limit_args=PACED
            )
            sent_id = int(sent.message_id)
        return sent_id

    async def _contact_me(self, row: OutboxMessage) -> InlineKeyboardMarkup | None:
        """Under the reply to a patient's message: "Please contact me", in their language."""
        async with self.database.session() as session:
            patient = await patients.by_id(session=session, patient_id=row.patient_id) if row.patient_id else None
        if patient is None:
            return None
        label = self.catalog.text(patient.language, "contact.button")
        return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=CONTACT_ME)]])

    def _buttons(self, row: OutboxMessage) -> InlineKeyboardMarkup | None:
        """Reply and Seen under a patient's message shown to staff (on its last part only)."""
        if row.kind not in ABOUT_A_PATIENT or row.patient_message_id is None or row.patient_id is None:
            return None
        return self.cards.message_keyboard(patient_id=row.patient_id, patient_message_id=row.patient_message_id)

    async def _alert(self, row: OutboxMessage) -> int | None:
        """An alert card (sent with its chart, or updated in place) or an admin's escalation message."""
        assert row.alert_id is not None
        bot, now = self.application.bot, self.clock()
        view = await self.desk.view(alert_id=row.alert_id, now=now)
        if view is None:
            return None
        caption, keyboard = self.cards.caption(view, now=now), self.cards.keyboard(view)
        if row.kind == "escalation":
            if view.alert.status != AlertStatus.OPEN:
                return None  # acknowledged meanwhile
            minutes = int((now - view.alert.opened_at).total_seconds() // 60)
            text = self.cards.t("alerts.escalation", minutes=minutes) + "\n" + caption
            sent: Message = await bot.send_message(row.chat_id, text, reply_markup=keyboard, rate_limit_args=PACED)
            return int(sent.message_id)
        card = view.alert.card_message_id
        if card is not None and view.alert.card_chat_id == row.chat_id:
            try:
                await edit(self._edit_card(row.chat_id, card, caption, keyboard))
                return card
            except BadRequest as error:
                if not gone(error):
                    raise
                # Someone deleted the card in the staff chat: what changed on it comes as a new card.
                log.warning("the card of alert %s is gone from the staff chat; it is sent again", row.alert_id)
        chart = await self.cards.chart(view, now=now)
        try:
            sent = await bot.send_photo(
                row.chat_id, chart, caption=caption, reply_markup=keyboard, filename="alert.png", rate_limit_args=PACED
            )
        except BadRequest as error:
            if not refuses_the_kind(error):
                raise
            # The staff chat takes no photos (its permissions): the card goes as text, without its chart.
            log.warning("chat %s takes no photos; the card of alert %s goes as text", row.chat_id, row.alert_id)
            sent = await bot.send_message(row.chat_id, caption, reply_markup=keyboard, rate_limit_args=PACED)
        # Sent: written down even through a moment of the database locked, or the card would be sent again.
        await self._again_while_away(
            functools.partial(
                self.desk.card_sent, alert_id=row.alert_id, chat_id=row.chat_id, message_id=sent.message_id
            )
        )
        return int(sent.message_id)

    async def _stale_card(self, row: OutboxMessage) -> int | None:
        """An older message of a card sent anew keeps History and Reply, as a press on it would leave it. Refused
        (deleted, too old to edit, a chat the bot left): it stays as it is, and a press on it still acts on nothing;
        it holds up nothing queued after it. None: nothing was edited."""
        assert row.alert_id is not None and row.source_message_id is not None
        view = await self.desk.view(alert_id=row.alert_id, now=self.clock())
        if view is None:
            return None  # erased meanwhile
        markup = self.cards.keyboard(view, stale=True)
        try:
            await edit(
                self.application.bot.edit_message_reply_markup(
                    row.chat_id, row.source_message_id, reply_markup=markup, rate_limit_args=PACED
                )
            )
        except (BadRequest, Forbidden) as error:
            log.warning("outbox message %s: an older card keeps its buttons (%s)", row.id, error.message)
            return None
        return row.source_message_id

    async def _edit_card(self, chat_id: int, card: int, caption: str, keyboard: InlineKeyboardMarkup) -> None:
        """A card shows the alert as it is now: its caption, or its text when it went as text (refuses_the_kind)."""
        bot = self.application.bot
        try:
            await bot.edit_message_caption(chat_id, card, caption=caption, reply_markup=keyboard, rate_limit_args=PACED)
        except BadRequest as error:
            if "no caption" not in error.message.lower():
                raise
            await bot.edit_message_text(caption, chat_id, card, reply_markup=keyboard, rate_limit_args=PACED)

    async def _again_while_away(self, write: Callable[[], Awaitable[T]]) -> T:
        """Writing down how a send went, tried again while the database is away (SQLite locked past its wait,
        PostgreSQL restarting): left `sending`, the row would be sent again once its lease ran out (a check-in,
        a staff reply or a crisis text twice). The row stays in hand meanwhile, so that this sender does not
        take it for one a dead process left (its lease is renewed once the database is back). Only a sender
        that is stopping leaves it to the lease after a few seconds: it must not wait on an outage. The waits
        double from `away_retry` (OUTBOX_RETRY_SECONDS: 0.25, 0.5, 1 and 2 s) up to eight times it."""
        first = self.away_retry
        longest = first * 8
        waits = itertools.chain((first, first * 2, first * 4, longest), itertools.repeat(longest))
        for wait in waits:
            try:
                return await write()
            except Exception as error:
                if not database_away(error) or (wait >= longest and self._stopping.is_set()):
                    raise
                self._met_away()
                log.warning("how an outbox message went could not be written (%s); again", type(error).__name__)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    async def _finish(
        self,
        row: OutboxMessage,
        status: OutboxStatus,
        *,
        telegram_message_id: int | None = None,
        error: str | None = None,
    ) -> bool:
        """Written down; True when the row moved to another chat while it was on its way (see outbox.finish)."""
        return await self._again_while_away(
            functools.partial(self._write_finish, row, status, telegram_message_id=telegram_message_id, error=error)
        )

    async def _write_finish(
        self,
        row: OutboxMessage,
        status: OutboxStatus,
        *,
        telegram_message_id: int | None = None,
        error: str | None = None,
    ) -> bool:
        assert row.id is not None
        now = self.clock()
        async with self.database.session() as session:
            # The patient a message in a staff chat is about, kept first, in the order an erasure takes them
            # (storage.patients.keep); erased as it went, there is no one it is about (the row went with them).
            about = row.patient_id if row.kind in ABOUT_A_PATIENT and telegram_message_id is not None else None
            if about is not None and not await patients.keep(session=session, patient_id=about):
                about = None
            shown = row.checkin_id if row.kind == "checkin" and telegram_message_id is not None else None
            if shown is not None:  # locked before the outbox row, in the order a re-link takes them (enrolment)
                await checkins.lock(session=session, checkin_id=shown)
            if row.kind in outbox.STAFF_CHAT_KINDS and status == OutboxStatus.SENT:
                # It may post there again: the admins are told the next time it cannot.
                await clinic_settings.replace(
                    session=session, name=UNWRITABLE_TOLD, old=str(row.chat_id), new="", now=now
                )
            if about is not None and telegram_message_id is not None:
                # A staff member's reply to this message reaches the patient it is about.
                await staff_chat.remember(
                    session=session, chat_id=row.chat_id, message_id=telegram_message_id, patient_id=about, now=now
                )
            if await outbox.finish(
                session=session,
                message_id=row.id,
                chat_id=row.chat_id,
                status=status,
                now=now,
                telegram_message_id=telegram_message_id,
                error=error,
            ):
                if shown is not None and telegram_message_id is not None:
                    # The check-in's message, so that a typed note can edit it later and a reminder follow it.
                    await checkins.set_message(
                        session=session, checkin_id=shown, chat_id=row.chat_id, message_id=telegram_message_id
                    )
                return False
            moved = await outbox.owed_elsewhere(session=session, message_id=row.id, chat_id=row.chat_id)
            if moved and telegram_message_id is not None and row.kind in outbox.PATIENT_KINDS:
                # Delivered to the account the record moved from as the move committed (a lost phone, someone
                # else's): it is owed there to be deleted, in this transaction, so that no failure or crash
                # after it leaves the patient's words there.
                await outbox.take_back(session=session, chat_id=row.chat_id, message_id=telegram_message_id, now=now)
            return moved

    async def _chat_migrated(self, row: OutboxMessage, new_chat_id: int) -> None:
        """Telegram moved the chat to a supergroup. The staff chat follows it (with what is owed to it);
        this row is owed there at once."""
        assert row.id is not None
        if not await self.staff_chat.migrated(old=row.chat_id, new=new_chat_id, now=self.clock()):
            if await self._to_the_staff_chat_now(row):  # Telegram's word of the move was handled first
                return
            log.warning("outbox message %s: chat %s is now %s, not the staff chat", row.id, row.chat_id, new_chat_id)
            await self._finish(row, OutboxStatus.FAILED, error="the group became a supergroup")
            return
        log.warning("the staff chat became a supergroup (%s -> %s); following it", row.chat_id, new_chat_id)
        await self._retry(row, after=timedelta(0), error="the group became a supergroup", count=False)

    async def _to_the_staff_chat_now(self, row: OutboxMessage) -> bool:
        """A row for a group that is no longer the staff chat (an admin named another while it was in
        flight, and the bot left the old one): it goes to the staff chat now, with what else was owed to
        that group, instead of being dropped as blocked. False when the row is not such a one."""
        assert row.id is not None
        if row.kind not in outbox.STAFF_CHAT_KINDS or row.chat_id >= 0:
            return False
        async with self.database.session() as session:
            if row.chat_id == await self.staff_chat.current(session):
                return False
            await outbox.retry_later(
                session=session, message_id=row.id, not_before=self.clock(), error="sent to a former staff chat"
            )
            await self.staff_chat.gather(session)
        log.warning(
            "outbox message %s was for a former staff chat (%s); it goes to the staff chat", row.id, row.chat_id
        )
        self.wake.set()
        return True

    async def _escalate_in_the_staff_chat(self, row: OutboxMessage, status: OutboxStatus, *, error: str) -> bool:
        """An escalation an admin's own chat refuses (they blocked the bot, never opened a chat with it, or
        their account is gone) goes to the staff chat instead, where someone can acknowledge: with the only
        admin so, an urgent alert was escalated to no one. Once a step when several admins' chats refuse.
        False when the row is not such a one."""
        assert row.id is not None
        if row.kind != "escalation" or row.alert_id is None:
            return False
        message_id, alert_id = row.id, row.alert_id

        async def write() -> bool:
            now = self.clock()
            async with self.database.session() as session:
                staff_chat_id = await self.staff_chat.destination(session)
                if row.chat_id == staff_chat_id:
                    return False
                # The patient kept first, before a row of theirs is changed, in the order an erasure takes them
                # (the other order can deadlock with it on PostgreSQL). Erased as the admin's chat refused: no
                # alert is left to escalate (read after the first write, which on SQLite begins the transaction).
                kept = row.patient_id is None or await patients.keep(session=session, patient_id=row.patient_id)
                await outbox.finish(
                    session=session,
                    message_id=message_id,
                    chat_id=row.chat_id,
                    status=status,
                    now=now,
                    error=error[:200],
                )
                if not kept or await alerts.get(session=session, alert_id=alert_id) is None:
                    return True
                if not await outbox.escalated_in(
                    session=session, alert_id=alert_id, chat_id=staff_chat_id, since=row.created_at
                ):
                    await outbox.enqueue(
                        session=session,
                        kind="escalation",
                        chat_id=staff_chat_id,
                        alert_id=alert_id,
                        patient_id=row.patient_id,
                        priority=Priority.URGENT,
                        now=now,
                    )
            return True

        if not await self._again_while_away(write):
            return False
        log.error("an escalation could not reach admin chat %s (%s); it goes to the staff chat", row.chat_id, error)
        self.wake.set()
        return True

    async def _to_the_staff_chat_instead(self, row: OutboxMessage, status: OutboxStatus, *, error: str) -> bool:
        """Urgent words for the admins (a patient's words of crisis the diary failed to store, what a patient sent that
        could not be read) that an admin's own chat refuses (they never opened a chat with the bot, blocked it, or their
        account is gone) go to the staff chat instead, once when several admins' chats refuse, as an escalation does:
        with the only admin so, no one heard of the patient. Not words about the staff chat's own trouble (it cannot
        be reached: they are for the admins alone). False when the row is not such a one."""
        assert row.id is not None
        if row.kind != "staff" or row.priority != Priority.URGENT or row.chat_id <= 0 or not row.text:
            return False
        message_id, text = row.id, row.text

        async def write() -> bool:
            now = self.clock()
            async with self.database.session() as session:
                staff_chat_id = await self.staff_chat.destination(session)
                if row.chat_id == staff_chat_id or row.about_chat_id == staff_chat_id:
                    return False
                if row.chat_id not in await staff.admins(session=session):
                    return False
                await outbox.finish(
                    session=session,
                    message_id=message_id,
                    chat_id=row.chat_id,
                    status=status,
                    now=now,
                    error=error[:200],
                )
                if not await outbox.queued_like(
                    session=session, chat_id=staff_chat_id, text=text, since=row.created_at
                ):
                    await outbox.enqueue(
                        session=session,
                        kind="staff",
                        chat_id=staff_chat_id,
                        text=text,
                        priority=Priority.URGENT,
                        now=now,
                    )
            return True

        if not await self._again_while_away(write):
            return False
        log.error("urgent words could not reach admin chat %s (%s); they go to the staff chat", row.chat_id, error)
        self.wake.set()
        return True

    async def _hold(self, row: OutboxMessage) -> bool:
        """A row for the staff chat the bot was removed from: it waits, with all that is owed there, until
        the bot is back or an admin names another chat. False when the row is not for the staff chat.

        Unless the bot is back already: removed and added again as the row was on its way, with its return
        handled before the refusal, what is owed there would wait for good (nothing more tells of a return).
        Telegram is asked; the row is tried again a little later, a few times (and when Telegram cannot say):
        refused still, it waits and the admins are told."""
        assert row.id is not None
        async with self.database.session() as session:
            if row.kind not in outbox.STAFF_CHAT_KINDS or row.chat_id != await self.staff_chat.current(session):
                return False
        # The first refusal is always looked into (the row may have failed before for other reasons); then a few.
        first = row.error != _REFUSED_IN_THE_GROUP
        in_group: bool | None = None
        if first or row.attempts < _REFUSED_TRIES:
            in_group = await self._in_group(row.chat_id)
            if in_group is not False:
                log.warning(
                    "outbox message %s: refused by the staff chat %s, which the bot may be in again",
                    row.id,
                    row.chat_id,
                )
                await self._retry(row, after=self._backoff(row), error=_REFUSED_IN_THE_GROUP)
                return True
        async with self.database.session() as session:
            await outbox.release(session=session, message_id=row.id)
            held = await self.staff_chat.hold(session, chat_id=row.chat_id)
        # Added back as Telegram answered that the bot was out: its return, handled before this hold, found
        # nothing to give back, and what was just held would wait for good. Asked once more, it goes now.
        if in_group is False and await self._in_group(row.chat_id) is True:
            log.warning("the bot is back in the staff chat %s: what was held there goes now", row.chat_id)
            await self.staff_chat.rejoined(chat_id=row.chat_id)
            self.wake.set()
            return True
        await self._tell_admins_unwritable(row)
        log.error(
            "the staff chat %s will not take messages (removed, or not found): %d messages wait until an admin sends "
            "/staffchat in a group the bot is in",
            row.chat_id,
            held,
        )
        return True

    async def _in_group(self, chat_id: int) -> bool | None:
        """Whether Telegram says the bot is in the group now (None when it cannot say)."""
        bot = self.application.bot
        try:
            member = await bot.get_chat_member(chat_id, bot.id)
        except (Forbidden, BadRequest):
            return False  # out of the group ("bot was kicked"), or the group is gone
        except TelegramError:
            return None  # a timeout, Telegram's 5xx or 429
        if isinstance(member, ChatMemberRestricted):
            return member.is_member  # restricted, and removed: Telegram keeps the restrictions
        return member.status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR)

    async def _blocked(self, row: OutboxMessage) -> None:
        """The patient blocked the bot: stop their schedule until they /start again, and tell staff. The bot
        removed from the staff chat: what is owed there waits for an admin's /staffchat."""
        assert row.id is not None
        if await self._to_the_staff_chat_now(row) or await self._hold(row):
            return
        if await self._escalate_in_the_staff_chat(row, OutboxStatus.BLOCKED, error="blocked"):
            return
        if await self._to_the_staff_chat_instead(row, OutboxStatus.BLOCKED, error="blocked"):
            return
        now = self.clock()
        t = functools.partial(self.catalog.text, self.catalog.default_language)
        # Words for the patient (a staff reply, the crisis text): staff learn which did not arrive, as they do of
        # one Telegram refuses for another reason, and that it goes when the patient unblocks the bot.
        words = row.kind in outbox.TO_A_PATIENT and row.patient_id is not None
        async with self.database.session() as session:
            patient_id = await roster.unreachable_in(  # first: it keeps the patient (see there)
                session,
                chat_id=row.chat_id,
                now=now,
                staff_chat=self.staff_chat,
                staff_text=lambda code: t("staff.unreachable", code=code),
                refused=(lambda code: t("staff.blocked_to_patient", code=code, text=row.text or "")) if words else None,
            )
            await outbox.finish(
                session=session, message_id=row.id, chat_id=row.chat_id, status=OutboxStatus.BLOCKED, now=now
            )
        if patient_id is not None:
            log.info("patient %s is unreachable (blocked the bot); schedule stopped", patient_id)
            self.wake.set()
        else:
            log.error("outbox message %s: the bot may not write to chat %s (403)", row.id, row.chat_id)
