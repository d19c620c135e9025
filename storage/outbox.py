"""Query functions for the outbox: every message the bot owes is a row before it is sent."""

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute
from storage.models import OutboxMessage, Patient, Priority, table
from storage.statuses import OWED, OutboxStatus, PatientStatus

OUTBOX = table(OutboxMessage)
PATIENTS = table(Patient)
# The outbox once more, as the rows queued before the one claim_one takes: made once, because making it
# (a copy of every column) was half the time of a claim, which every sender does twice a second.
_BEFORE = OUTBOX.alias("before")
# A message that failed this often for an unexplained reason (not the network) is given up and logged.
MAX_ATTEMPTS = 8
ABANDONED = "the sending process stopped during the request"  # a row's error after it was left `sending`
INTERNAL_ERROR = "internal error while sending"  # one of the bot's own, not Telegram's
# The chat of rows owed to the staff chat while none is known (no STAFF_CHAT_ID, no /staffchat yet, or
# the bot was removed from it): held, never sent, until an admin names a staff chat. Telegram gives no
# chat the id 0.
STAFF_CHAT_UNKNOWN = 0
# What goes to the staff chat: these follow it when it changes. Escalations go to admins' own chats, or to
# the staff chat when the clinic has no admin; only those rows are the staff chat's (their chat says so).
STAFF_CHAT_KINDS = ("staff", "copy", "alert", "escalation")
# What goes to a patient's own chat: these follow the patient to another Telegram account (a re-link).
PATIENT_KINDS = ("patient", "received", "checkin", "reminder")
# Words for a patient (a staff reply, the crisis text, what they are told of their message): not a scheduled
# check-in or reminder, which is stale once its time has passed. When one cannot be delivered, staff get its
# words, to reach the patient another way; refused, it is owed again when the patient is back.
TO_A_PATIENT = ("patient", "received")
# A message delivered to the account a record moved from, as it moved, to be deleted there (`source_message_id`).
# It stays with that account, and is about no record: an erasure of the patient does not take it away.
TAKE_BACK = "take_back"
# The older message of an alert's card sent anew at the foot of the staff chat (or opened again under a new card),
# to be shown without the buttons that act (`source_message_id`, `alert_id`): else two live cards of one alert, and
# staff act on the one up the chat that shows less. Queued after the new card, less urgent: it never holds it up.
STALE_CARD = "stale_card"


async def enqueue(
    *,
    session: AsyncSession,
    kind: str,
    chat_id: int,
    now: datetime,
    checkin_id: int | None = None,
    alert_id: int | None = None,
    text: str | None = None,
    entities: Sequence[Mapping[str, object]] = (),
    patient_id: int | None = None,
    patient_message_id: int | None = None,
    source: tuple[int, int] | None = None,
    about_chat: int | None = None,
    priority: Priority = Priority.CONVERSATION,
    not_before: datetime | None = None,
    thread_id: int | None = None,
) -> int:
    """Owe a message; its id. `source` is the (chat, message) a copy is made of; `entities`, the formatting of `text`
    (Telegram's MessageEntity fields); `thread_id`, the topic of a patient's chat it goes to (None: its main view);
    `about_chat`, of words for the admins, the chat whose trouble they tell of (they never go there instead)."""
    result = await execute(
        session,
        OUTBOX.insert().values(
            kind=kind,
            priority=priority,
            chat_id=chat_id,
            checkin_id=checkin_id,
            alert_id=alert_id,
            text=text,
            entities=json.dumps(list(entities)) if entities else None,
            patient_id=patient_id,
            patient_message_id=patient_message_id,
            source_chat_id=source[0] if source else None,
            source_message_id=source[1] if source else None,
            thread_id=thread_id,
            about_chat_id=about_chat,
            status=OutboxStatus.PENDING,
            attempts=0,
            not_before=not_before or now,
            created_at=now,
        ),
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


async def enqueue_many(*, session: AsyncSession, kind: str, now: datetime, messages: list[tuple[int, int]]) -> None:
    """Queue many messages of one kind, (chat id, check-in id) each, in one statement."""
    if messages:
        await execute(
            session,
            OUTBOX.insert(),
            [
                {
                    "kind": kind,
                    "priority": Priority.SCHEDULED,
                    "chat_id": chat_id,
                    "checkin_id": checkin_id,
                    "text": None,
                    "status": OutboxStatus.PENDING,
                    "attempts": 0,
                    "not_before": now,
                    "created_at": now,
                }
                for chat_id, checkin_id in messages
            ],
        )


async def claim_one(
    *, session: AsyncSession, now: datetime, skip_chats: Collection[int] = (), owner: str | None = None
) -> OutboxMessage | None:
    """Take the next due message, most urgent first, and mark it `sending` by `owner`: from this commit on it may be
    on its way. Rows another process holds, and rows for `skip_chats` (chats that must wait for their
    turn, or have a message in flight here), are left for later."""
    # A chat gets its messages in the order they were queued (a header above its photo, a reply's parts
    # one after another): a row waits while one queued before it for the same chat, no less urgent, is
    # still owed and due or being tried (one scheduled for later, a snoozed check-in, does not hold it).
    # A crisis text goes before what was queued earlier and is less urgent.
    waits_its_turn = exists().where(
        _BEFORE.c.chat_id == OUTBOX.c.chat_id,
        _BEFORE.c.id < OUTBOX.c.id,
        _BEFORE.c.priority <= OUTBOX.c.priority,
        _BEFORE.c.status.in_(OWED),
        or_(_BEFORE.c.not_before <= now, _BEFORE.c.error.is_not(None)),
    )
    due = (
        select(OUTBOX.c.id)
        .where(
            OUTBOX.c.status == OutboxStatus.PENDING,
            OUTBOX.c.not_before <= now,
            OUTBOX.c.chat_id != STAFF_CHAT_UNKNOWN,
            ~waits_its_turn,
        )
        .order_by(OUTBOX.c.priority, OUTBOX.c.not_before, OUTBOX.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if skip_chats:
        due = due.where(OUTBOX.c.chat_id.not_in(list(skip_chats)))
    result = await execute(
        session,
        update(OUTBOX)
        .where(OUTBOX.c.id == due.scalar_subquery(), OUTBOX.c.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.SENDING, claimed_at=now, claimed_by=owner)
        .returning(*OUTBOX.c),
    )
    row = result.first()
    return OutboxMessage(**row._mapping) if row else None


async def move_to_staff_chat(*, session: AsyncSession, chats: Collection[int], to: int, in_flight: bool = True) -> int:
    """Staff-chat messages still owed to `chats` (an earlier staff chat, or none known) go to `to`
    instead, with those in flight unless not `in_flight`: they are sent there when their turn comes (one
    delivered to the old chat as it moved goes to the new one as well). Returns how many."""
    result = await execute(
        session,
        update(OUTBOX)
        .where(
            OUTBOX.c.chat_id.in_(list(chats)),
            OUTBOX.c.kind.in_(STAFF_CHAT_KINDS),
            OUTBOX.c.status.in_(OWED if in_flight else (OutboxStatus.PENDING,)),
        )
        .values(chat_id=to),
    )
    return int(result.rowcount or 0)


async def move_from_former_staff_chats(*, session: AsyncSession, to: int) -> int:
    """Staff-chat messages still owed to a group that is not the staff chat `to` (STAFF_CHAT_ID changed
    between two starts, or a staff chat named while one was in flight) go to `to`. Groups only (their ids
    are negative): what goes to an admin's own chat (an escalation, a word to the admins) stays there."""
    result = await execute(
        session,
        update(OUTBOX)
        .where(
            OUTBOX.c.chat_id < 0,
            OUTBOX.c.chat_id != to,
            OUTBOX.c.kind.in_(STAFF_CHAT_KINDS),
            OUTBOX.c.status.in_(OWED),
        )
        .values(chat_id=to),
    )
    return int(result.rowcount or 0)


async def skip_staff_messages_to(*, session: AsyncSession, chat_id: int) -> int:
    """What is still owed to a person's own chat as staff (an escalation with a patient's words, a word to
    the admins) is not sent: they are no longer staff. What they are owed as a patient stays."""
    result = await execute(
        session,
        update(OUTBOX)
        .where(OUTBOX.c.chat_id == chat_id, OUTBOX.c.kind.in_(STAFF_CHAT_KINDS), OUTBOX.c.status.in_(OWED))
        .values(status=OutboxStatus.SKIPPED, error="no longer staff"),
    )
    return int(result.rowcount or 0)


async def move_to_patient_chat(*, session: AsyncSession, chat: int, to: int) -> int:
    """A patient's record moved from the account of `chat` to that of `to`: what is still owed to them
    goes to the new account, not to the one they left (a lost phone, a shared one), in its main view (a topic is
    of the chat left: the new one has none of that number). Returns how many."""
    result = await execute(
        session,
        update(OUTBOX)
        .where(OUTBOX.c.chat_id == chat, OUTBOX.c.kind.in_(PATIENT_KINDS), OUTBOX.c.status.in_(OWED))
        .values(chat_id=to, thread_id=None),
    )
    return int(result.rowcount or 0)


async def take_back(*, session: AsyncSession, chat_id: int, message_id: int, now: datetime) -> None:
    """Owe the deletion of a message the bot sent to `chat_id`, the account a patient's record moved from."""
    await enqueue(session=session, kind=TAKE_BACK, chat_id=chat_id, source=(chat_id, message_id), now=now)


async def stale_card(
    *, session: AsyncSession, alert_id: int, patient_id: int, card: tuple[int, int], now: datetime
) -> None:
    """Owe the edit that takes the acting buttons off `card` (chat, message), an older card of the alert: in the
    transaction that forgets it for a new card, so that a crash between the new card and this edit loses neither."""
    await enqueue(
        session=session,
        kind=STALE_CARD,
        chat_id=card[0],
        alert_id=alert_id,
        patient_id=patient_id,
        source=card,
        priority=Priority.SCHEDULED,
        now=now,
    )


async def checkins_owed(*, session: AsyncSession, checkin_ids: Collection[int]) -> set[int]:
    """Which of these check-ins have a message still owed (queued, being sent, or snoozed until later)."""
    if not checkin_ids:
        return set()
    result = await execute(
        session,
        select(OUTBOX.c.checkin_id).where(
            OUTBOX.c.kind == "checkin", OUTBOX.c.checkin_id.in_(list(checkin_ids)), OUTBOX.c.status.in_(OWED)
        ),
    )
    return {int(checkin_id) for (checkin_id,) in result.all()}


async def finish(
    *,
    session: AsyncSession,
    message_id: int,
    chat_id: int,
    status: OutboxStatus,
    now: datetime,
    telegram_message_id: int | None = None,
    error: str | None = None,
) -> bool:
    """Record how sending to `chat_id` went, of a row still being sent there; False when it is not. Either an
    earlier try of the same record landed, and the connection was lost before it heard so: what goes with
    the record (staff told of a refused message) is done already. Or the row moved to another chat while
    it was on its way (the patient re-linked to a new phone, an admin named another staff chat): it is
    owed there, and is sent again there. A delivered staff text is dropped: Telegram has it, we need not
    keep it."""
    values: dict[str, object] = {"status": status, "message_id": telegram_message_id, "error": error}
    if status == OutboxStatus.SENT:
        values.update(sent_at=now, text=None)
    else:
        values.update(sent_at=None)
    sending = (OUTBOX.c.id == message_id, OUTBOX.c.status == OutboxStatus.SENDING)
    result = await execute(session, update(OUTBOX).where(*sending, OUTBOX.c.chat_id == chat_id).values(**values))
    if result.rowcount:
        return True
    await release(session=session, message_id=message_id)  # moved meanwhile: owed in its new chat
    return False


async def send_again_refused(
    *,
    session: AsyncSession,
    patient_id: int,
    chat_id: int,
    now: datetime,
    dated: Callable[[datetime, str], str],
    held: tuple[datetime, datetime] | None = None,
) -> int:
    """The patient, who had blocked the bot, can be reached again: every word for them (TO_A_PATIENT) that
    Telegram refused (403) is owed again, in their chat now (`chat_id`: one refused on an account a re-link
    left goes to the new one, which is the patient's), in the order they were queued (their ids), once
    (owed, they are no longer `blocked`). All of them, not only those refused since the last delivery: a
    message that reached the chat after the patient unblocked the bot unnoticed does not make an earlier
    refusal any less owed. `dated(queued_at, text)` gives the text it is sent with (to say when it was
    written). Check-ins and reminders are not owed again: their time has passed. Returns how many.

    `held`: (moved at, held until) while a re-link's hold lasts. What staff wrote before the record moved is
    about the patient, and the new account may be in the wrong hands: it waits for the hold's end, as the
    record's /history does. A crisis text (urgent) tells nothing of the record and goes now."""
    refused = await execute(
        session,
        select(OUTBOX.c.id, OUTBOX.c.created_at, OUTBOX.c.text, OUTBOX.c.priority)
        .where(
            OUTBOX.c.patient_id == patient_id,
            OUTBOX.c.kind.in_(TO_A_PATIENT),
            OUTBOX.c.status == OutboxStatus.BLOCKED,
        )
        .order_by(OUTBOX.c.id),
    )
    owed = 0
    for message_id, queued_at, text, priority in refused.all():
        withheld = held is not None and queued_at < held[0] and priority != Priority.URGENT
        values: dict[str, object] = {
            "status": OutboxStatus.PENDING,
            "not_before": held[1] if held is not None and withheld else now,
            "error": None,
            "chat_id": chat_id,
        }
        if text is not None:
            values["text"] = dated(queued_at, text)
        changed = await execute(
            session,
            update(OUTBOX).where(OUTBOX.c.id == message_id, OUTBOX.c.status == OutboxStatus.BLOCKED).values(**values),
        )
        owed += int(changed.rowcount or 0)
    return owed


async def still_owed_to(*, session: AsyncSession, message_id: int, chat_id: int) -> bool:
    """Whether a row taken for sending is still owed to `chat_id`, looked at just before its request. Taken,
    it may wait a while for its turn (Telegram's limits, a 429), and meanwhile a re-link may move the patient's
    record to another account, or an admin name another staff chat: it is then released, owed in its new
    chat (False). False as well when it is no longer this sender's to send (an erasure took it)."""
    result = await execute(session, select(OUTBOX.c.chat_id, OUTBOX.c.status).where(OUTBOX.c.id == message_id))
    row = result.first()
    if row is None or row.status != OutboxStatus.SENDING:
        return False
    if row.chat_id != chat_id:
        await release(session=session, message_id=message_id)
        return False
    return True


async def delivered_words(*, session: AsyncSession, patient_id: int, chat_id: int, message_id: int) -> bool:
    """Whether the message `message_id` in chat `chat_id` is one of the words the bot delivered there for the
    patient (TO_A_PATIENT: a staff reply, the crisis text, what they were told of their message), not a check-in,
    a reminder or a reply of the bot's own. Known while the outbox keeps the row (OUTBOX_RETENTION_DAYS)."""
    result = await execute(
        session,
        select(OUTBOX.c.id)
        .where(
            OUTBOX.c.chat_id == chat_id,
            OUTBOX.c.status == OutboxStatus.SENT,
            OUTBOX.c.message_id == message_id,
            OUTBOX.c.patient_id == patient_id,
            OUTBOX.c.kind.in_(TO_A_PATIENT),
        )
        .limit(1),
    )
    return result.first() is not None


async def owed_elsewhere(*, session: AsyncSession, message_id: int, chat_id: int) -> bool:
    """Whether the row is owed to a chat other than `chat_id` now (it moved as it was on its way there)."""
    result = await execute(
        session,
        select(OUTBOX.c.id).where(OUTBOX.c.id == message_id, OUTBOX.c.chat_id != chat_id, OUTBOX.c.status.in_(OWED)),
    )
    return result.first() is not None


async def release(*, session: AsyncSession, message_id: int) -> None:
    """A message taken for sending but not tried (the sender is stopping) is owed again."""
    await execute(
        session,
        update(OUTBOX)
        .where(OUTBOX.c.id == message_id, OUTBOX.c.status == OutboxStatus.SENDING)
        .values(status=OutboxStatus.PENDING),
    )


async def retry_later(
    *, session: AsyncSession, message_id: int, not_before: datetime, error: str, count: bool = True
) -> None:
    """Owed again from `not_before`; `count` adds an attempt (Telegram asking us to slow down does not).
    What is owed to the same chat after it waits for it (see `claim_one`)."""
    await execute(
        session,
        update(OUTBOX)
        .where(OUTBOX.c.id == message_id)
        .values(
            status=OutboxStatus.PENDING,
            not_before=not_before,
            attempts=OUTBOX.c.attempts + (1 if count else 0),
            error=error,
        ),
    )


async def renew(*, session: AsyncSession, message_ids: Collection[int], now: datetime) -> None:
    """Rows still being sent by this process: their lease starts again (see `recover_stale`)."""
    await execute(
        session,
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(list(message_ids)), OUTBOX.c.status == OutboxStatus.SENDING)
        .values(claimed_at=now),
    )


async def claimants(*, session: AsyncSession) -> set[str]:
    """The processes whose senders hold rows `sending`."""
    result = await execute(
        session,
        select(OUTBOX.c.claimed_by)
        .distinct()
        .where(OUTBOX.c.status == OutboxStatus.SENDING, OUTBOX.c.claimed_by.is_not(None)),
    )
    return {row[0] for row in result.all()}


async def recover_stale(
    *,
    session: AsyncSession,
    now: datetime,
    lease: timedelta,
    keep: Collection[int] = (),
    running: Collection[str] = (),
) -> tuple[int, list[OutboxMessage]]:
    """Rows left `sending` longer than the lease: the process that took them died, before or during the
    request. They are owed again: a message that did arrive is sent twice, which is better than a check-in
    or a crisis card never arriving (a check-in's buttons carry its id, so either copy works). A row that
    keeps being left behind is given up. `keep`: rows this process still has in hand. `running`: other processes known
    to run, whose rows are theirs whatever their lease (see bot/delivery/owners.py). Returns how many are
    owed again, and the rows given up (staff are to be told what did not arrive)."""
    stale = [OUTBOX.c.status == OutboxStatus.SENDING, OUTBOX.c.claimed_at < now - lease]
    if keep:
        stale.append(OUTBOX.c.id.not_in(list(keep)))
    if running:
        stale.append(or_(OUTBOX.c.claimed_by.is_(None), OUTBOX.c.claimed_by.not_in(list(running))))
    # The tries count Telegram's outages too (5xx, time-outs): a row is taken for one that kills the
    # process only when its last try was left unfinished as well, so a reply or a crisis card retried
    # through an outage is not given up because the bot was restarted while it was in flight.
    given_up = await execute(
        session,
        update(OUTBOX)
        .where(*stale, OUTBOX.c.attempts + 1 >= MAX_ATTEMPTS, OUTBOX.c.error == ABANDONED)
        .values(status=OutboxStatus.FAILED, attempts=OUTBOX.c.attempts + 1, error="left unfinished too often; given up")
        .returning(*OUTBOX.c),
    )
    gone = [OutboxMessage(**row._mapping) for row in given_up.all()]
    result = await execute(
        session,
        update(OUTBOX)
        .where(*stale)
        .values(
            status=OutboxStatus.PENDING,
            not_before=now,
            attempts=OUTBOX.c.attempts + 1,
            error=ABANDONED,
        ),
    )
    return int(result.rowcount or 0), gone


async def escalated_in(*, session: AsyncSession, alert_id: int, chat_id: int, since: datetime) -> bool:
    """Whether an escalation of the alert was queued for the chat at `since` or after (owed or sent)."""
    result = await execute(
        session,
        select(OUTBOX.c.id)
        .where(
            OUTBOX.c.kind == "escalation",
            OUTBOX.c.alert_id == alert_id,
            OUTBOX.c.chat_id == chat_id,
            OUTBOX.c.created_at >= since,
        )
        .limit(1),
    )
    return result.first() is not None


async def queued_like(*, session: AsyncSession, chat_id: int, text: str, since: datetime) -> bool:
    """Whether words for staff the same as `text` were queued for the chat at `since` or after (owed or sent)."""
    result = await execute(
        session,
        select(OUTBOX.c.id)
        .where(
            OUTBOX.c.kind == "staff",
            OUTBOX.c.chat_id == chat_id,
            OUTBOX.c.text == text,
            OUTBOX.c.created_at >= since,
        )
        .limit(1),
    )
    return result.first() is not None


async def purge_finished(*, session: AsyncSession, before: datetime) -> int:
    """Delete rows that will never be sent again (sent, failed, skipped, and blocked check-ins and reminders)
    created before `before`. Not words for a patient who blocked the bot and is still unreachable: they are
    owed again whenever the patient is back (send_again_refused), and go with the patient's record when it is
    erased. A patient discharged meanwhile is not coming back to them: theirs go as any row does."""
    unreachable = select(PATIENTS.c.id).where(PATIENTS.c.status == PatientStatus.UNREACHABLE)
    owed_on_return = (
        (OUTBOX.c.status == OutboxStatus.BLOCKED)
        & OUTBOX.c.kind.in_(TO_A_PATIENT)
        & OUTBOX.c.patient_id.in_(unreachable.scalar_subquery())
    )
    result = await execute(
        session,
        delete(OUTBOX).where(OUTBOX.c.status.not_in(OWED), ~owed_on_return, OUTBOX.c.created_at < before),
    )
    return int(result.rowcount)


async def passed_on_as_urgent(*, session: AsyncSession, patient_message_id: int) -> bool:
    """Whether a patient's message was passed on to staff as urgent words (a crisis message's whole text, a copy of
    a photo whose caption is one), not as an ordinary message later heard as crisis language."""
    found = await execute(
        session,
        select(OUTBOX.c.id)
        .where(OUTBOX.c.patient_message_id == patient_message_id, OUTBOX.c.priority == Priority.URGENT)
        .limit(1),
    )
    return found.first() is not None
