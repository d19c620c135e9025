"""The durable inbox: updates are stored before Telegram is told we have them, then processed.

Telegram forgets an update once a later getUpdates call confirms it (offset = its id + 1). We store
each batch in the database first, so a crash at any instant leaves every update either unconfirmed
(Telegram sends it again) or in the inbox (processed at start-up). Handlers are idempotent, so an
update processed twice stores nothing twice.

An update whose handling failed because the database did not answer (SQLite locked past its wait,
PostgreSQL restarting) is not marked processed: it is tried again, with backoff, until the database is
back, so that a patient's words reach staff. So is one whose handling failed because Telegram was out of
reach for a moment (its 5xx, a connection refused or dropped): marked handled, what the handler had still
to do was lost, though what it had written was kept (a staff member's reply went to the patient, but its
confirmation never came; a card acknowledged went on showing Acknowledge; Reply pressed posted no prompt
to reply to). Handling is idempotent, so the try after does what the first left undone. The person was
told once that something went wrong (or got the crisis text); the tries after that say nothing to them,
but for a crisis text that has not reached them (Telegram refused it, or the process that handled it
first stopped before it went). That the crisis text went is kept in the update's row as soon as the
database takes it, so that a try after a restart neither sends nor queues it again. What its chat sends
meanwhile waits behind it, in order, until its first retry a second later (a correction to a reply does not arrive
before the reply through a moment of SQLite locked; through an outage nothing is held longer, and what
failed is tried again in the order it came). One that
has failed so for an hour while the database answers (marking it handled is a write that works) is no
outage but a fault of that update (SQLite's 'no such column', a PostgreSQL statement time-out): it is
set aside, marked handled, with a warning in the log and the admins told, rather than tried every 30
seconds and replayed at every start.

Each stored update names the process that handles it (bot/delivery/owners.py). A process that starts handles what
another left unfinished, and a running one does so at each tick, only once that one has ended or, on another machine,
its lease has run out (it renews the lease while it runs): replayed from a process still trying it, an update was
handled twice (a staff member told twice that their reply is on its way). At start, one on a process it cannot see is
handled at once (see `_take_left`).

An update this version of python-telegram-bot cannot read (Telegram's API moved on: a field it requires
is no longer sent) would fail the whole batch it came in, and polling with it: nobody would be heard
again, after a restart too. Batches are read one update at a time; one that does not read whole is read
without what does not (bot/delivery/reading.py), or skipped where nothing of it reads, and the admins
are told (by its number and the patient's code, nothing of its content), so that the bot is upgraded and
someone asks the patient what they sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import warnings
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from telegram import Update
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes
from telegram.warnings import PTBUserWarning

from bot.care_team.staff_chat import StaffChat
from bot.delivery import owners, reading
from bot.delivery.outbox import GIVE_UP_AFTER, tell_admins
from bot.delivery.reading import JSONDict, Reading
from bot.delivery.telegram_http import MaybeDone
from bot.metrics import Metrics
from bot.prompts import Catalog
from storage import inbox, patients
from storage.database import Database, database_away
from storage.models import Priority

log = logging.getLogger(__name__)

RETRY_AT_MOST = 30.0  # seconds between tries of an update while the database is away
# After the database was last away, the time another process's tries (RETRY_AT_MOST apart) take to finish what it has
# in hand, before this one takes what is left unfinished for a dead process's (replay_abandoned).
SETTLED_AFTER = timedelta(seconds=2 * RETRY_AT_MOST)
# How long what a process stored or took stays its own without word from it: renewed four times as often while it runs,
# run out only for a process on another machine that stopped (one on this machine is seen to have stopped at once).
LEASE = timedelta(minutes=2)
READ_MARGIN = 5.0  # seconds a long poll's answer may take beyond its own time-out (as get_updates allows)


def telegram_away(error: object) -> bool:
    """Telegram out of reach for a moment (its 5xx, a connection refused, a 429 the rate limiter waited out in
    vain): the request was not done, and the same call may well work in a moment. Not a 400 (the request's own
    fault: refused again), nor a time-out or a connection dropped on the way, after which the request may have been
    done: tried again, a check-in would be asked twice, and a file Telegram is slow to take reach the chat at each
    try."""
    if isinstance(error, RetryAfter):
        return True
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest | TimedOut | MaybeDone)


@dataclass
class Batch:
    """One getUpdates answer, read one update at a time."""

    updates: list[Update] = field(default_factory=list)  # those that read, whole or in part
    unread: list[tuple[JSONDict, Reading]] = field(default_factory=list)  # those that did not read whole
    next_offset: int | None = None  # confirms all of it, what did not read too; None: it was empty


class Inbox:
    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        database: Database,
        *,
        clock: Callable[[], datetime],
        catalog: Catalog | None = None,
        received_at: dict[int, datetime] | None = None,
        poll_timeout: int = 10,
        max_in_flight: int = 512,
        metrics: Metrics | None = None,
        crisis_text_sent: set[int] | None = None,
        failed_again: Callable[[Update, Any], Awaitable[None]] | None = None,
        first_retry: float = 1.0,
        staff_chat: StaffChat | None = None,
    ) -> None:
        self.application = application
        self.database = database
        self.clock = clock
        self.catalog = catalog  # for the admins' word of an update set aside; none, the log only
        # When each update in hand was stored: handlers date a button press by it (Telegram does not).
        self.received_at = received_at if received_at is not None else {}
        self.poll_timeout = poll_timeout
        self.metrics = metrics
        # Updates whose person got the crisis text straight from the error handler, shared with it and with
        # the intake (which then does not queue it again); written into their rows by this inbox.
        self.crisis_text_sent = crisis_text_sent if crisis_text_sent is not None else set()
        # What a try after the first still owes the person when it fails (a crisis text that has not gone).
        self.failed_again = failed_again
        self.first_retry = first_retry  # seconds before an update's second try; each next waits twice as long
        self.staff_chat = staff_chat  # told what the admins would be, when no admin is named
        self.offset: int | None = None
        self.owner = owners.new_owner()  # named in the rows this inbox stores or takes, until `close`
        # Updates of one chat run one after another, in order; different chats run concurrently.
        self._chat_locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._slots = asyncio.Semaphore(max_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()
        self._done: list[int] = []
        self._flush_lock = asyncio.Lock()
        self._away: set[int] = set()  # updates whose handling failed because the database or Telegram was away
        self._tries: dict[int, int] = {}  # how often each of those has been tried
        self._admins_told_at: datetime | None = None  # of an update set aside (at most once an hour)
        self._away_at: datetime | None = None  # when the database last failed this inbox (see replay_abandoned)
        # Per sender (None: not known), when the admins were last told of an update that did not read whole.
        self._unread_told_at: dict[int | None, datetime] = {}
        self._retries: set[asyncio.Task[None]] = set()
        self._unstored: set[int] = set()  # updates handled from memory while the database was away
        # Per chat: its updates that failed a first time and wait for their next try, and those that came
        # after them, held until then.
        self._holding: dict[int, set[int]] = {}
        self._held: defaultdict[int, list[Update]] = defaultdict(list)
        # Per chat: its updates that failed and wait for their next try, by update id.
        self._waiting: defaultdict[int, dict[int, Update]] = defaultdict(dict)
        # First among the error handlers, so that it can keep a retry from telling the person again.
        others = dict(application.error_handlers)
        application.error_handlers.clear()
        application.add_error_handler(self._failed)
        application.error_handlers.update(others)

    async def _failed(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not isinstance(update, Update) or not (database_away(context.error) or telegram_away(context.error)):
            return
        # Not taken for the database away as a whole (_met_away): one update's handler may fail so again and again
        # (a statement of its own timing out) while the database answers, and would hold back, for the hour until it
        # is set aside, what a dead process left (replay_abandoned). The inbox's own reads and writes tell an outage.
        self._away.add(update.update_id)
        if update.update_id in self._tries:  # a retry: the person was told at the first try
            log.warning("update %s failed again: the database or Telegram is still away", update.update_id)
            if self.failed_again is not None:
                await self.failed_again(update, context)
            raise ApplicationHandlerStop

    async def replay_unfinished(self) -> int:
        """Process what a previous process stored but did not finish, each at the time it was stored: not what a
        process still running on this machine has in hand (see `_take_left`)."""
        rows = await self._take_left(unowned_before=None)
        await self._replay(rows)
        await self.drain()
        if rows:
            log.info("replayed %d unfinished updates", len(rows))
        return len(rows)

    async def replay_abandoned(self, *, older_than: timedelta) -> int:
        """Updates still unfinished that this process does not have in hand: another process (on the same database,
        behind the same webhook) stored them and died before handling them, or on another machine has not renewed their
        lease; stored before owners were kept, longer ago than `older_than`. Handled here, as a restart would (handling
        is idempotent).

        Not those this process handled and could not mark (the database away at that instant): they wait
        for their mark, which is tried first. Nor any until a minute after this process last met the database away:
        through an outage longer than `older_than`, the updates another running process stored before it and tries
        again until it ends grew as old as a dead process's, and were handled here too (staff got a patient's message
        twice, the patient a second crisis text). Tried there every 30 s at most, they are finished within the minute;
        no longer, or a database often locked for a moment would hold a dead process's updates back for good."""
        await self._flush()
        now = self.clock()
        if self._away_at is not None and now - self._away_at < min(older_than, SETTLED_AFTER):
            return 0
        try:
            rows = await self._take_left(unowned_before=now - older_than)
        except Exception as error:
            if database_away(error):
                self._met_away()
            raise
        mine = set(self.received_at) | set(self._done)
        left = [row for row in rows if row.update_id not in mine]
        await self._replay(left)
        if left:
            log.warning("%d updates left unhandled by a stopped process are handled now", len(left))
        return len(left)

    async def _take_left(self, *, unowned_before: datetime | None) -> list[inbox.Unfinished]:
        """Unfinished updates whose process has ended, or whose lease ran out (one on another machine), taken for this
        one; and those stored before owners were kept, stored before `unowned_before` (None: all, at start).

        At start, one whose process cannot be seen from here is taken whatever its lease: that is the bot itself, in a
        container started again after a crash (a new process namespace) far more often than a second process on
        another machine, and its patients' words waited two minutes for the lease, behind newer updates."""
        now = self.clock()
        gone = {owners.Seen.ENDED, owners.Seen.UNKNOWN} if unowned_before is None else {owners.Seen.ENDED}
        async with self.database.session() as session:
            seen = {owner: owners.seen(owner) for owner in await inbox.owners(session=session)}
            return await inbox.take(
                session=session,
                owner=self.owner,
                now=now,
                leased_until=now + LEASE,
                ended=[owner for owner, state in seen.items() if state in gone],
                unknown=[owner for owner, state in seen.items() if state not in gone and state is owners.Seen.UNKNOWN],
                unowned_before=unowned_before,
            )

    async def keep_leases(self, stop: asyncio.Event) -> None:
        """While this process runs, what it holds stays its own (see `_take_left`)."""
        while not stop.is_set():
            try:
                async with self.database.session() as session:
                    await inbox.renew(session=session, owner=self.owner, leased_until=self.clock() + LEASE)
            except Exception as error:
                if not database_away(error):
                    log.exception("renewing the inbox's leases failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), LEASE.total_seconds() / 4)

    def close(self) -> None:
        """Stopped: what this inbox left unfinished is for the next to take."""
        owners.ended(self.owner)

    async def _replay(self, rows: list[inbox.Unfinished]) -> None:
        unread = []
        for row in rows:
            payload = json.loads(row.payload)
            read = reading.read(payload, self.application.bot)
            if read.left_out or read.update is None:  # stored by an older version of the bot, which read it
                unread.append((payload, read))
            update = read.update
            if update is None:
                continue
            self.received_at[row.update_id] = row.received_at
            if row.failing_since is not None:  # it failed in the process that stored it: the person was told
                self._tries.setdefault(row.update_id, 1)
            if row.crisis_text_at is not None:
                self.crisis_text_sent.add(row.update_id)
            self._dispatch(update)
        await self.not_read_whole(unread)

    async def catch_up(self) -> int:
        """Fetch and handle what Telegram kept while the bot was down, before the scheduler's first tick:
        a tick would otherwise open the next check-in and close the one those answers belong to."""
        handled = 0
        while True:
            try:
                batch = await self._fetch(timeout=0)
                if batch.next_offset is None:
                    break
                await self._take(batch)
            except Exception as error:
                # Telegram asking us to wait, or out of reach, or the database away: the polling loop, which
                # waits and tries again, takes over (raised here, it would stop the bot's start).
                if not isinstance(error, (TimedOut, NetworkError, RetryAfter)) and not database_away(error):
                    raise
                log.warning("catching up with Telegram failed (%s); the polling loop will", type(error).__name__)
                break
            handled += len(batch.updates)
        await self.drain()
        if handled:
            log.info("caught up with %d updates kept while the bot was down", handled)
        return handled

    async def poll(self, stop: asyncio.Event) -> None:
        """Long-poll Telegram until `stop` is set."""
        while not stop.is_set():
            fetch = asyncio.ensure_future(self._fetch(timeout=self.poll_timeout))
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetch.done():
                # Nothing fetched is confirmed until the next call, so abandoning this one loses nothing.
                fetch.cancel()
                break
            try:
                batch = fetch.result()
            except RetryAfter as error:
                await asyncio.sleep(
                    float(
                        error.retry_after if isinstance(error.retry_after, int) else error.retry_after.total_seconds()
                    )
                )
                continue
            except (TimedOut, NetworkError) as error:
                if stop.is_set():
                    break
                log.warning("getUpdates failed (%s); retrying", type(error).__name__)
                await asyncio.sleep(1)
                continue
            if batch.next_offset is None:
                continue
            try:
                await self._take(batch)
            except Exception as error:
                if not database_away(error):
                    raise
                # Not confirmed: Telegram keeps them and gives them again at the next call.
                log.warning("updates could not be stored (%s); fetched again in a moment", type(error).__name__)
                await asyncio.sleep(1)
                continue
        await self.drain()

    async def _fetch(self, *, timeout: int) -> Batch:
        """The updates Telegram has after our offset. Asked for raw and read here one by one, where
        `Bot.get_updates` reads the batch as one: a single update it cannot read would fail all of them
        (and python-telegram-bot would log their contents)."""
        bot = self.application.bot
        with warnings.catch_warnings():
            # It would have us call get_updates, which is what we must not do here.
            warnings.filterwarnings("ignore", message="Please use 'Bot.get_updates'", category=PTBUserWarning)
            raw = await bot.do_api_request(
                "get_updates",
                api_kwargs={"offset": self.offset, "timeout": timeout, "allowed_updates": list(Update.ALL_TYPES)},
                read_timeout=READ_MARGIN + timeout,
            )
        batch = Batch()
        for payload in raw if isinstance(raw, list) else []:
            if not isinstance(payload, dict) or type(payload.get("update_id")) is not int:
                continue  # not an update: nothing to confirm it by
            read = reading.read(payload, bot)
            if read.left_out or read.update is None:
                batch.unread.append((payload, read))
            if read.update is not None:
                bot.insert_callback_data(read.update)  # as get_updates does (a no-op without arbitrary callback data)
                batch.updates.append(read.update)
            batch.next_offset = max(batch.next_offset or 0, payload["update_id"] + 1)
        return batch

    async def _take(self, batch: Batch) -> None:
        """Store and handle a batch, then let Telegram forget it (the next call confirms it by the offset)."""
        if batch.updates:
            await self.receive(batch.updates)
        await self.not_read_whole(batch.unread)
        self.offset = batch.next_offset

    async def not_read_whole(self, unread: list[tuple[JSONDict, Reading]]) -> None:
        """After updates that did not read whole were handled in part, or skipped where nothing of them read (so that
        what follows them is heard): logged by number and the fields left out, the skipped marked handled where
        stored, and the admins told, at most once an hour of each sender, with the patient's code when one sent it.
        The database away, its error is raised: the batch is not confirmed, and Telegram sends it again."""
        if not unread:
            return
        for payload, read in unread:
            done = f"read without {', '.join(read.left_out)}" if read.update is not None else "skipped"
            log.warning(
                "update %s does not read whole in this version of python-telegram-bot: %s", payload["update_id"], done
            )
        skipped = [payload["update_id"] for payload, read in unread if read.update is None]
        now = self.clock()
        tell: dict[int | None, tuple[JSONDict, Reading]] = {}
        for payload, read in unread:
            who = reading.sender(payload)
            told = self._unread_told_at.get(who)
            if self.catalog is not None and who not in tell and (told is None or now - told >= GIVE_UP_AFTER):
                tell[who] = (payload, read)
        try:
            async with self.database.session() as session:
                await inbox.mark_processed(session=session, update_ids=skipped, now=now)
                for payload, read in tell.values():
                    text = await self._unread_notice(session, payload, read)
                    await tell_admins(
                        session, text, now=now, priority=Priority.URGENT, or_in=await self._or_in(session)
                    )
        except Exception as error:
            if database_away(error):
                raise
            # Not raised: polling would stop on it, and nothing after would be heard.
            log.exception("telling the admins of what did not read failed")
            return
        self._unread_told_at.update(dict.fromkeys(tell, now))

    async def _or_in(self, session: Any) -> int | None:
        """Where the admins' word goes when no admin is named: the staff chat (someone must ask the patient)."""
        return await self.staff_chat.destination(session) if self.staff_chat is not None else None

    async def _unread_notice(self, session: Any, payload: JSONDict, read: Reading) -> str:
        assert self.catalog is not None
        language = self.catalog.default_language
        if read.update is None:
            done = self.catalog.text(language, "staff.update_skipped")
        else:
            done = self.catalog.text(language, "staff.update_read_in_part", fields=", ".join(read.left_out))
        who = reading.sender(payload)
        patient = None if who is None else await patients.by_telegram_user(session=session, telegram_user_id=who)
        if patient is None:
            return self.catalog.text(language, "staff.update_unreadable", update=payload["update_id"], done=done)
        return self.catalog.text(
            language, "staff.update_unreadable_from", update=payload["update_id"], code=patient.code, done=done
        )

    async def receive(self, updates: list[Update]) -> None:
        """Store, then process in the background; returns once they are stored (a webhook may then
        answer 200). An update seen before is not processed again.

        The database away: the error is raised (Telegram keeps what is not confirmed, and gives it again),
        and each update is handled once meanwhile all the same, from memory: its handler fails and the
        person hears that something went wrong, or a crisis message gets the crisis text, at once
        rather than when the database is back; it is then tried again as any update the database
        failed (see `_failed`)."""
        now = self.clock()
        try:
            async with self.database.session() as session:
                new = await inbox.store_new(
                    session=session,
                    updates=[(u.update_id, json.dumps(u.to_dict())) for u in updates],
                    now=now,
                    crisis_text_sent=self.crisis_text_sent,  # handled from memory before it could be stored
                    owner=self.owner,
                    leased_until=now + LEASE,
                )
        except Exception as error:
            if database_away(error):
                self._met_away()
                for update in updates:
                    if update.update_id not in self._unstored:
                        self._unstored.add(update.update_id)
                        self.received_at[update.update_id] = now
                        self._dispatch(update)
            raise
        finished = False
        for update in updates:
            # One handled from memory is in hand already: tried again until the database is back (handled again
            # besides, its staff member was told twice that their reply is on its way), or done, to be marked so.
            if update.update_id not in new:
                continue
            if update.update_id not in self._unstored:
                self.received_at[update.update_id] = now
                self._dispatch(update)
            elif update.update_id not in self.received_at:
                self._done.append(update.update_id)
                finished = True
        self._unstored.difference_update(new)
        if finished:  # marked now: its try, done before it was stored, marked nothing, and a restart would replay it
            await self._flush()

    def _dispatch(self, update: Update) -> None:
        task = asyncio.create_task(self._process(update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, update: Update) -> None:
        chat = update.effective_chat
        key = chat.id if chat else 0
        async with self._slots, self._chat_locks[key]:
            holding = self._holding.get(key)
            if holding and update.update_id > min(holding):
                # Behind one of its chat's updates that waits for its next try, in the order they came: a
                # correction must not arrive before what it corrects ("Take two", then "Sorry: one"). (Not
                # an earlier one's retry.)
                self._held[key].append(update)
                return
            started = time.perf_counter()
            # process_update hands handler errors to the error handler; it does not raise for them.
            await self.application.process_update(update)
            failed = update.update_id in self._away
            if self.metrics is not None and not failed:  # each update once, not each try of it
                self.metrics.updates.inc()
                self.metrics.update_seconds.observe(time.perf_counter() - started)
            if failed and update.update_id not in self._tries:
                # Its first failure: what its chat sends next waits for its next try (a second; no longer,
                # or an outage would hold a crisis message back). Marked before the lock is let go.
                self._holding.setdefault(key, set()).add(update.update_id)
        if failed:
            self._away.discard(update.update_id)
            if not await self._set_aside(update):
                self._try_again(update, key)
                return
        else:
            self._done.append(update.update_id)
        self._tries.pop(update.update_id, None)
        self.received_at.pop(update.update_id, None)
        self.crisis_text_sent.discard(update.update_id)  # handled: its message is stored, or set aside
        self._let_through(key, update.update_id)
        await self._flush()

    def _let_through(self, key: int, update_id: int) -> None:
        """`update_id` no longer holds its chat: what was held behind it goes, in order, once none does."""
        holding = self._holding.get(key)
        if holding:
            holding.discard(update_id)
        if not holding:
            self._holding.pop(key, None)
            for update in self._held.pop(key, []):
                self._dispatch(update)

    async def _set_aside(self, update: Update) -> bool:
        """After an hour of failing, the update is marked handled if the database answers (through an
        outage it does not, and the update waits on); the admins are told, at most once an hour. The hour
        runs from its first failure while the database answered, kept in its row: a restart does not
        start it again, or an update failing so would be tried at every start for ever."""
        now = self.clock()
        tell = self.catalog is not None and (
            self._admins_told_at is None or now - self._admins_told_at >= GIVE_UP_AFTER
        )
        try:
            async with self.database.session() as session:
                since = await inbox.failing_since(session=session, update_id=update.update_id, now=now)
                if update.update_id in self.crisis_text_sent:  # before a restart can forget it
                    await inbox.crisis_text_went(session=session, update_ids=[update.update_id], now=now)
                if since is None or now - since < GIVE_UP_AFTER:  # None: not stored yet
                    return False
                await inbox.mark_processed(session=session, update_ids=[update.update_id], now=now)
                if tell and self.catalog is not None:
                    text = self.catalog.text(
                        self.catalog.default_language, "staff.update_set_aside", update=update.update_id
                    )
                    await tell_admins(
                        session, text, now=now, priority=Priority.URGENT, or_in=await self._or_in(session)
                    )
        except Exception as error:
            if database_away(error):
                self._met_away()
            else:
                # Raised, it would leave the update's chat held behind it for good: tried again instead.
                log.exception("deciding whether to set update %s aside failed", update.update_id)
            return False
        if tell:
            self._admins_told_at = now
        log.warning(
            "update %s failed for over an hour while the database answered: set aside, marked handled",
            update.update_id,
        )
        return True

    def _try_again(self, update: Update, key: int) -> None:
        """Not marked processed: it stays in the inbox (a restart replays it) and is tried again here; its
        chat's updates held behind it go after that try. Its chat's updates that came before it and wait
        for their next try too are tried again with it, first: each has its own backoff, and the rest of a
        long reply, on its first retry, would otherwise go before the reply it goes on with, on its second."""
        tries = self._tries[update.update_id] = self._tries.get(update.update_id, 0) + 1
        wait = min(RETRY_AT_MOST, self.first_retry * 2.0 ** (tries - 1))
        log.warning("update %s: the database or Telegram is away; it is tried again in %.1f s", update.update_id, wait)
        self._waiting[key][update.update_id] = update

        async def later() -> None:
            await asyncio.sleep(wait)
            waiting = self._waiting.get(key, {})
            if update.update_id not in waiting:
                return  # tried again already, with a later update of its chat
            due = sorted(update_id for update_id in waiting if update_id <= update.update_id)
            for update_id in due:
                self._dispatch(waiting.pop(update_id))
            if not waiting:
                del self._waiting[key]
            for update_id in due:
                self._let_through(key, update_id)

        task = asyncio.create_task(later())
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    def _met_away(self) -> None:
        self._away_at = self.clock()

    def stop_retrying(self) -> None:
        """At shutdown: what waits for the database stays in the inbox for the next start."""
        for task in self._retries:
            task.cancel()

    async def _flush(self) -> None:
        """Mark finished updates processed, many per transaction when many finish together."""
        async with self._flush_lock:
            done, self._done = self._done, []
            if done:
                try:
                    async with self.database.session() as session:
                        await inbox.mark_processed(session=session, update_ids=done, now=self.clock())
                except Exception as error:
                    if not database_away(error):
                        raise
                    self._met_away()
                    self._done.extend(done)  # marked with the next ones (handled: a replay changes nothing)
                    log.warning("handled updates could not be marked (%s); later", type(error).__name__)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks))
        await self._flush()
