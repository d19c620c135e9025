"""Staff answer patients from Telegram: a Reply button on a patient's message or card, then the staff
member's next message in that chat (or a Telegram reply to the card, the message or the prompt) goes to
the patient as "Your care team: ...". Every reply is audited; staff names reach patients only if the
clinic turns that on. Marking a patient's message seen may tell the patient (a clinic setting).
No Telegram here: the handlers adapt updates to these calls.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.alerts.desk import AlertDesk
from bot.care_team.screening import Screening
from bot.care_team.text_limits import FORMATTING, SPLIT_APART, Entity, in_formatted_parts, units, with_quote
from bot.diary.enrolment import held_until
from bot.prompts import Catalog
from storage import audit, outbox, patient_messages, patients, staff, staff_chat, updates
from storage.database import Database
from storage.models import Patient, PatientMessage
from storage.text import clean

# After pressing Reply, a staff member's next message in that chat goes to the patient for this long.
REPLY_WINDOW = timedelta(minutes=10)


def digest(text: str, entities: Sequence[Entity] = ()) -> str:
    """The SHA-256 of a reply's words and formatting: what tells an edit that changed them (struck out "two" in "Take
    two one tablet") from one that did not, never the words. Of words without formatting, as it was of words alone."""
    kept = text if not entities else text + "\x00" + json.dumps(sorted(json.dumps(e.as_json()) for e in entities))
    return hashlib.sha256(kept.encode("utf-8", "surrogatepass")).hexdigest()


def as_sent(text: str, entities: Sequence[Entity]) -> tuple[str, list[Entity]]:
    """A reply's words as the outbox keeps them (storage/text.py) and the formatting of them the patient gets
    (FORMATTING). A character storage drops (NUL) would leave the formatting on the wrong words: none then."""
    cleaned = clean(text)
    kept = [e for e in entities if e.type in FORMATTING] if units(cleaned) == units(text) else []
    return cleaned, kept


@dataclass(frozen=True)
class Addressee:
    """Whom a staff member's message is for. `patient_id` None: not for a patient. `colleagues`: it replies to the
    bot's prompt or confirmation for a colleague writing to that patient, talk among staff, not sent."""

    patient_id: int | None
    colleagues: bool = False


NOBODY = Addressee(None)


@dataclass(frozen=True)
class EditedReply:
    """A staff member's reply to `patient` that they edited; `changed` False: its words read as the patient got them."""

    patient: Patient
    changed: bool


@dataclass(frozen=True)
class Seen:
    message: PatientMessage
    by: str  # the name of whoever marked it seen first
    now: bool  # this press marked it (False: someone had before)


class Replies:
    def __init__(
        self, database: Database, *, catalog: Catalog, desk: AlertDesk, staff_names: bool, screening: Screening
    ) -> None:
        self.database = database
        self.catalog = catalog
        self.desk = desk
        self.screening = screening
        self.staff_names = staff_names
        # Reply prompts posted whose record failed (the database away): update id -> the prompt's message id.
        self._prompts: dict[int, int] = {}

    async def patient(self, *, patient_id: int) -> Patient | None:
        async with self.database.session() as session:
            return await patients.by_id(session=session, patient_id=patient_id)

    async def patient_wrote(self, *, patient_id: int, words: str, now: datetime, hold: timedelta) -> bool:
        """Whether `words` are the patient's own (a staff member quoting them in a reply), to be shown to them above
        it. While a re-link's hold lasts (held_until) only words written on the account the record is on now: the
        new account may be in the wrong hands, and is shown nothing of the record from before the move."""
        async with self.database.session() as session:
            patient = await patients.by_id(session=session, patient_id=patient_id)
            if patient is None:
                return False
            since = patient.moved_at if held_until(patient, now=now, hold=hold) is not None else None
            return await patient_messages.wrote(session=session, patient_id=patient_id, words=words, since=since)

    async def prompt(
        self,
        *,
        update_id: int,
        chat_id: int,
        staff_user_id: int,
        patient_id: int,
        now: datetime,
        post: Callable[[], Awaitable[int]],
        topic: int | None = None,
    ) -> None:
        """Reply was pressed (in update `update_id`): this staff member's next message here is for the patient,
        and `post` posts the prompt they reply to (returning its message id), which only their reply to it
        is for the patient (in a group Telegram opens everyone's reply field on it). The press is noted
        before the prompt is posted, and the prompt recorded with the press after: a try of the press after
        the record posts nothing (while the database took no writes, each try had posted another), and one
        after a crash before the post posts it (the restart had found the press noted and posted nothing,
        leaving staff in a group no message to reply to). A try after the record failed (the database away)
        records the prompt this process posted rather than post another; a crash between the post and the
        record posts it again, a rare duplicate rather than none. `topic`: the forum topic it was pressed in
        (None: General), where the prompt goes and the reply is written."""
        async with self.database.session() as session:
            if await updates.handled(session=session, update_id=update_id):
                return
            await staff_chat.expect_reply(
                session=session,
                staff_user_id=staff_user_id,
                chat_id=chat_id,
                patient_id=patient_id,
                expires_at=now + REPLY_WINDOW,
                topic=topic,
            )
        prompt_id = self._prompts.get(update_id)
        if prompt_id is None:
            prompt_id = self._prompts[update_id] = await post()
        async with self.database.session() as session:
            await updates.first_time(session=session, update_id=update_id, now=now)
            await staff_chat.remember(
                session=session,
                chat_id=chat_id,
                message_id=prompt_id,
                patient_id=patient_id,
                now=now,
                staff_user_id=staff_user_id,
            )
        self._prompts.pop(update_id, None)

    async def confirmed(
        self, *, chat_id: int, message_id: int, patient_id: int, staff_user_id: int, now: datetime
    ) -> None:
        """The bot told a staff member their reply is on its way to this patient: a follow-up they write as a
        reply to that is for the patient too; a colleague's reply to it is not."""
        async with self.database.session() as session:
            await staff_chat.remember(
                session=session,
                chat_id=chat_id,
                message_id=message_id,
                patient_id=patient_id,
                now=now,
                staff_user_id=staff_user_id,
            )

    async def addressee(
        self,
        *,
        chat_id: int,
        replying_to: int | None,
        staff_user_id: int,
        now: datetime,
        named: int | None = None,
        message_id: int | None = None,
        topic: int | None = None,
    ) -> Addressee:
        """The patient a staff member's message is for: the one the message it replies to is about (else the one
        its Reply button names, `named`: the bot may have stopped before noting what it had sent), else the
        one they pressed Reply for in this chat within the window; none: not for a patient. The Reply
        pressed is used up by `send`, in the transaction that queues the reply: a crash between the two
        leaves it pressed, so the message handled again after the restart still finds its patient. A
        message that cannot be sent (a photo) leaves it pressed for the text that follows.

        `message_id`, the staff member's message itself: queued before a crash (the Reply used up with it), it
        was noted as a reply to its patient (see `send`), and is that reply again when handled after the
        restart, to be confirmed (sent once: `send` knows its update).

        `topic`: the forum topic it was written in (None: General, where the bot posts and a Reply is pressed, its
        prompt opening the reply field there). Another topic is another conversation, which the Reply pressed
        does not take; the rest of a long reply written in a topic goes on there (see `send`)."""
        async with self.database.session() as session:
            if message_id is not None:
                sent = await staff_chat.about(session=session, chat_id=chat_id, message_id=message_id)
                if sent is not None:
                    return Addressee(sent[0])
            pending = await staff_chat.take_pending(
                session=session, staff_user_id=staff_user_id, chat_id=chat_id, now=now, keep=True, topic=topic
            )
            if replying_to is not None:
                about = await staff_chat.about(session=session, chat_id=chat_id, message_id=replying_to)
                if about is not None:
                    patient_id, only_for = about
                    return Addressee(patient_id, colleagues=only_for not in (None, staff_user_id))
                if named is not None:
                    return Addressee(named)
            return Addressee(pending) if pending is not None else NOBODY

    async def send(
        self,
        *,
        patient_id: int,
        staff_user_id: int,
        staff_name: str,
        text: str,
        update_id: int,
        now: datetime,
        source: tuple[int, int] | None = None,
        rest_may_follow: bool = False,
        topic: int | None = None,
        entities: Sequence[Entity] = (),
        quote: str | None = None,
    ) -> Patient | None:
        """Queue the reply to the patient, in parts when long, and audit it; None when the patient's
        record is gone (erased) or they have no chat. A replayed update sends nothing twice. `source`, the
        staff member's message (chat id, message id), is remembered so that an edit of it can be answered.

        `rest_may_follow`: the message is about as long as one may be, the first part of a longer text Telegram's app
        may have sent in parts (text_limits.SPLIT_PART). Only the first part answers the prompt or the patient's
        message: the rest, which comes a moment later answering nothing, is for the patient too, so the Reply is
        kept pressed (in the database, through a restart between the parts) for that moment, in the forum topic the
        message was written in (`topic`), where the rest comes. `entities`: the reply's formatting, which reaches the
        patient with its words ("Take ~~two~~ one tablet"). `quote`: the patient's own words the reply quotes, shown
        above it as the staff member saw them (an edit of the reply is told from its words alone)."""
        text, entities = as_sent(text, entities)  # as the outbox will store it (storage/text.py)
        shown, formatting = with_quote(as_sent(quote, ())[0], text, entities) if quote else (text, list(entities))
        async with self.database.session() as session:
            # The patient kept before a row about them is changed (the Reply pressed), in the order an erasure
            # takes them (storage.patients.keep).
            kept = await patients.keep(session=session, patient_id=patient_id)
            if source is not None:  # the Reply pressed in that chat is used up (see `addressee`)
                await staff_chat.take_pending(session=session, staff_user_id=staff_user_id, chat_id=source[0], now=now)
            patient = await patients.by_id(session=session, patient_id=patient_id) if kept else None
            if patient is None or patient.chat_id is None:
                return None
            if not await updates.first_time(session=session, update_id=update_id, now=now):
                return patient
            noted = source and await staff_chat.digest_of(session=session, chat_id=source[0], message_id=source[1])
            if noted:
                # Sent already, from its edit that Telegram delivered first (handlers/staff_replies.edited): this first
                # version, delivered late, is not what its writer left.
                return patient
            await staff.set_name(session=session, telegram_user_id=staff_user_id, name=staff_name)
            if source is not None:
                chat_id, message_id = source
                await staff_chat.remember(
                    session=session,
                    chat_id=chat_id,
                    message_id=message_id,
                    patient_id=patient_id,
                    now=now,
                    words_digest=digest(text, entities),
                )
                if rest_may_follow:
                    # A part dated SPLIT_APART on is still a part (Telegram dates to the second); the window ends after.
                    until = now + SPLIT_APART + timedelta(seconds=1)
                    await staff_chat.expect_reply(
                        session=session,
                        staff_user_id=staff_user_id,
                        chat_id=chat_id,
                        patient_id=patient_id,
                        expires_at=until,
                        topic=topic,
                    )
            language = patient.language
            named = self.staff_names and staff_name.strip()
            values = {"name": staff_name.strip()[:64]} if named else {}
            suffix = "_named" if named else ""
            header = self.catalog.text(language, f"care_team.reply{suffix}", **values) + " "
            numbered = (
                self.catalog.text(language, f"care_team.reply_part{suffix}", part="{part}", parts="{parts}", **values)
                + " "
            )
            sent = [
                await outbox.enqueue(
                    session=session,
                    kind="patient",
                    chat_id=patient.chat_id,
                    text=part,
                    entities=[entity.as_json() for entity in part_formatting],
                    patient_id=patient.id,
                    now=now,
                )
                for part, part_formatting in in_formatted_parts(shown, formatting, header, numbered)
            ]
            # "Are you safe tonight?": the patient's answer may be the worrying one (bot/care_team/screening.py).
            await self.screening.staff_wrote(
                session, patient_id=patient_id, text=text, now=now, sent=(sent[0], sent[-1])
            )
            await audit.record(
                session=session,
                actor_id=staff_user_id,
                action="reply_to_patient",
                patient_code=patient.code,
                detail=f"{units(text)} characters",
                now=now,
            )
        return patient

    async def about(self, *, chat_id: int, message_id: int) -> int | None:
        """The patient a message in this chat is about (one of the bot's, or a reply sent on), or None."""
        async with self.database.session() as session:
            return await staff_chat.patient_of(session=session, chat_id=chat_id, message_id=message_id)

    async def went_from_its_edit(self, *, chat_id: int, message_id: int, update_id: int) -> bool:
        """Whether a staff member's message reached its patient already, from its edit that Telegram delivered first
        (handlers/staff_replies.edited): the message, delivered late, is not what its writer left. Not the message's
        own update tried again (its reply went, its confirmation may not have)."""
        async with self.database.session() as session:
            if await updates.handled(session=session, update_id=update_id):
                return False
            return await staff_chat.digest_of(session=session, chat_id=chat_id, message_id=message_id) is not None

    async def first_part_of(self, *, chat_id: int, message_id: int, written_at: datetime) -> int | None:
        """The patient a staff member's message in their direct chat with the bot is the first part of a reply to, when
        the rest went there before it: Telegram's app sends a long text in parts a moment apart, and by webhook the
        second may be delivered first (the first's POST failed and was tried again). The rest, answering nothing, took
        the Reply pressed; the first then came with none. It is the first part when the very next message in the chat
        (Telegram numbers a direct chat's messages, the bot's too: a Reply pressed between would have posted its prompt
        there) went to a patient as a reply, written SPLIT_APART after it at most. The rest is dated as handled, never
        later than this server's clock, so by Telegram's date it may look written before this part when Telegram's clock
        is ahead: the message numbers say which came first, the dates only how far apart."""
        async with self.database.session() as session:
            sent = await staff_chat.sent_on(session=session, chat_id=chat_id, message_id=message_id + 1)
        if sent is None:
            return None
        patient_id, rest_at = sent
        return patient_id if rest_at <= written_at + SPLIT_APART else None

    async def written_after_reply(
        self, *, chat_id: int, staff_user_id: int, written_at: datetime, now: datetime, topic: int | None = None
    ) -> bool:
        """Whether a message this staff member wrote at `written_at` (Telegram's date, whole seconds) came after the
        Reply they pressed in this chat, still pressed: the next message there is for its patient, had it come. (Kept
        pressed for the rest of a long reply, the Reply reads as pressed a window before: a message written in the
        minutes before such a reply, edited within its seconds, is taken too.)"""
        async with self.database.session() as session:
            until = await staff_chat.pending_until(
                session=session, staff_user_id=staff_user_id, chat_id=chat_id, now=now, topic=topic
            )
        return until is not None and written_at >= (until - REPLY_WINDOW).replace(microsecond=0)

    async def is_staff(self, telegram_user_id: int) -> bool:
        async with self.database.session() as session:
            return await staff.role(session=session, telegram_user_id=telegram_user_id) is not None

    async def edited_reply(
        self, *, chat_id: int, message_id: int, text: str | None, entities: Sequence[Entity] = ()
    ) -> EditedReply | None:
        """The patient a staff member's edited message went to as a reply, or None. The edit does not reach them.
        `text`: its words now (None: it has none), `entities` their formatting. Telegram sends an edit for a change no
        one made (a link's preview made later, a first reaction): words that read as they were sent, formatted as they
        were, are `changed` False."""
        async with self.database.session() as session:
            noted = await staff_chat.digest_of(session=session, chat_id=chat_id, message_id=message_id)
            patient = await patients.by_id(session=session, patient_id=noted[0]) if noted is not None else None
        if noted is None or patient is None:
            return None
        same = text is not None and noted[1] is not None and digest(*as_sent(text, entities)) == noted[1]
        return EditedReply(patient, changed=not same)

    async def seen(self, *, patient_message_id: int, by: int, name: str, now: datetime) -> Seen | None:
        """Mark a patient's message seen (the patient may be told); None when it no longer exists."""
        async with self.database.session() as session:
            # Its patient kept first, before a row about them is changed, in the order an erasure takes them.
            message = await patient_messages.get(session=session, message_id=patient_message_id)
            if message is None or not await patients.keep(session=session, patient_id=message.patient_id):
                return None
            await staff.set_name(session=session, telegram_user_id=by, name=name)
            marked = await self.desk.message_seen(session, message_id=patient_message_id, by=by, now=now)
            await self.desk.crisis_seen(session, message_id=patient_message_id, by=by, now=now)
            message = await patient_messages.get(session=session, message_id=patient_message_id)
            if message is None:
                return None
            if marked:
                patient = await patients.by_id(session=session, patient_id=message.patient_id)
                await audit.record(
                    session=session,
                    actor_id=by,
                    action="message_seen",
                    patient_code=patient.code if patient else None,
                    detail=f"message {patient_message_id}",
                    now=now,
                )
            who = message.seen_by
            names = await staff.names(session=session, telegram_user_ids=[who] if who is not None else [])
        return Seen(message, names.get(who, "") if who is not None else "", marked)
