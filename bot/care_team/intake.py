"""Everything a patient sends outside the buttons, kept and passed on: no word goes unseen.

Each message is handled in one transaction that first stores it, keyed by the update it came in: a
replayed update finds it stored and changes nothing. Then it is filed:

- a number typed at a question whose scale accepts it is that question's answer;
- any other text while a check-in is asking a question becomes that check-in's note;
- anything else is a message for the care team, passed to the staff chat whole (in parts when long;
  photos, voice notes and the rest are copied there), and the patient is told it was passed on;
- words of suicide or self-harm, wherever they appear (a sentence sent in several messages is read as
  one), get the clinic's crisis text at once and an urgent alert of their own; so does the worrying answer to
  a safety-screening question staff asked ("yes" to "Are you having any thoughts of ending your life?",
  bot/care_team/screening.py).

What the patient is told goes through the outbox in the same transaction, so a crash can neither lose
it nor send it twice. No Telegram here: the handlers adapt updates to these calls.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.alerts.crisis import Asked, CrisisLanguage, normalise, word_runs
from bot.alerts.crisis_texts import CrisisTexts
from bot.alerts.desk import AlertDesk
from bot.care_team.screening import Screening
from bot.care_team.staff_chat import StaffChat
from bot.care_team.text_limits import (
    CAPTION_LIMIT,
    SPLIT_APART,
    SPLIT_PART,
    around,
    in_parts,
    shorten,
    units,
)
from bot.diary.checkins import CheckInState, state_of
from bot.diary.enrolment import has_token, without_tokens
from bot.diary.places import country_of_zone
from bot.diary.questionnaire import Item, Questionnaire, Questionnaires
from bot.prompts import Catalog
from bot.views.checkin import answer_label
from storage import checkins, outbox, patient_messages, patients
from storage.database import Database
from storage.models import CheckIn, Patient, PatientMessage, Priority
from storage.text import clean

log = logging.getLogger(__name__)


def kept(text: str) -> str:
    """A patient's words as stored and passed on: no NUL, no lone surrogates (storage/text.py), and no
    invite link's token (a link pasted into the chat would otherwise reach everyone in the staff chat)."""
    return without_tokens(clean(text))


# How much of a crisis message its card shows; a longer one follows the card in full.
ON_CARD = 600
_NUMBER = re.compile(r"\s*(\d{1,2})\s*[.!]?\s*")


class FiledAs(enum.StrEnum):
    MESSAGE = "message"  # for the care team
    NOTE = "note"  # a check-in's note
    ANSWER = "answer"  # a number typed at a question
    REQUEST = "request"  # "Please contact me"


@dataclass(frozen=True)
class Received:
    """What became of something a patient sent. `filed_as` None: it had taken effect before (a
    replayed update, or an edit that changed no words), and nothing more is to be done."""

    filed_as: FiledAs | None
    crisis: bool = False
    checkin: CheckInState | None = None  # the check-in it went to, as it now stands
    completed: bool = False  # that check-in has just reached its summary: the rules should look
    # A replayed update that had taken effect, whose check-in may not have been followed up (the process died
    # after storing it): what it was filed as; `checkin` and `completed` are then as the check-in now stands.
    replayed: FiledAs | None = None


ALREADY = Received(None)


@dataclass(frozen=True)
class Heard:
    """Words read as crisis language: the patient's (`words`: a message, or it with the messages typed around it)
    and, when they follow up a crisis, the message heard before them (`followed`, shown above them) and where in
    `words` the words that follow it up stand (`focus`: what a card too small for all of them shows)."""

    words: str
    followed: str = ""
    focus: tuple[int, int] | None = None

    @property
    def whole(self) -> str:
        return f"{self.followed}\n{self.words}" if self.followed else self.words


def typed_after(message: PatientMessage, crisis: PatientMessage) -> bool:
    """Whether `message` was written after `crisis`, in the order typed: by webhook a message may be stored after the
    one typed next (its POST tried again), so not by row. By when each was written, and within the second (Telegram
    dates to the second) by number, where both have one; an edit's number is its message's, which says nothing of
    when within that second the edit was made."""
    if message.received_at != crisis.received_at:
        return message.received_at > crisis.received_at
    return (
        message.kind != "edit"
        and message.telegram_message_id is not None
        and crisis.telegram_message_id is not None
        and message.telegram_message_id > crisis.telegram_message_id
    )


@dataclass(frozen=True)
class _Typed:
    """A message typed near another: its words as they now read, whether it was heard as crisis language, its row (as
    first typed)."""

    words: str
    heard: bool
    message: PatientMessage


@dataclass(frozen=True)
class _Near:
    """The messages typed just before and after one, in the order typed (Intake._typed_near)."""

    before: list[_Typed] = field(default_factory=list)
    after: list[_Typed] = field(default_factory=list)

    def before_words(self, keep: Callable[[_Typed], bool] = lambda _: True) -> list[str]:
        return [typed.words for typed in self.before if keep(typed)]

    def after_words(self, keep: Callable[[_Typed], bool] = lambda _: True) -> list[str]:
        return [typed.words for typed in self.after if keep(typed)]


class Author(enum.StrEnum):
    """Whose a message was that a patient forwarded or replied to: staff see which, never a name."""

    SELF = "self"  # the patient's own
    OTHER = "other"  # another person's (or another bot's)
    HIDDEN = "hidden"  # its author hides their account: it may be anyone's, the patient's too
    CHAT = "chat"  # a group's or a channel's
    BOT = "bot"  # the diary's own message (a question, a care team's reply)


@dataclass(frozen=True)
class Origin:
    """Where a message's words stand besides what the patient typed: forwarded from another chat, or a
    reply (Telegram's "Reply", or "Reply in another chat") with what it answers. Staff read "no" alone, or a
    friend's words as the patient's, without it."""

    forwarded: Author | None = None  # forwarded: whose message it was
    reply_to: Author | None = None  # a reply: whose message it answers
    elsewhere: bool = False  # that message is in another chat (its words reach the bot only as quoted)
    quote: str = ""  # the words it answers: what the patient quoted, or (in this chat) the message's own
    what: str | None = None  # (in this chat) the kind of a message answered that has no words: "photo"
    replied_id: int | None = None  # (in this chat) the message answered: a reply to a screening question answers it
    # The topic of the patient's chat it was written in (a bot's private chat in threaded mode has topics): what the
    # patient is told of it goes there, where they are reading, not to the chat's main view. None: no topic.
    topic: int | None = None

    @property
    def brought(self) -> str:
        """Words the patient brought in from another chat by quoting them: part of what they sent, read and kept
        as theirs, as a forward's are. Not a quote of this chat's messages: the diary's words are not the
        patient's, and their own were read when they came."""
        return self.quote if self.elsewhere and self.reply_to is not Author.BOT else ""

    @property
    def own_replied(self) -> int | None:
        """The patient's own message in this chat that these words are a Telegram reply to (its number), or None."""
        return self.replied_id if self.reply_to is Author.SELF and not self.elsewhere else None

    @property
    def read(self) -> bool:
        """Whether the words are read for crisis language: not the diary's own message forwarded back."""
        return self.forwarded is not Author.BOT


TYPED = Origin()
# How much of a message in this chat that a patient's reply answers staff see above it (it is in the
# patient's chat whole: the diary's question, or the patient's own words, read when they came).
REPLIED_SHOWN = 300


def as_sent(words: str, origin: Origin) -> str:
    """The patient's words with the lines they quoted from another chat above them ("> …"), as they are kept."""
    brought = origin.brought
    if not brought:
        return words
    return f"{quoted(brought)}\n{words}" if words else quoted(brought)


_COMMAND = re.compile(r"/\S*\s*")


def command_apart(text: str) -> tuple[str, str]:
    """A command and the words after it ("/callme " and "its too late"), or "" and `text` when it begins with no
    command. The words are read for crisis language as any typed words are, with the messages before and after
    them and the crisis they may follow up: with the command word in front, "/callme its too late" is no longer
    the whole of a message "its too late" is, and "/callme myself" does not end "i want to kill". Words quoted
    from another chat stand in front of a command (as_sent): the whole is then read as it is."""
    command = _COMMAND.match(text)
    return ("", text) if command is None else (command.group(0), text[command.end() :])


def quoted(words: str) -> str:
    """Words shown as quoted, each line begun with ">" (as mail and many chats show a quote in plain text)."""
    return "\n".join(f"> {line}" for line in words.splitlines() or [""])


# What a copy's caption may replace (a poll's or a checklist's words are not a caption).
CAPTIONED = frozenset({"photo", "video", "audio", "document", "voice", "animation"})
# Service messages that hold a patient's words (an answer added to their poll, tasks to their checklist, the name they
# gave a topic of their chat): Telegram copies no service message, so staff read the words.
# What the diary cannot hear: after a crisis, it may be the follow-up ("I took them", spoken). So may a photo or a
# file with no words under it; with words, those are read (and a follow-up in them heard).
SPOKEN = frozenset({"voice", "video_note", "video", "audio"})
UNWORDED = frozenset({"photo", "document", "animation"})
WORDS_ONLY = frozenset({"poll_option_added", "checklist_tasks_added", "forum_topic_created", "forum_topic_edited"})
# Telegram sends an album as one message per photo, sharing a media_group_id, seconds apart: the patient
# is told once that it was passed on. Staff still get each item under the patient's code.
ALBUM_WINDOW = timedelta(minutes=5)
# A message typed without a reply while a check-in waits on its self-harm question answers it when typed this soon
# after the question was shown; later, it may be about anything.
ASKED_LATELY = timedelta(minutes=30)
# A typed message is read for crisis language together with those typed within this while before and after it,
# up to this many each side ("i want" / "to" / "die").
ONE_SENTENCE = timedelta(minutes=3)
SENTENCE_MESSAGES = 5
# A typed message this soon after one heard as crisis language is read for the words that only then are
# ("already took them", "tonight": the crisis patterns' follow_up section).
FOLLOW_UP = timedelta(minutes=30)
FOLLOWED_SHOWN = 200  # characters of the message followed up, shown above the follow-up
# The photos of an album come this close together, at most this many (each is uploaded before the next is sent).
ALBUM_APART = timedelta(seconds=10)
ALBUM_ITEMS = 10
# Telegram tries a webhook update again for hours, not days: an edit older than this is of another message.
LATE_DELIVERY = timedelta(days=1)


def _with_part(note: str, part: str, text: str, *, last: bool = False) -> str | None:
    """The note with its part `part` (a message of it, whole lines: the parts are joined by line breaks)
    put as `text`; None when no part reads so. Not a bare search: "pain" edited in "knee pain", "pain"
    must change the second part, not the end of the first."""
    lines, whole = f"\n{note}\n", f"\n{part}\n"
    head, found, tail = lines.rpartition(whole) if last else lines.partition(whole)
    return f"{head}\n{text}\n{tail}"[1:-1] if found else None


class Intake:
    def __init__(
        self,
        database: Database,
        *,
        questionnaire: Questionnaire,
        catalog: Catalog,
        crisis_language: CrisisLanguage,
        crisis_texts: CrisisTexts,
        desk: AlertDesk,
        staff_chat_id: int | None,
        questionnaires: Questionnaires | None = None,
    ) -> None:
        self.database = database
        self.questionnaire = questionnaire
        self.questionnaires = questionnaires  # the instruments a check-in may be of, for their self-harm questions
        self.catalog = catalog
        self.crisis_language = crisis_language
        self.crisis_texts = crisis_texts
        self.desk = desk
        self.staff_chat = StaffChat(database, configured=staff_chat_id)
        self.screening = Screening(crisis_language)
        self._albums: dict[tuple[int, str], datetime] = {}  # (patient, album): when its first item came
        # (patient, message): the album (None: none) of each photo, file... that came here, and when (_album_told).
        self._items: dict[tuple[int, int], tuple[str | None, datetime]] = {}
        # (patient, album): when a photo of it made an urgent card (its words heard as crisis language, or, sent after
        # words of crisis, it has none to read): one card an album, whichever of its photos made it.
        self._albums_carded: dict[tuple[int, str], datetime] = {}
        # Updates whose crisis text went straight from the error handler (the message could not be stored:
        # the database away): when a later try stores the message, the patient is not sent it again. The
        # inbox keeps each in its update's row once the database takes it, and brings it back at a replay.
        self.crisis_text_sent: set[int] = set()

    def crisis_text(self, patient: Patient) -> str:
        """The clinic's crisis text for this patient's language and country."""
        return self.crisis_texts.text(patient.language, patient.country or country_of_zone(patient.timezone))

    # ------------------------------------------------------------------ what arrives

    async def text(
        self,
        *,
        patient: Patient,
        text: str,
        chat_id: int,
        message_id: int,
        update_id: int,
        now: datetime,
        origin: Origin = TYPED,
    ) -> Received:
        """Typed words, in `chat_id`. `origin`: forwarded, or what they answer (words quoted from another chat are
        kept with them, as sent)."""
        assert patient.id is not None
        text = kept(as_sent(text, origin))
        crisis = origin.read and self.crisis_language.matches(text)
        heard = Heard(text)
        command, words = command_apart(text)
        async with self.database.session() as session:
            await self._on_this_account(session, patient)
            if not crisis and words and origin.forwarded is None:
                # On a phone, Enter often sends: "I just want to" and "die" are one sentence in two messages (a
                # forward is someone's message whole, not the patient typing).
                together = await self._typed_in_context(session, patient.id, message_id, words, now, command, origin)
                if together is not None:
                    crisis, heard = True, together
            late = await self._delivered_late(session, patient, message_id, now)
            # A forward is someone's message whole, for the care team: never the patient's answer or note; nor a reply
            # to what the care team wrote them, nor the rest of one that Telegram's app sent in parts.
            part = (
                None
                if late or origin.forwarded is not None
                else await self._part_before(session, patient.id, message_id, now)
            )
            for_the_care_team = await self._for_the_care_team(session, patient, origin) or (
                part is not None and part.filed_as in (FiledAs.MESSAGE, FiledAs.REQUEST)
            )
            waiting = (
                None
                if late or for_the_care_team
                else await checkins.waiting_for_answer(
                    session=session,
                    patient_id=patient.id,
                    questionnaire=self.questionnaire.id,
                    now=now,
                    chat_id=chat_id,
                )
            )
            answer = self._typed_answer(waiting, text)
            if waiting is not None and answer is None and await self._unstarted(session, waiting):
                # A check-in may wait untouched for hours: words typed meanwhile are for the care team, not the
                # note of a check-in the patient may never answer (staff would read them in the digest at best).
                waiting = None
            if waiting is None and part is not None and not for_the_care_team:
                waiting = await self._note_continued(session, patient.id, part, now)
            filed_as = FiledAs.MESSAGE if waiting is None else FiledAs.ANSWER if answer else FiledAs.NOTE
            # The answer to a safety-screening question staff asked; a note only when it says what it answers. Heard
            # alone as well ("no, not safe tonight"), its card still names the question it answers. A command's words
            # are for the care team even where a check-in waits (gate.py reads them so first), never a note.
            if (filed_as is not FiledAs.ANSWER or command) and words and origin.forwarded is None:
                note = filed_as is FiledAs.NOTE and not command
                answering = await self._answering(session, patient, words, now, origin, note=note, command=command)
                if answering is not None:
                    crisis, heard = True, answering
            stored = await patient_messages.add(
                session=session,
                patient_id=patient.id,
                text=text,
                crisis=crisis,
                update_id=update_id,
                telegram_message_id=message_id,
                # Not read with what the patient types before and after it, as a sentence of theirs.
                kind="forwarded" if origin.forwarded is not None else "text",
                filed_as=filed_as,
                forwarded=origin.forwarded is not None,
                now=now,
            )
            if stored is None:
                return await self._again(session, patient, message_id, now, waiting=waiting)
            state, completed = None, False
            if waiting is not None and answer is not None:
                state = await self._answer(session, patient, waiting, answer, now)
            elif waiting is not None:
                state, completed = await self._note(session, patient, waiting, text, message_id, now)
            if crisis:
                await self._crisis(session, patient, heard, stored, now, update_id, origin)
            elif filed_as is FiledAs.MESSAGE and not late:
                await self._forward(session, patient, self._origin_lines(origin) + text, stored, "staff.message", now)
                await self._tell(session, patient, "message_received", now, kind="received", thread=origin.topic)
        return Received(filed_as, crisis, state, completed)

    async def media(
        self,
        *,
        patient: Patient,
        kind: str,
        caption: str,
        chat_id: int,
        message_id: int,
        update_id: int,
        now: datetime,
        album: str | None = None,
        shown: str = "",
        origin: Origin = TYPED,
        file_unique_id: str | None = None,
    ) -> Received:
        """A photo, voice note, document, sticker, location...: copied to the staff chat under the
        patient's code; its caption is read like any text. `album`: Telegram's media_group_id. `shown`: what
        else a copy would show (a place's name, a contact's card), not read as the patient's words.
        `file_unique_id`: the file it holds, kept so that an edit tells a file replaced from words formatted.

        Delivered after its own edit (by webhook), it is only kept, as typed words are (see `text`): the edit
        copied it to staff as it now is, and its words put right are what a check-in takes.

        A poll, a checklist, a place or a contact that holds an invite link cannot be copied without it (a
        copy's caption is all the bot may replace): staff get its words, the token blanked, instead.

        `origin`: as for text; a copy shows only its caption, so what it was forwarded from or answers is said
        above it."""
        assert patient.id is not None
        recaption = kind in CAPTIONED and has_token(caption)
        as_words = kind not in CAPTIONED and has_token(f"{caption}\n{shown}")
        caption = kept(caption)
        said = kept(as_sent(caption, origin))
        crisis = bool(said) and origin.read and self.crisis_language.matches(said)
        heard = Heard(said)
        async with self.database.session() as session:
            await self._on_this_account(session, patient)
            late = await self._delivered_late(session, patient, message_id, now)
            if said and not crisis and origin.forwarded is None:
                followed = await self._in_context(
                    session, patient.id, message_id, said, now, typed_at=None, replied=origin.own_replied
                )
                if followed is None:
                    followed = await self._answering(session, patient, said, now, origin)
                if followed is not None:
                    crisis, heard = True, followed
            unread_after = None
            unread = kind in SPOKEN or (kind in UNWORDED and not caption)
            if unread and not crisis and not late and origin.forwarded is None:
                unread_after = await patient_messages.crisis_between(
                    session=session, patient_id=patient.id, since=now - FOLLOW_UP, until=now
                )
            stored = await patient_messages.add(
                session=session,
                patient_id=patient.id,
                text=said,
                crisis=crisis,
                update_id=update_id,
                telegram_message_id=message_id,
                kind=kind,
                # A friend's words forwarded are heard, but are no crisis of the patient's to follow up.
                forwarded=origin.forwarded is not None,
                file_unique_id=file_unique_id,
                now=now,
            )
            if stored is None:
                return await self._again(session, patient, message_id, now)
            # "Type it as a message", the note question says; a patient whose hands hurt may speak it, or show it.
            # Sent there, it answers the question (its caption is the note) as it reaches staff: the check-in is
            # complete, and the rules look at it now, not at the daily sweep.
            state, completed = None, False
            for_the_care_team = await self._for_the_care_team(session, patient, origin)
            own = not for_the_care_team and not late
            waiting = (
                await checkins.waiting_for_answer(
                    session=session,
                    patient_id=patient.id,
                    questionnaire=self.questionnaire.id,
                    now=now,
                    chat_id=chat_id,
                )
                if own
                else None
            )
            if waiting is not None and waiting.step == "note":
                state, completed = await self._note(session, patient, waiting, said, message_id, now)
            elif waiting is None and album is not None and own:
                # An album answers the note question as one: the captions of its later photos are the note too.
                continued = await self._album_note_continued(session, patient.id, message_id, now)
                if continued is not None:
                    state, _ = await self._note(session, patient, continued, said, message_id, now)
            # Late, it is not shown again: staff have it as it now is, copied when its edit came.
            if kind in WORDS_ONLY and not late:
                words = self._origin_lines(origin) + said
                await self._forward(session, patient, words, stored, "staff.sent_words", now, what=self._what(kind))
            elif as_words and not late:
                words = self._origin_lines(origin) + "\n".join(part for part in (said, kept(shown)) if part)
                what = self._what(kind)
                await self._forward(session, patient, words, stored, "staff.sent_as_words", now, what=what)
            elif not late:
                await self._copy_to_staff(
                    session,
                    patient,
                    "staff.sent_media",
                    kind,
                    (chat_id, message_id),
                    caption,
                    stored,
                    now,
                    crisis=crisis,
                    recaption=recaption,
                    origin=origin,
                )
            # Late: the patient was told of its edit.
            told = late or await self._album_told(session, patient.id, album, message_id, now)
            if crisis:
                await self._crisis(session, patient, heard, stored, now, update_id, origin)
            elif not told:
                await self._tell(session, patient, "media_received", now, kind="received", thread=origin.topic)
            # An album's photos: one card (an earlier photo's words heard as crisis language made it, or this is the
            # first without words to read: the first photo may have words under it).
            carded = album is not None and (patient.id, album) in self._albums_carded
            if unread_after is not None and not carded:
                await self._unread_after_crisis(session, patient, kind, said, unread_after, stored, now)
        if album is not None and not told:  # once stored: an item that failed is told when it comes again
            self._albums[patient.id, album] = now
        if album is not None and (crisis or unread_after is not None) and not carded:
            self._albums_carded[patient.id, album] = now
        self._items[patient.id, message_id] = (album, now)
        return Received(FiledAs.MESSAGE, crisis, state, completed)

    async def _again(
        self, session: AsyncSession, patient: Patient, message_id: int, now: datetime, *, waiting: CheckIn | None = None
    ) -> Received:
        """A replayed update whose message was stored before: nothing changes. The process may have died before
        what follows words that went to a check-in (the check-in shown anew, the patient told that the note or
        the answer is saved, the rules and a questionnaire due after a finished check-in): what they were filed
        as, with their check-in as it now stands, for the caller to see to it again. `waiting`: the check-in
        waiting for an answer now (the one a typed answer went to, moved on since)."""
        assert patient.id is not None
        first = await patient_messages.original(session=session, patient_id=patient.id, telegram_message_id=message_id)
        if first is None or first.crisis:  # a crisis message's reply went with it, through the outbox
            return ALREADY
        filed_as = FiledAs(first.filed_as)
        checkin = await checkins.with_note_from(session=session, patient_id=patient.id, message_id=message_id, now=now)
        if checkin is None and filed_as is FiledAs.ANSWER:
            checkin = waiting
        if checkin is None or checkin.id is None:
            return ALREADY
        answers = await checkins.answers(session=session, checkin_id=checkin.id)
        state = state_of(checkin, answers, patient.timezone, self.questionnaire)
        finished = checkin.step is None and checkin.questionnaire == self.questionnaire.id
        return Received(None, checkin=state, completed=finished, replayed=filed_as)

    async def _delivered_late(self, session: AsyncSession, patient: Patient, message_id: int, now: datetime) -> bool:
        """Whether this message comes after its own edit: by webhook Telegram may deliver a message late (its first
        POST failed, tried again within the day). The patient's correction is then what staff and the check-in have,
        and this older version is only kept. An edit from before this account was linked (a re-link) is of another
        account's message, which Telegram numbered as it numbers this account's."""
        assert patient.id is not None
        linked = patient.consented_at
        since = max(now - LATE_DELIVERY, linked) if linked is not None else now - LATE_DELIVERY
        return await patient_messages.edited_since(
            session=session, patient_id=patient.id, telegram_message_id=message_id, since=since
        )

    @staticmethod
    async def _for_the_care_team(session: AsyncSession, patient: Patient, origin: Origin) -> bool:
        """Whether a message is the care team's whatever check-in waits: a forward (someone's message whole), or a
        Telegram reply to words the diary delivered for them (a staff reply, the crisis text, "your care team will
        see it"). "2" in reply to "How many tablets did you take?" answers the nurse, not the pain question, and
        their answer must reach the staff chat, not a note they may never read."""
        if origin.forwarded is not None:
            return True
        if origin.reply_to is not Author.BOT or origin.replied_id is None:
            return False
        if patient.id is None or patient.chat_id is None:
            return False
        return await outbox.delivered_words(
            session=session, patient_id=patient.id, chat_id=patient.chat_id, message_id=origin.replied_id
        )

    @staticmethod
    async def _part_before(
        session: AsyncSession, patient_id: int, message_id: int, now: datetime
    ) -> PatientMessage | None:
        """The message this text goes on with, or None. Telegram's app sends a text longer than a message may be as
        several, a moment apart, and only the first carries what it replies to: the rest goes where the first went
        (a note, or a message for the care team). Only right after a part nearly as long as a message may be (the
        app cuts where it can, at a line or a word): a message typed after a note is a message."""
        recent = await patient_messages.typed_between(
            session=session, patient_id=patient_id, since=now - SPLIT_APART, until=now, limit=SENTENCE_MESSAGES
        )
        before = [m for m in recent if m.telegram_message_id is not None and m.telegram_message_id < message_id]
        part = max(before, key=lambda m: m.telegram_message_id or 0, default=None)
        if part is None or part.telegram_message_id is None or units(part.text) < SPLIT_PART:
            return None
        return part

    @staticmethod
    async def _note_continued(
        session: AsyncSession, patient_id: int, part: PatientMessage, now: datetime
    ) -> CheckIn | None:
        """The check-in whose note this text goes on with (`part`, the one before it: _part_before), or None. The first
        part, typed at the note question, answered it and finished the check-in, and the rest are that note too, not
        messages of their own (staff would get half a sentence, and the note, on the card and in the diary, would
        stop in the middle); never after one heard as crisis language."""
        # After a part heard as crisis language, the rest is a message of its own, that staff read now: a note is
        # read at the card, the diary or the digest, and a card shows what it has room for.
        if part.filed_as != FiledAs.NOTE or part.crisis or part.telegram_message_id is None:
            return None
        return await checkins.with_note_from(
            session=session, patient_id=patient_id, message_id=part.telegram_message_id, now=now
        )

    async def _album_note_continued(
        self, session: AsyncSession, patient_id: int, message_id: int, now: datetime
    ) -> CheckIn | None:
        """The check-in whose note this photo of an album goes on with, or None. Telegram delivers an album (photos,
        videos, files sent at once) as a message for each, numbered one after another: the first, sent at the note
        question, answered it and finished the check-in, and the words under the others are that note too. Only
        right after the album's photo before it (not one heard as crisis language: the rest reaches staff as it is):
        one sent on its own after a note is a message."""
        before = await patient_messages.original(
            session=session, patient_id=patient_id, telegram_message_id=message_id - 1
        )
        if before is None or before.kind not in CAPTIONED or before.crisis or now - before.received_at > ALBUM_APART:
            return None
        return await checkins.with_note_from(session=session, patient_id=patient_id, message_id=message_id - 1, now=now)

    async def _album_noted(
        self, session: AsyncSession, patient_id: int, message_id: int, caption: str, now: datetime
    ) -> CheckIn | None:
        """The check-in whose note this photo's caption (`caption`, as it read before an edit) is a part of, when the
        photo is an earlier one of an album that answered the note question (_album_note_continued): the note is the
        last photo's, a few messages on, and the check-in was finished by the album's first, just before."""
        first = await patient_messages.original(session=session, patient_id=patient_id, telegram_message_id=message_id)
        if first is None or first.kind not in CAPTIONED or first.forwarded:
            return None
        checkin = await checkins.open_since(session=session, patient_id=patient_id, at=first.received_at, now=now)
        if checkin is None or checkin.id is None or checkin.note_message_id is None or checkin.completed_at is None:
            return None
        if not 0 < checkin.note_message_id - message_id < ALBUM_ITEMS:
            return None
        if not first.received_at - ALBUM_APART <= checkin.completed_at <= first.received_at:
            return None
        note = (await checkins.answers(session=session, checkin_id=checkin.id)).get("note", "")
        return checkin if _with_part(note, caption, caption) is not None else None

    async def _album_told(
        self, session: AsyncSession, patient_id: int, album: str | None, message_id: int, now: datetime
    ) -> bool:
        """Whether the patient was told about an earlier item of this album (within a while), as this process
        remembers. The process that handled the album's first item may have stopped before the rest came (the
        patient was thanked again, and an album after words of crisis made a second card): an item that came before
        this process did, one message before this one and a moment before, a photo or a file, is taken for the
        album's (Telegram numbers an album's items one after another)."""
        self._albums = {key: at for key, at in self._albums.items() if now - at < ALBUM_WINDOW}
        self._items = {key: seen for key, seen in self._items.items() if now - seen[1] < ALBUM_WINDOW}
        self._albums_carded = {key: at for key, at in self._albums_carded.items() if now - at < ALBUM_WINDOW}
        if album is None or (patient_id, album) in self._albums:
            return album is not None
        seen = self._items.get((patient_id, message_id - 1))
        if seen is not None:  # seen here: of this album (its first told by the process before), of none, or another
            return seen[0] == album
        before = await patient_messages.original(
            session=session, patient_id=patient_id, telegram_message_id=message_id - 1
        )
        return before is not None and before.kind in CAPTIONED and now - before.received_at <= ALBUM_APART

    async def edit(
        self,
        *,
        patient: Patient,
        text: str,
        message_id: int,
        update_id: int,
        now: datetime,
        media: tuple[str, int] | None = None,
        origin: Origin = TYPED,
        file_unique_id: str | None = None,
    ) -> Received:
        """The patient edited a message: a note of a check-in still open is changed; anything else reaches
        staff as an edit. Both versions are kept. `media`: the kind and chat of a photo, video, document...
        whose edit may have replaced the file (`file_unique_id`: the file it now holds), copied to staff again
        as it now is. `origin`: as for text (an edited reply is still a reply)."""
        assert patient.id is not None
        recaption = has_token(text)
        caption = kept(text)
        text = kept(as_sent(text, origin))
        crisis = origin.read and self.crisis_language.matches(text)
        heard = Heard(text)
        command, words = command_apart(text)
        async with self.database.session() as session:
            stored_before = await patient_messages.from_update(session=session, update_id=update_id)
            if stored_before is not None:
                return await self._edited_again(session, patient, stored_before, message_id, now)
            latest = await patient_messages.latest(
                session=session, patient_id=patient.id, telegram_message_id=message_id
            )
            before = latest.text if latest is not None else None
            unchanged = before == text or (
                bool(command) and before == words.strip() and await self._asked(session, patient, message_id)
            )
            # A file is known to be the same only when it was kept (not for a message stored before it was).
            same_file = media is None or (
                latest is not None and latest.file_unique_id is not None and latest.file_unique_id == file_unique_id
            )
            if unchanged and same_file:
                # Telegram may send an edit for a change no one can see (a link's preview made later, the words
                # under a photo only formatted): the words were heard and passed on when they came; a second time
                # would only repeat them (words of crisis, as a second crisis). A /callme was kept as the words
                # after it.
                return ALREADY
            if self._outdated(latest, now, update_id):
                return await self._outdated_edit(
                    session, patient, text, message_id, update_id, now, crisis, heard, origin, file_unique_id
                )
            first = None
            if media is None:
                first = await patient_messages.original(
                    session=session, patient_id=patient.id, telegram_message_id=message_id
                )
            if not crisis and words and origin.forwarded is None:
                together = await self._edit_in_context(
                    session, patient.id, message_id, words, now, first, command, origin.own_replied
                )
                if together is not None:
                    crisis, heard = True, together
            noted = await checkins.with_note_from(
                session=session, patient_id=patient.id, message_id=message_id, now=now
            )
            last_part = noted is not None
            if noted is None and media is not None and before:
                noted = await self._album_noted(session, patient.id, message_id, before, now)
            if noted is None and first is not None and first.filed_as == FiledAs.NOTE and before:
                # An earlier message of a note typed in several ("I took 2 tablets", "and slept badly"): the note is
                # the patient's record, and it must say what they now wrote, as for its last message.
                earlier = await checkins.open_since(
                    session=session, patient_id=patient.id, at=first.received_at, now=now
                )
                note = (
                    (await checkins.answers(session=session, checkin_id=earlier.id)).get("note", "")
                    if earlier and earlier.id
                    else ""
                )
                noted = earlier if _with_part(note, before, before) is not None else None
            corrected = None
            if noted is None and not crisis and first is not None:
                corrected = await self._corrected_answer(session, first, text, now)
            unfiled = noted is None and corrected is None and first is not None
            if unfiled and not crisis and words and origin.forwarded is None:
                answering = await self._answering(session, patient, words, now, origin, first=first, command=command)
                if answering is not None:
                    crisis, heard = True, answering
            stored = await patient_messages.add(
                session=session,
                patient_id=patient.id,
                text=text,
                crisis=crisis,
                update_id=update_id,
                telegram_message_id=message_id,
                kind="edit",
                filed_as=FiledAs.ANSWER if corrected else FiledAs.NOTE if noted else FiledAs.MESSAGE,
                forwarded=origin.forwarded is not None,
                file_unique_id=file_unique_id,
                now=now,
            )
            if stored is None:
                return ALREADY
            if corrected is not None:
                checkin, item_id, value = corrected
                assert checkin.id is not None
                await checkins.upsert_answer(session=session, checkin_id=checkin.id, item=item_id, value=value, now=now)
                answers = await checkins.answers(session=session, checkin_id=checkin.id)
                return Received(
                    FiledAs.ANSWER, checkin=state_of(checkin, answers, patient.timezone, self.questionnaire)
                )
            state = None
            if noted is not None and noted.id is not None:
                note = (await checkins.answers(session=session, checkin_id=noted.id)).get("note", "")
                # The note's last part is the note's message (a later one would have become it): the last of its
                # parts that reads so, not the first ("pain", "no pain", then "pain" edited); an earlier part's,
                # the first.
                if before:
                    changed = _with_part(note, before, text, last=last_part) or text
                else:  # words given to a message that had none (a voice message's caption): added to the note
                    changed = "\n".join(part for part in (note, text) if part)
                await checkins.upsert_answer(session=session, checkin_id=noted.id, item="note", value=changed, now=now)
                answers = await checkins.answers(session=session, checkin_id=noted.id)
                state = state_of(noted, answers, patient.timezone, self.questionnaire)
            if media is not None:
                kind, chat_id = media
                await self._copy_to_staff(
                    session,
                    patient,
                    "staff.edited_media",
                    kind,
                    (chat_id, message_id),
                    caption,
                    stored,
                    now,
                    crisis=crisis,
                    recaption=recaption,
                    origin=origin,
                )
            if crisis:
                await self._crisis(session, patient, heard, stored, now, update_id, origin)
            elif noted is None:
                if media is None:
                    lines = self._origin_lines(origin)
                    await self._forward(session, patient, lines + text, stored, "staff.edited", now)
                await self._tell(session, patient, "edit_received", now, thread=origin.topic)
            elif media is None and state is not None and state.step is None:
                # The check-in is finished: the rules have looked at it, and its card may show the note as it was.
                # Words typed now would reach staff at once; so does the note put right, whole, as it now reads (a
                # photo or a file put right is copied to staff above, its words with it).
                note = state.answers.get("note", text)
                await self._forward(session, patient, note, stored, "staff.note_edited", now)
        return Received(FiledAs.NOTE if noted else FiledAs.MESSAGE, crisis, state)

    @staticmethod
    def _outdated(latest: PatientMessage | None, now: datetime, update_id: int) -> bool:
        """Whether an edit was overtaken by a newer edit of the message stored before it: by webhook Telegram may
        deliver an edit after a newer one (its POST failed and was tried again). Newer by when each was made, and
        within the second (Telegram dates to the second) by the update's number, which Telegram counts up."""
        if latest is None or latest.kind != "edit":
            return False
        return (latest.received_at, latest.update_id or 0) > (now, update_id)

    async def _outdated_edit(
        self,
        session: AsyncSession,
        patient: Patient,
        text: str,
        message_id: int,
        update_id: int,
        now: datetime,
        crisis: bool,
        heard: Heard,
        origin: Origin,
        file_unique_id: str | None,
    ) -> Received:
        """An edit overtaken by a newer one (_outdated): the newer words are what staff, the note and an answer have,
        and the patient was told of them. This one is kept, and words of crisis in it are heard all the same (they
        were written); it is not shown to staff as the message's words, put in a note, or acknowledged."""
        assert patient.id is not None
        stored = await patient_messages.add(
            session=session,
            patient_id=patient.id,
            text=text,
            crisis=crisis,
            update_id=update_id,
            telegram_message_id=message_id,
            kind="edit",
            filed_as=FiledAs.MESSAGE,
            forwarded=origin.forwarded is not None,
            file_unique_id=file_unique_id,
            now=now,
        )
        if stored is None or not crisis:
            return ALREADY
        await self._crisis(session, patient, heard, stored, now, update_id, origin)
        return Received(FiledAs.MESSAGE, crisis)

    async def _typed_in_context(
        self,
        session: AsyncSession,
        patient_id: int,
        message_id: int,
        words: str,
        now: datetime,
        command: str,
        origin: Origin,
    ) -> Heard | None:
        """A new typed message's words (after its command, if any) read with what is around them (_in_context)."""
        replied = origin.own_replied
        return await self._in_context(
            session, patient_id, message_id, words, now, typed_at=now, command=command, replied=replied
        )

    async def _edit_in_context(
        self,
        session: AsyncSession,
        patient_id: int,
        message_id: int,
        text: str,
        now: datetime,
        first: PatientMessage | None,
        command: str = "",
        replied: int | None = None,
    ) -> Heard | None:
        """An edit's words read with what is around them (_in_context). "I just want to" and "dine", put right to
        "die": read with the messages typed just before, as the message itself was when it came; "I want to kiss" put
        right before "myself", with those after. A caption is read alone. Words that follow up a crisis are news when
        the edit is made: an old message, or a photo's caption, edited into "already took them" just after "I want
        to overdose". `first`: the message's first version, when it is stored; `replied`: as for _in_context."""
        typed_at = first.received_at if first is not None and first.kind in patient_messages.TYPED_KINDS else None
        return await self._in_context(
            session, patient_id, message_id, text, now, typed_at=typed_at, first=first, command=command, replied=replied
        )

    async def heard(
        self, *, patient: Patient, text: str, message_id: int, now: datetime, origin: Origin = TYPED, edit: bool = False
    ) -> bool:
        """Whether `text` (a message, or with `edit` an edit of one) is heard as crisis language as `text` and `edit`
        hear it: alone, or its words after the command with the messages typed around them, as words that follow up
        a crisis, or as the worrying answer to a safety-screening question. For the words of a command
        (bot/handlers/gate.py): "/callme i already took them" just after "I want to overdose" is that, and must reach
        staff as a crisis, not be taken for the command's words. Nothing is recorded: `text` or `edit` hears them
        again, and takes the screening question for answered."""
        assert patient.id is not None
        whole = kept(as_sent(text, origin))
        if self.crisis_language.matches(whole):
            return True
        command, words = command_apart(whole)
        if not words or not origin.read or origin.forwarded is not None:
            return False  # a command alone ("/history") is no one's sentence: nothing to look up
        async with self.database.session() as session:
            first = None
            if edit:
                first = await patient_messages.original(
                    session=session, patient_id=patient.id, telegram_message_id=message_id
                )
                together = await self._edit_in_context(
                    session, patient.id, message_id, words, now, first, command, origin.own_replied
                )
            else:
                together = await self._typed_in_context(session, patient.id, message_id, words, now, command, origin)
            if together is not None:
                return True
            if edit and first is None:
                return False
            answering = await self._answering(
                session, patient, words, now, origin, first=first, command=command, record=False
            )
            return answering is not None

    async def _edited_again(
        self, session: AsyncSession, patient: Patient, stored: PatientMessage, message_id: int, now: datetime
    ) -> Received:
        """A replayed edit that had taken effect: nothing changes. The process may have died before what follows
        an edit that changed a check-in's note or answer (the check-in shown anew, the patient told): what it was
        filed as, with its check-in as it now stands, for the caller to see to it again (as _again does for a
        new message). An edit for the care team or heard as crisis language was followed up through the outbox."""
        assert patient.id is not None
        filed_as = FiledAs(stored.filed_as)
        if stored.patient_id != patient.id or stored.crisis or filed_as is FiledAs.MESSAGE:
            return ALREADY
        checkin: CheckIn | None = None
        if filed_as is FiledAs.ANSWER:
            # A corrected answer is stored at the instant its edit came (unless changed again since).
            found = await checkins.answer_given_at(
                session=session, patient_id=patient.id, at=stored.received_at, now=now
            )
            checkin = found[0] if found is not None else None
        else:
            checkin = await checkins.with_note_from(
                session=session, patient_id=patient.id, message_id=message_id, now=now
            )
        if checkin is None and filed_as is FiledAs.NOTE:  # an earlier message of a note typed in several
            first = await patient_messages.original(
                session=session, patient_id=patient.id, telegram_message_id=message_id
            )
            if first is not None:
                checkin = await checkins.open_since(
                    session=session, patient_id=patient.id, at=first.received_at, now=now
                )
        if checkin is None or checkin.id is None:
            return ALREADY
        answers = await checkins.answers(session=session, checkin_id=checkin.id)
        return Received(
            None, checkin=state_of(checkin, answers, patient.timezone, self.questionnaire), replayed=filed_as
        )

    async def _answering(
        self,
        session: AsyncSession,
        patient: Patient,
        text: str,
        now: datetime,
        origin: Origin,
        *,
        first: PatientMessage | None = None,
        note: bool = False,
        command: str = "",
        record: bool = True,
    ) -> Heard | None:
        """The words as the worrying answer to a safety-screening question staff asked ("yes. again last night" after
        "Are you having any thoughts of ending your life?"), shown under the question; or None. `first`: an edit's
        first version; `note`: words filed as a check-in's note; `command`: the command they followed, shown with
        them; `record` False: only asked, the question not taken for answered (bot/care_team/screening.py)."""
        assert patient.id is not None
        replying_to = None
        if origin.reply_to is Author.BOT and origin.replied_id is not None and patient.chat_id is not None:
            replying_to = (patient.chat_id, origin.replied_id)
        question = await self.screening.answer(
            session,
            patient_id=patient.id,
            text=text,
            now=now,
            first=first,
            note=note,
            replying_to=replying_to,
            record=record,
        )
        if question is not None:
            return Heard(command + text, followed=self._staff_text("staff.screening_answer", question=question))
        asked = await self._self_harm_asked(session, patient, origin, now)
        if asked is None:
            return None
        # Any answer but "Not at all" to the item, pressed, is a crisis: typed to it, the same answer as its button
        # reads ("Nearly every day", "3"), a yes (or "I don't know") is too. A note's words may answer its "Anything
        # else?": only those that say in words what they answer.
        questionnaire, question = asked
        yes_worries = Asked(yes_worries=True, no_worries=False)
        typed_option = not note and self._crisis_option_typed(patient, questionnaire, text)
        if not typed_option and self.crisis_language.screening_answer(text, yes_worries, explicit=note) is None:
            return None
        return Heard(command + text, followed=self._staff_text("staff.questionnaire_answer", question=question))

    def _crisis_option_typed(self, patient: Patient, questionnaire: Questionnaire, text: str) -> bool:
        """Whether `text` is a crisis answer of the questionnaire's self-harm item typed for its button: its label
        as the patient's buttons read it ("Nearly every day", "casi todos los días") or its number ("3")."""
        crisis = questionnaire.crisis_item
        item = questionnaire.item(crisis.item) if crisis is not None else None
        if item is None:
            return False
        said = normalise(text)
        language = self.catalog.language_for(patient.language)
        return any(
            said in (code, normalise(answer_label(self.catalog, language, item, code)))
            for code in item.options
            if questionnaire.is_crisis_answer(item.id, code)
        )

    async def _self_harm_asked(
        self, session: AsyncSession, patient: Patient, origin: Origin, now: datetime
    ) -> tuple[Questionnaire, str] | None:
        """The questionnaire whose self-harm question (the PHQ-9's "thoughts that you would be better off dead") the
        words answer, with that question as staff read it; or None. They answer it as a Telegram reply to the check-in's
        message while it shows that question, or typed without a reply while the check-in waits on it, within
        ASKED_LATELY of its showing (the answer before it): "yes" typed at the question on the screen, not a message
        hours later."""
        if self.questionnaires is None or patient.id is None or patient.chat_id is None or origin.forwarded:
            return None
        if origin.reply_to is Author.BOT and origin.replied_id is not None:
            checkin = await checkins.shown_in(
                session=session, patient_id=patient.id, chat_id=patient.chat_id, message_id=origin.replied_id
            )
        elif origin.reply_to is None:
            checkin = await self._waiting_on_self_harm(session, patient.id, patient.chat_id, now)
        else:
            return None
        if checkin is None or checkin.questionnaire not in self.questionnaires:
            return None
        crisis_item = self.questionnaires[checkin.questionnaire].crisis_item
        if crisis_item is None or checkin.step != crisis_item.item:
            return None
        return self.questionnaires[checkin.questionnaire], self._staff_text(f"items.{crisis_item.item}.question")

    async def _waiting_on_self_harm(
        self, session: AsyncSession, patient_id: int, chat_id: int, now: datetime
    ) -> CheckIn | None:
        """The patient's open check-in that has shown its self-harm question within ASKED_LATELY and waits on it."""
        assert self.questionnaires is not None
        for questionnaire in self.questionnaires.values():
            if questionnaire.crisis_item is None:
                continue
            checkin = await checkins.waiting_for_answer(
                session=session, patient_id=patient_id, questionnaire=questionnaire.id, now=now, chat_id=chat_id
            )
            if checkin is None or checkin.id is None or checkin.step != questionnaire.crisis_item.item:
                continue
            shown = await checkins.last_answered_at(session=session, checkin_id=checkin.id) or checkin.started_at
            if now - shown <= ASKED_LATELY:
                return checkin
        return None

    async def _in_context(
        self,
        session: AsyncSession,
        patient_id: int,
        message_id: int,
        text: str,
        now: datetime,
        *,
        typed_at: datetime | None,
        first: PatientMessage | None = None,
        command: str = "",
        replied: int | None = None,
    ) -> Heard | None:
        """What `text` reads as crisis language with the messages typed around it (_in_sentence), or as words that
        follow up one heard as crisis language (_following), or None. `typed_at`: when the message was typed (None:
        a caption, read alone); `now`: when it came or was edited; `first`: an edit's first version; `command`: the
        command `text` was typed after (command_apart), not read, but shown in front of it; `replied`: the number of
        the patient's own message the words are a Telegram reply to."""
        near = _Near() if typed_at is None else await self._typed_near(session, patient_id, message_id, typed_at)
        if self._in_sentence(text, near) is not None:
            return Heard("\n".join([*near.before_words(), command + text, *near.after_words()]))
        return await self._following(session, patient_id, text, now, near, first, command, replied)

    async def _following(
        self,
        session: AsyncSession,
        patient_id: int,
        text: str,
        now: datetime,
        near: _Near,
        first: PatientMessage | None,
        command: str = "",
        replied: int | None = None,
    ) -> Heard | None:
        """`text` (with the messages typed next to it) under the last message heard as crisis language within
        FOLLOW_UP before `now` (typed, a caption, an edit, a questionnaire's crisis answer), when it follows that up
        ("already took them", or "already" and "took them"): a crisis message of its own, with its own card and
        escalation, even when staff acknowledged the first one. _in_sentence does not read across such a message,
        whose words alone were heard: these words are news only after it. Counted from `now`: an edit is news when
        it is made; and from when the edited message first came (`first`), as it was news then. A Telegram reply to the
        patient's own message heard as crisis language (`replied`, its number) follows that one up, however late: "done"
        at eleven, answering "I am going to take all my pills tonight" written at six, says what it follows up."""
        # The words first, with every message next to it: most messages follow nothing up, and need no look for a
        # crisis before them. Those read below, once the crisis is known, are some of these.
        every_before, every_after = near.before_words(), near.after_words()
        focus = self._follow_up_in(text, every_before, every_after)
        if focus is None:
            return None
        heard = None
        if replied is not None:
            heard = await patient_messages.heard_as_crisis(
                session=session, patient_id=patient_id, telegram_message_id=replied
            )
        if heard is None:
            heard = await patient_messages.crisis_between(
                session=session, patient_id=patient_id, since=now - FOLLOW_UP, until=now
            )
        if heard is None and first is not None:
            heard = await patient_messages.crisis_between(
                session=session, patient_id=patient_id, since=first.received_at - FOLLOW_UP, until=first.received_at
            )
        if heard is None:
            return None
        # Not read across the message followed up: only with the messages typed on the same side of it as this one
        # (an edit's, as its first version was).
        # In the order typed, not stored: by webhook the crisis may be stored after what was typed next.
        followed = heard
        after_heard = first is None or typed_after(first, followed)
        before = near.before_words(lambda typed: typed_after(typed.message, followed) == after_heard)
        after = near.after_words(lambda typed: typed_after(typed.message, followed) == after_heard)
        if (before, after) != (every_before, every_after):
            focus = self._follow_up_in(text, before, after)
            if focus is None:
                return None
        # The message followed up, cut to its end (where it led to these words), above them on the card.
        earlier = heard.text if len(heard.text) <= FOLLOWED_SHOWN else "…" + heard.text[-FOLLOWED_SHOWN:]
        # A command shown in front of `text` moves on what lies after where `text` begins.
        begins = sum(len(words) + 1 for words in before)
        start, end = focus
        focus = (start + len(command) if start >= begins else start, end + len(command) if end > begins else end)
        return Heard("\n".join([*before, command + text, *after]), followed=earlier, focus=focus)

    def _follow_up_in(self, text: str, before: list[str], after: list[str]) -> tuple[int, int] | None:
        """Where the words that follow up a crisis stand in `before`, `text` and `after` joined by line breaks: in
        `text` alone, or across where it meets a message typed next to it (a text Telegram split, "already" sent
        before "took them", "its" before "tonight"); None when nowhere. Never in the others alone: an old message
        edited just after a crisis does not make its neighbour's "look after the dog while I'm at the infusion" news.
        A follow-up is a few words: only those near where the messages meet are read with them (follow_up_reach), so
        a long text Telegram split costs about what one part does. Where a finding's words cannot be lined up with
        the text as written (a "½"), it is not known to cross there: `text` alone then decides."""
        language = self.crisis_language
        begins = sum(len(words) + 1 for words in before)  # where `text` stands in them all
        ends = begins + len(text)
        found = language.follow_up_finding(text)
        if found is not None:
            first, last = language.span(text, found) or (0, len(text))
            return begins + first, begins + last
        if not language.follow_up:
            return None
        kept = 2 * language.follow_up_reach  # runs of non-spaces that hold at least so many words (word_runs)
        # Where a reading may begin: at the start of each message before `text` near enough, else where its words
        # stop being near; and where it may end, alike after.
        starts, left = [begins], kept
        for words in reversed(before):
            at, runs = starts[-1] - 1 - len(words), word_runs(words)
            if len(runs) >= left:
                starts.append(at + runs[-left][0])
                break
            starts.append(at)
            left -= len(runs)
        stops, left = [ends], kept
        for words in after:
            at, runs = stops[-1] + 1, word_runs(words)
            if len(runs) >= left:
                stops.append(at + runs[left - 1][1])
                break
            stops.append(at + len(words))
            left -= len(runs)
        # A long `text`: its first words are read with the messages before it, its last with those after.
        runs = word_runs(text)
        long = len(runs) > 2 * kept
        head = begins + runs[kept - 1][1] if long else ends
        tail = begins + runs[-kept][0] if long else begins
        whole = "\n".join([*before, text, *after])
        for start in starts:
            for stop in stops:
                if (start, stop) == (begins, ends) or (long and start < begins and stop > ends):
                    continue
                run_start, run_stop = (start if start < begins else tail), (stop if stop > ends else head)
                run = whole[run_start:run_stop]
                found = language.follow_up_finding(run)
                where = language.span(run, found) if found is not None else None
                if where is None:
                    continue
                first, last = run_start + where[0], run_start + where[1]
                if first < begins < last or first < ends < last:
                    return first, last
        return None

    def _in_sentence(self, text: str, near: _Near) -> str | None:
        """`text` read with the messages typed just before and after it, when together they are crisis language:
        "i want", "to", "die"."""
        if not near.before and not near.after:
            return None
        together = "\n".join([*near.before_words(), text, *near.after_words()])
        # By the patterns alone: the learned model weighs a message as it was sent, and would weigh a sentence
        # half-typed, or put right since ("want to", "dine" for "die"), as the patient did not mean it.
        return together if self.crisis_language.matches(together, learned=False) else None

    async def _typed_near(self, session: AsyncSession, patient_id: int, message_id: int, at: datetime) -> _Near:
        """The messages typed just before and after the message `message_id`, typed `at` (within ONE_SENTENCE, each as
        it now reads, in the order typed). Not one that was itself crisis language, nor any across it: its words were
        heard and its card shows them."""
        near = await patient_messages.typed_between(
            session=session, patient_id=patient_id, since=at - ONE_SENTENCE, until=at + ONE_SENTENCE, limit=20
        )
        # In the order typed: by webhook a message may come after the one typed next (its POST tried again).
        numbered = sorted(
            ((m.telegram_message_id or 0, m) for m in near if m.telegram_message_id not in (None, message_id)),
            key=lambda pair: pair[0],
        )
        before = await self._as_now([m for n, m in numbered if n < message_id][-SENTENCE_MESSAGES:], session)
        after = await self._as_now([m for n, m in numbered if n > message_id][:SENTENCE_MESSAGES], session)
        if any(typed.heard for typed in before):
            before = before[max(i for i, typed in enumerate(before) if typed.heard) + 1 :]
        if any(typed.heard for typed in after):
            after = after[: min(i for i, typed in enumerate(after) if typed.heard)]
        # A /callme without words is no part of a sentence (nor a blank line in one shown to staff).
        return _Near([typed for typed in before if typed.words], [typed for typed in after if typed.words])

    @staticmethod
    async def _as_now(messages: list[PatientMessage], session: AsyncSession) -> list[_Typed]:
        """Each message's words as they now read ("I want to kiss" may have been put right to "kill"), and
        whether it was heard as crisis language, as first sent or in an edit."""
        if not messages:
            return []
        latest = await patient_messages.latest_of(
            session=session,
            patient_id=messages[0].patient_id,
            telegram_message_ids=[m.telegram_message_id for m in messages if m.telegram_message_id is not None],
        )
        read = []
        for message in messages:
            assert message.id is not None
            now_reads = latest.get(message.telegram_message_id or 0, message)
            read.append(_Typed(now_reads.text, message.crisis or now_reads.crisis, message))
        return read

    async def _corrected_answer(
        self, session: AsyncSession, first: PatientMessage, text: str, now: datetime
    ) -> tuple[CheckIn, str, str] | None:
        """A number typed as a check-in's answer, edited into another the scale accepts ("7" to "8", a slip of
        the thumb) while the check-in is open: the check-in, the item and the new answer, which replaces the
        old as its buttons would. None when the edit is anything else (it reaches staff as an edit)."""
        if first.filed_as != FiledAs.ANSWER:
            return None
        found = await checkins.answer_given_at(
            session=session, patient_id=first.patient_id, at=first.received_at, now=now
        )
        if found is None:
            return None
        checkin, item_id = found
        value = self._typed_value(item_id, text)
        if value is None or checkin.id is None:
            return None
        return checkin, item_id, value

    async def asked_with(self, *, patient: Patient, message_id: int) -> bool:
        """Whether this message of the patient's was a request to be contacted (/callme) when it came."""
        async with self.database.session() as session:
            return await self._asked(session, patient, message_id)

    @staticmethod
    async def _asked(session: AsyncSession, patient: Patient, message_id: int) -> bool:
        assert patient.id is not None
        first = await patient_messages.original(session=session, patient_id=patient.id, telegram_message_id=message_id)
        return first is not None and first.kind == "contact_request"

    async def contact_request(
        self,
        *,
        patient: Patient,
        update_id: int,
        now: datetime,
        words: str = "",
        origin: Origin = TYPED,
        message_id: int | None = None,
    ) -> bool:
        """/callme or "Please contact me": an alert for staff, and the words typed after /callme ("about my
        infusion") passed on as a message, with any quoted with it from another chat (`origin`, whose they were
        said above them). `message_id`: the /callme's (none for the button). False when this update was handled
        before."""
        assert patient.id is not None
        words = kept(as_sent(words.strip(), origin)).strip()
        async with self.database.session() as session:
            stored = await patient_messages.add(
                session=session,
                patient_id=patient.id,
                text=words,
                update_id=update_id,
                telegram_message_id=message_id,
                kind="contact_request",
                filed_as=FiledAs.REQUEST,
                now=now,
            )
            if stored is None:
                return False
            await self.desk.file_contact_request(session, patient_id=patient.id, patient_message_id=stored, now=now)
            if words:
                await self._forward(session, patient, self._origin_lines(origin) + words, stored, "staff.message", now)
            await self._tell(session, patient, "contact.requested", now, thread=origin.topic)
        return True

    # ------------------------------------------------------------------ filing

    @staticmethod
    async def _on_this_account(session: AsyncSession, patient: Patient) -> None:
        """The patient kept first, as an erasure or a re-link takes them: a re-link that moves the record (and its
        open check-ins) to another account's chat as this message comes either committed before, and the check-in
        looked for in the message's chat is not found there, or waits until this message is filed. Read between the
        two, the message would answer a check-in now asked on the other account, shown there with the answer."""
        assert patient.id is not None
        await patients.keep(session=session, patient_id=patient.id)

    def _typed_answer(self, waiting: CheckIn | None, text: str) -> str | None:
        """'7' at the pain question is its answer; only numbers, and only where the scale has them."""
        if waiting is None or waiting.step is None:
            return None
        return self._typed_value(waiting.step, text)

    async def _unstarted(self, session: AsyncSession, checkin: CheckIn) -> bool:
        """Whether a check-in that came on its schedule waits untouched: at its first question, nothing answered
        (one the patient asked for with /checkin they are answering, their note typed first or not)."""
        assert checkin.id is not None
        if checkin.slot.startswith(checkins.ASKED_FOR) or checkin.step != self.questionnaire.first:
            return False
        return not await checkins.answers(session=session, checkin_id=checkin.id)

    def _typed_value(self, item_id: str, text: str) -> str | None:
        item = self.questionnaire.item(item_id)
        match = _NUMBER.fullmatch(text)
        if item is None or item.type != "scale" or match is None:
            return None
        value = str(int(match.group(1)))
        return value if item.accepts(value) else None

    async def _answer(
        self, session: AsyncSession, patient: Patient, waiting: CheckIn, value: str, now: datetime
    ) -> CheckInState | None:
        assert patient.id is not None and waiting.id is not None and waiting.step is not None
        moved = await checkins.move_to(
            session=session,
            checkin_id=waiting.id,
            patient_id=patient.id,
            step=self.questionnaire.after(waiting.step),
            now=now,
        )
        if moved is None:
            return None
        await checkins.upsert_answer(session=session, checkin_id=waiting.id, item=waiting.step, value=value, now=now)
        answers = await checkins.answers(session=session, checkin_id=waiting.id)
        return state_of(moved, answers, patient.timezone, self.questionnaire)

    async def _note(
        self, session: AsyncSession, patient: Patient, waiting: CheckIn, text: str, message_id: int, now: datetime
    ) -> tuple[CheckInState | None, bool]:
        """Text becomes the note (added to one already written); at the note question, the check-in
        then reaches its summary (also with no text: a voice message sent there answers it)."""
        assert patient.id is not None and waiting.id is not None
        if text:
            note = (await checkins.answers(session=session, checkin_id=waiting.id)).get("note")
            await checkins.upsert_answer(
                session=session, checkin_id=waiting.id, item="note", value=f"{note}\n{text}" if note else text, now=now
            )
        # Recorded with no words too (a voice message sent at the note question): a replay of the update finds the
        # check-in it finished through it, and follows it up (_again).
        await checkins.set_note_message(session=session, checkin_id=waiting.id, message_id=message_id)
        checkin: CheckIn | None = waiting
        completed = False
        if waiting.step == "note":
            checkin = await checkins.move_to(
                session=session,
                checkin_id=waiting.id,
                patient_id=patient.id,
                step=self.questionnaire.after("note"),
                now=now,
            )
            completed = checkin is not None and checkin.step is None
        if checkin is None:
            return None, False
        answers = await checkins.answers(session=session, checkin_id=waiting.id)
        return state_of(checkin, answers, patient.timezone, self.questionnaire), completed

    async def _crisis(
        self,
        session: AsyncSession,
        patient: Patient,
        heard: Heard,
        stored: int,
        now: datetime,
        update_id: int | None,
        origin: Origin = TYPED,
        *,
        read_after: bool = True,
    ) -> None:
        """The crisis text to the patient at once, an urgent card of its own for staff, and, when the
        card cannot hold the whole message (or there is no card at once: the clinic turned the rule off or
        sent it to the digest), the message in full. Not the crisis text when the patient had it from the
        error handler, at a try of this update that could not store it. The card says what the message was
        forwarded from or answers: a friend's words forwarded are not the patient's. With `read_after`, what the
        patient wrote after it and was read before it came is then read again as its follow-up (_followed_up_before)."""
        assert patient.id is not None
        await self._crisis_text(session, patient, now, update_id, topic=origin.topic)
        lines = self._origin_lines(origin)
        room = ON_CARD - units(lines)
        text = heard.whole
        whole = units(text) <= room
        details_message = lines + (text if whole else self._passage(heard, room))
        await self.desk.file_crisis(
            session, patient_id=patient.id, message=details_message, patient_message_id=stored, now=now
        )
        if not whole or not self.desk.crisis_card_at_once():
            await self._forward(
                session, patient, lines + text, stored, "staff.crisis_in_full", now, priority=Priority.URGENT
            )
        if read_after and origin.forwarded is None:  # a friend's crisis words forwarded open no window
            await self._followed_up_before(session, patient, stored)

    async def _unread_after_crisis(
        self,
        session: AsyncSession,
        patient: Patient,
        kind: str,
        said: str,
        crisis: PatientMessage,
        stored: int,
        now: datetime,
    ) -> None:
        """A voice message, a video, a photo sent within FOLLOW_UP after the patient's words of crisis: what it holds
        the diary cannot read, and it may be the follow-up ("I took them", spoken). An urgent card of its own, as a
        follow-up typed is, saying so; its copy reaches staff as any media does. Not the crisis text again: nothing in
        it was heard."""
        assert patient.id is not None
        earlier = crisis.text if len(crisis.text) <= FOLLOWED_SHOWN else "…" + crisis.text[-FOLLOWED_SHOWN:]
        minutes = max(1, round((now - crisis.received_at) / timedelta(minutes=1)))
        header = self._staff_text("staff.unread_after_crisis", what=self._what(kind), minutes=minutes, crisis=earlier)
        room = ON_CARD - units(header) - 1
        words = said if units(said) <= room else self._passage(Heard(said), room)
        message = "\n".join(part for part in (header, words) if part)
        await self.desk.file_crisis(session, patient_id=patient.id, message=message, patient_message_id=stored, now=now)
        if not self.desk.crisis_card_at_once():
            await self._forward(session, patient, header, stored, "staff.crisis_in_full", now, priority=Priority.URGENT)

    async def _followed_up_before(self, session: AsyncSession, patient: Patient, stored: int) -> None:
        """What the patient wrote within FOLLOW_UP after the crisis message `stored` and was read
        before it, read again as its follow-up. By webhook Telegram may deliver a message after the one typed next
        (its POST failed and was tried again), and through an outage the later message may be stored first: "already
        took them" was read with no crisis before it, an ordinary message, and "I want to overdose" would be a card
        alone, acknowledged as all there is. Read in the order typed, the follow-up is a crisis card of its own. (What
        came after it in the usual order was read with it there, and reads the same again.)"""
        assert patient.id is not None
        crisis = await patient_messages.get(session=session, message_id=stored)
        if crisis is None:
            return
        since = crisis.received_at
        later = await patient_messages.unheard_between(
            session=session, patient_id=patient.id, since=since, until=since + FOLLOW_UP
        )
        for message in later:
            assert message.id is not None
            heard = await self._follows_up(session, message) if typed_after(message, crisis) else None
            if heard is not None:
                await patient_messages.refile(
                    session=session, message_id=message.id, filed_as=message.filed_as, crisis=True
                )
                # Not read after in its turn: what came after it is in this list, read next.
                await self._crisis(
                    session, patient, heard, message.id, message.received_at, message.update_id, read_after=False
                )

    async def _follows_up(self, session: AsyncSession, message: PatientMessage) -> Heard | None:
        """A stored message's words read as words that follow up a crisis before them (_following), as they were read
        when it came: typed words with the messages typed next to them, a caption alone, an edit from when it was made
        and from its first version's coming."""
        command, words = ("", message.text) if message.kind == "contact_request" else command_apart(message.text)
        if not words or message.telegram_message_id is None:
            return None
        first = None
        if message.kind == "edit":
            first = await patient_messages.original(
                session=session, patient_id=message.patient_id, telegram_message_id=message.telegram_message_id
            )
        typed = message.kind in patient_messages.TYPED_KINDS or (
            first is not None and first.kind in patient_messages.TYPED_KINDS
        )
        at = (first.received_at if first is not None else message.received_at) if typed else None
        near = (
            _Near()
            if at is None
            else await self._typed_near(session, message.patient_id, message.telegram_message_id, at)
        )
        return await self._following(session, message.patient_id, words, message.received_at, near, first, command)

    async def _crisis_text(
        self, session: AsyncSession, patient: Patient, now: datetime, update_id: int | None, *, topic: int | None = None
    ) -> None:
        """The crisis text owed to the patient (in the topic of their chat they wrote in, `topic`), unless it went from
        the error handler at a try of this update that could not store what it brought."""
        if update_id is not None and update_id in self.crisis_text_sent:
            log.info("the crisis text for update %s went when it could not be stored; not again", update_id)
        else:
            text = self.crisis_text(patient)
            await self._tell(session, patient, None, now, text=text, priority=Priority.URGENT, thread=topic)

    def _passage(self, heard: Heard, room: int) -> str:
        """What the card shows of a crisis message too long for it (`room` units): the passage around its crisis
        words (they may be in the middle of a long note), so that the card, and the admin it escalates to, show
        why. A follow-up's: the message it follows up (cut to its end), then the passage around the words that
        follow it up (they may be in the last part of a text Telegram split)."""
        if heard.followed:
            above = heard.followed + "\n"
            focus = heard.focus or (0, len(heard.words))
            return above + around(heard.words, *focus, room - units(above))
        text = heard.words
        found = self.crisis_language.finding(text)
        where = self.crisis_language.span(text, found) if found is not None else None
        return shorten(text, room) if where is None else around(text, *where, room)

    async def crisis_answer(
        self, session: AsyncSession, patient: Patient, item: Item, value: str, now: datetime, update_id: int | None
    ) -> None:
        """A questionnaire answer that is a crisis answer (PHQ-9 item 9 above "not at all") is handled as
        a crisis message is: the crisis text to the patient at once, an urgent card of its own for staff."""
        assert patient.id is not None
        scale_key = f"scales.{item.scale}.{value}"
        answer = self._staff_text(scale_key) if item.scale and self._has(scale_key) else value
        await self._crisis_text(session, patient, now, update_id)
        message = self._staff_text("staff.crisis_answer", answer=answer)
        # Kept as heard, as crisis words typed are, so that the half hour after it reads the patient's words for a
        # follow-up ("already took them"). Filed as the answer it is: no message for the care team, the digest or
        # the console's Messages (the questionnaire shows it).
        stored = await patient_messages.add(
            session=session,
            patient_id=patient.id,
            text=message,
            crisis=True,
            update_id=update_id,
            kind="crisis_answer",
            filed_as=FiledAs.ANSWER,
            now=now,
        )
        await self.desk.file_crisis(session, patient_id=patient.id, message=message, patient_message_id=None, now=now)
        if not self.desk.crisis_card_at_once():  # turned off or to the digest: staff still see the answer now
            await self._forward(session, patient, message, None, "staff.crisis_in_full", now, priority=Priority.URGENT)
        if stored is not None:
            await self._followed_up_before(session, patient, stored)

    async def _copy_to_staff(
        self,
        session: AsyncSession,
        patient: Patient,
        header: str,
        kind: str,
        source: tuple[int, int],
        words: str,
        stored: int,
        now: datetime,
        *,
        crisis: bool,
        recaption: bool = False,
        origin: Origin = TYPED,
    ) -> None:
        """ "P-0012 sent a photo:" and a copy of it in the staff chat (between them, what it was forwarded from
        or answers, with any words quoted from another chat: the copy shows its caption only). A Premium
        user's caption may be longer than a bot may send: the copy then goes as it is, without the buttons
        Telegram would refuse on it, and the words follow as text, whole, with the buttons (a crisis message's
        follow its card).

        `recaption`: the caption held an invite link, whose token `words` has blanked. A copy keeps the
        original caption unless given another, so it carries these words instead (cut to a caption's
        length when longer: the whole follows as text, as for any long caption)."""
        priority = Priority.URGENT if crisis else Priority.CONVERSATION
        long_caption = units(words) > CAPTION_LIMIT
        what = self._what(kind)
        staff_chat_id = await self.staff_chat.destination(session)
        # A quote is at most 1,024 characters: with it the header still fits in one message.
        above = self._staff_text(header, code=patient.code, what=what) + "\n" + self._origin_lines(origin, brought=True)
        await outbox.enqueue(
            session=session,
            kind="staff",
            chat_id=staff_chat_id,
            text=above.rstrip("\n"),
            patient_id=patient.id,
            priority=priority,
            now=now,
        )
        await outbox.enqueue(
            session=session,
            kind="copy",
            chat_id=staff_chat_id,
            source=source,
            text=shorten(words, CAPTION_LIMIT) if recaption else None,
            patient_id=patient.id,
            patient_message_id=None if long_caption else stored,
            priority=priority,
            now=now,
        )
        if long_caption and not crisis:
            await self._forward(session, patient, words, stored, "staff.caption_in_full", now)

    async def _forward(
        self,
        session: AsyncSession,
        patient: Patient,
        text: str,
        stored: int | None,
        header: str,
        now: datetime,
        *,
        priority: Priority = Priority.CONVERSATION,
        **values: str,
    ) -> None:
        """The whole text to the staff chat under the patient's code, in as many parts as it takes;
        the last part carries Reply and Seen (when it is a message the patient sent: `stored`). `values`:
        the header's other words."""
        staff_chat_id = await self.staff_chat.destination(session)
        parts = in_parts(
            text,
            self._staff_text(header, code=patient.code, **values) + "\n",
            self._staff_text(f"{header}_part", code=patient.code, part="{part}", parts="{parts}", **values) + "\n",
        )
        for number, part in enumerate(parts, 1):
            await outbox.enqueue(
                session=session,
                kind="staff",
                chat_id=staff_chat_id,
                text=part,
                patient_id=patient.id,
                patient_message_id=stored if number == len(parts) else None,
                priority=priority,
                now=now,
            )

    async def _tell(
        self,
        session: AsyncSession,
        patient: Patient,
        key: str | None,
        now: datetime,
        *,
        text: str | None = None,
        kind: str = "patient",
        priority: Priority = Priority.CONVERSATION,
        thread: int | None = None,
    ) -> None:
        """A message to the patient, in their language, owed in this transaction (in the topic `thread` of their
        chat, the one they wrote in: None for its main view)."""
        if patient.chat_id is None:
            return
        await outbox.enqueue(
            session=session,
            kind=kind,
            chat_id=patient.chat_id,
            text=text if key is None else self.catalog.text(patient.language, key),
            patient_id=patient.id,
            priority=priority,
            now=now,
            thread_id=thread,
        )

    def _origin_lines(self, origin: Origin, *, brought: bool = False) -> str:
        """What staff read above a patient's words about where they stand, each line ending in a line break ("" for
        words typed on their own): forwarded (whose), or the message they answer (whose, and its words, or as much
        of them as shows what is answered). Words quoted from another chat are kept as the patient's (as_sent)
        and shown with them, so here only with `brought` (above a copy, which shows its caption only)."""
        lines = []
        if origin.forwarded is not None:
            lines.append(self._staff_text("staff.origin.forwarded", whose=self._whose(origin.forwarded)))
        if origin.reply_to is not None:
            whose = self._whose(origin.reply_to)
            if origin.elsewhere:
                key = "staff.origin.reply_elsewhere" if origin.quote else "staff.origin.reply_elsewhere_unquoted"
                lines.append(self._staff_text(key, whose=whose))
            elif origin.quote:
                lines.append(self._staff_text("staff.origin.reply", whose=whose))
            else:
                what = self._what(origin.what or "other")
                lines.append(self._staff_text("staff.origin.reply_without_words", whose=whose, what=what))
            if origin.quote and (brought or not origin.brought):
                shown = kept(origin.quote)  # before it is shortened: a token cut in half is no longer found
                lines.append(quoted(shown if origin.brought else shorten(shown, REPLIED_SHOWN)))
        return "".join(f"{line}\n" for line in lines)

    def _whose(self, author: Author) -> str:
        return self._staff_text(f"staff.origin.whose.{author.value}")

    def _what(self, kind: str) -> str:
        """'a photo', 'a voice message'... for the staff chat's "P-0012 sent a photo"."""
        return self._staff_text(f"staff.media.{kind}" if self._has(f"staff.media.{kind}") else "staff.media.other")

    def _staff_text(self, key: str, **values: object) -> str:
        return self.catalog.text(self.catalog.default_language, key, **values)

    def _has(self, key: str) -> bool:
        return self.catalog.has(self.catalog.default_language, key)
