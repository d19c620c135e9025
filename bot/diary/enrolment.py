"""Enrolment by one-time invite: tokens are random, single-use, expiring, and stored only as a hash."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.care_team.staff_chat import StaffChat
from bot.care_team.text_limits import TEXT_LIMIT, split
from bot.diary.schedule_rules import InputError, Rule, format_times, next_slot, parse_days, parse_times, shown
from storage import audit, checkins, infusions, invites, outbox, patients, schedules, staff, updates, wrong_tokens
from storage.database import Database
from storage.models import Invite, Patient, Priority
from storage.statuses import PatientStatus

TOKEN_BYTES = 18  # 144 bits; Telegram allows 64 characters of [A-Za-z0-9_-] after /start
PATIENT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def deep_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"


# Characters that show nothing (a zero-width space or joiner, a soft hyphen, a word joiner, a direction or byte order
# mark): an app that breaks long words puts them inside a link, and anyone can, and the token still reads, and opens,
# as a whole once they are taken out. Found without them, a token cut by one was left working where it was posted, and
# shown to the staff chat.
_INVISIBLE = "\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff"
_HIDDEN = re.compile(f"[{_INVISIBLE}]")
_CHARACTER = "[A-Za-z0-9_-]"  # what tokens are made of


def token_pattern(least: int, most: int | None = None) -> str:
    """A run of `least` (to `most`, or more) token characters, with invisible ones between them."""
    return rf"{_CHARACTER}(?:[{_INVISIBLE}]*{_CHARACTER}){{{least - 1},{'' if most is None else most - 1}}}"


def visible(text: str) -> str:
    """The text without the characters that show nothing (a token as it reads, and opens)."""
    return _HIDDEN.sub("", text)


# "?start=TOKEN", also inside another link, where its "?", "&" and "=" are escaped once or twice ("%3Fstart%3D",
# "%253Fstart%253D"): a mail service's link checker or a search page wraps the link the clinic sent.
# Sixteen characters at least: "?start=90" is a video's starting second, no token.
_LINKED = re.compile(rf"((?:[?&]|%(?:25)?(?:3[Ff]|26))start(?:=|%(?:25)?3[Dd]))({token_pattern(16)})")
# A token on its own, copied out of its link or read out: as long as the bot's tokens, with no token
# character either side, and mixed as random ones are (_random).
_TOKEN_LENGTH = len(secrets.token_urlsafe(TOKEN_BYTES))
_BARE = re.compile(
    rf"(?<!{_CHARACTER})(?<!{_CHARACTER}[{_INVISIBLE}]){token_pattern(_TOKEN_LENGTH, _TOKEN_LENGTH)}"
    rf"(?![{_INVISIBLE}]*{_CHARACTER})"
)
# From the first to the last of the characters tokens are made of (see above). One pass: stripping what
# is around with "[^...]+$" read a long run of punctuation again from each of its characters (0.12 s
# for a 4,000-character message, the whole of which anyone may send after /start).
_CORE = re.compile(r"[A-Za-z0-9_-](?:.*[A-Za-z0-9_-])?", re.DOTALL)


def linked_token(text: str) -> str | None:
    """The token of an invite link pasted into a message ("... t.me/diary_bot?start=TOKEN ..."), or None."""
    found = _LINKED.search(text)
    return _of_link(found.group(2)) if found else None


def _of_link(run: str) -> str:
    """The token of a link: the run of token characters after "?start=", but no longer than a token. What was typed
    right after it is not part of it (an italic's "_" written by hand, a "--"), and no token is longer."""
    return visible(run)[:_TOKEN_LENGTH]


def _random(word: str) -> bool:
    """Capitals and small letters, and digits or signs or three capitals: all but some ten in a million
    random tokens, and no long word but a rare name run together ("MyPhysioAppointmentToday")."""
    word = visible(word)
    capitals = sum(c.isupper() for c in word)
    others = sum(not c.isalpha() for c in word)
    return capitals > 0 and any(c.islower() for c in word) and (others > 0 or capitals >= 3)


def without_tokens(text: str) -> str:
    """The text with the token of every invite link in it blanked ("?start=…"), and every token on its own:
    a patient who pastes a link into the chat (their re-link, on the old phone) or its token must not hand
    it to everyone in the staff chat."""
    text = _LINKED.sub(lambda found: found.group(1) + "…", text)
    return _BARE.sub(lambda found: "…" if _random(found.group()) else found.group(), text)


def tokens_in(text: str) -> list[str]:
    """Every token in the text that without_tokens blanks: of links, and on their own."""
    linked = [_of_link(found.group(2)) for found in _LINKED.finditer(text)]
    return linked + [visible(found.group()) for found in _BARE.finditer(text) if _random(found.group())]


def has_token(text: str) -> bool:
    return without_tokens(text) != text


def a_sentence(words: str) -> bool:
    """Whether what followed /start is a sentence (two words or more, no invite link or token in them), not a
    link opened: an enrolled patient's words for their care team ("/start my hand is purple")."""
    return len(words.split()) >= 2 and not has_token(words)


def bare_token(text: str) -> str | None:
    """The first token on its own in the text, as without_tokens finds one, or None."""
    return next((visible(found.group()) for found in _BARE.finditer(text) if _random(found.group())), None)


def typed_token(words: str) -> str:
    """The token in what followed /start: Telegram's own (a link opened), a whole link pasted after it, or
    a token copied with what the copy caught around it (quotes, a full stop), also after words of their own
    ("my code is ..."). Never changed inside: its letters' case is part of its randomness."""
    first = words.split(maxsplit=1)[0] if words.strip() else ""
    core = _CORE.search(first)
    return linked_token(words) or bare_token(words) or (visible(core.group(0)) if core else "")


EXAMPLE_CODE = "P-0012"


def check_code(code: str, code_format: str | None = None) -> str:
    """A patient code as the clinic writes them. With `code_format` (Settings.patient_code_format, a
    regular expression the whole code must match), 'p12' is refused instead of becoming a second record
    for the patient the clinic calls P-0012; without it, only the characters are checked. An InputError
    (a ValueError) names the code and an example of the clinic's format."""
    if not PATIENT_CODE.fullmatch(code):
        raise InputError("code_characters", word=shown(code))
    if code_format is None or re.fullmatch(code_format, code):
        return code
    # The example is their own code in capitals when that fits ("p-0012" -> P-0012), else P-0012 when
    # it fits the clinic's format; else the format itself, since no example can be made up from it.
    for example in (code.upper(), EXAMPLE_CODE):
        if re.fullmatch(code_format, example):
            raise InputError("not_a_code", word=shown(code), example=example)
    raise InputError("not_a_code_format", word=shown(code), format=code_format)


def check_times(text: str) -> str:
    """'09:00,20:00' -> normalised ('' means the clinic's default times)."""
    return format_times(parse_times(text)) if text else ""


async def create_invite(
    database: Database,
    *,
    code: str,
    timezone: str,
    language: str,
    checkin_times: str,
    now: datetime,
    valid_for: timedelta,
    actor_id: int | None = None,
    country: str | None = None,
    relink: bool = False,
    update_id: int | None = None,
) -> str:
    """Store a new invite for the patient code and return the token (shown once, never stored).
    `country` (ISO 3166) picks the crisis text; None: the country of the time zone. With the Telegram
    `update_id` that asked for it, that update makes one invite however often it is handled (a restart
    after a crash handles it again): HandledBefore the second time.

    A patient already linked to a Telegram account gets no ordinary invite (AlreadyEnrolled): whoever
    held a second link could take their record over. Staff ask for a re-link explicitly (`relink`,
    audited): whoever accepts it becomes the patient's account, which is also how a discharged
    patient is readmitted. Either withdraws the patient's older open links."""
    async with database.session() as session:
        if update_id is not None and not await updates.first_time(session=session, update_id=update_id, now=now):
            raise HandledBefore(code)
        new = NewInvite(code=code, timezone=timezone, language=language, checkin_times=checkin_times, country=country)
        return await _add_invite(session, new, now=now, valid_for=valid_for, actor_id=actor_id, relink=relink)


@dataclass(frozen=True)
class NewInvite:
    """What one invite is for, checked already: the code, the zone and language, the check-in times
    ('' for the clinic's) and the country of the crisis text (None: the time zone's)."""

    code: str
    timezone: str
    language: str
    checkin_times: str = ""
    country: str | None = None


async def own_settings(database: Database, *, code: str) -> NewInvite | None:
    """A patient's own time zone, language and country, or None for a code not in the diary: what a
    re-link keeps for the words staff do not give (a new phone changes none of them)."""
    async with database.session() as session:
        patient = await patients.by_code(session=session, code=code)
    if patient is None:
        return None
    return NewInvite(code=code, timezone=patient.timezone, language=patient.language, country=patient.country)


async def create_invites(
    database: Database,
    wanted: Sequence[NewInvite],
    *,
    now: datetime,
    valid_for: timedelta,
    keep: Callable[[list[tuple[NewInvite, str]]], None],
) -> list[tuple[NewInvite, str]]:
    """Invites for patients new to the diary (a clinic's list), all in one transaction, with their tokens.
    `keep` is given every invite and token before the transaction commits: when it cannot keep them (a
    file that cannot be written), it raises and nothing is stored, so no invite exists whose link was
    lost. CodesTaken (nothing stored) when a code is a patient's already: a second link for someone
    invited or enrolled is asked for one patient at a time."""
    made = []
    async with database.session() as session:
        taken = await patients.statuses(session=session, codes=[new.code for new in wanted])
        if taken:
            raise CodesTaken([(new.code, taken[new.code]) for new in wanted if new.code in taken])
        for new in wanted:
            made.append((new, await _add_invite(session, new, now=now, valid_for=valid_for)))
        keep(made)
    return made


async def _add_invite(
    session: AsyncSession,
    new: NewInvite,
    *,
    now: datetime,
    valid_for: timedelta,
    actor_id: int | None = None,
    relink: bool = False,
) -> str:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    # Locked: a second link for this code made at the same instant waits, then withdraws this one.
    patient = await patients.locked(
        session=session, code=new.code, language=new.language, timezone=new.timezone, now=now
    )
    assert patient.id is not None
    # Asked for by staff: still staff now. The sender gate saw them as staff, but a removal handled at the
    # same time (another chat's update) withdraws only the links made before it: one made after would
    # reach someone removed. Checked with the write lock held, and their row kept until this commits.
    if actor_id is not None and await staff.role(session=session, telegram_user_id=actor_id, kept=True) is None:
        raise NotStaff(new.code)
    if patient.telegram_user_id is not None and not relink:
        raise AlreadyEnrolled(new.code)
    # A new link is made when the one before went astray (a wrong number, a lost phone): whoever holds the
    # older one must not enrol as this patient, or move their record, before the patient opens the new one.
    withdrawn = await invites.revoke(session=session, patient_id=patient.id)
    await invites.create(
        session=session,
        token_hash=hash_token(token),
        patient_id=patient.id,
        language=new.language,
        timezone=new.timezone,
        checkin_times=new.checkin_times,
        country=new.country,
        relink=relink,
        now=now,
        expires_at=now + valid_for,
    )
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="relink_invite" if relink else "invite",
        patient_code=new.code,
        detail="an earlier link withdrawn" if withdrawn else "",
        now=now,
    )
    return token


class AlreadyEnrolled(Exception):
    """The patient code is linked to a Telegram account: only an explicit re-link gives a new link."""


class CodesTaken(Exception):
    """Codes of a list to invite that are patients' already, each with its status, in the list's order."""

    def __init__(self, statuses: list[tuple[str, str]]) -> None:
        super().__init__(", ".join(code for code, _ in statuses))
        self.statuses = statuses


class NotStaff(Exception):
    """Whoever asked for the link is no longer staff (removed while it was being made): no link."""


class HandledBefore(Exception):
    """The update that asks for this invite made one already (before a restart): no second link."""


class StaffAccount(Exception):
    """A staff account opened a re-link that would move a record from the patient's account to theirs:
    most often the nurse who asked for it, tapping the link in her own chat to check it. The link keeps
    working for the patient."""


class HeldHere(Exception):
    """The account a record is on opened a re-link of it (made for the patient's new phone, opened on the old one
    first): agreeing there would change nothing and use the link up. The link keeps working for the other account."""


def _refuse_own_relink(invite: Invite, patient: Patient, telegram_user_id: int) -> None:
    """A re-link opened by the account its record is on moves nothing (HeldHere), but for a discharged patient's: that
    is their readmission."""
    here = invite.relink and patient.telegram_user_id == telegram_user_id
    if here and patient.status != PatientStatus.DISCHARGED:
        raise HeldHere(patient.code)


async def _refuse_staff_takeover(session: AsyncSession, patient: Patient, telegram_user_id: int) -> None:
    """Staff may keep a diary of their own (trying it on a code of their own), never take a patient's:
    a record another account holds does not move to a staff account (StaffAccount)."""
    moves = patient.telegram_user_id not in (None, telegram_user_id)
    if moves and await staff.role(session=session, telegram_user_id=telegram_user_id) is not None:
        raise StaffAccount(patient.code)


def _usable(invite: Invite | None, *, now: datetime, after_decline: bool) -> bool:
    return (
        invite is not None
        and invite.used_at is None
        and invite.expires_at > now
        and (invite.declined_at is None or after_decline)
    )


async def usable_invite(
    database: Database,
    *,
    token: str,
    now: datetime,
    telegram_user_id: int,
    after_decline: bool = False,
    notices: MovedNotices | None = None,
) -> bool:
    """Whether this person may see the consent screen for this token: the invite works, the account is
    not another patient's, and either the invite's patient has no account yet, or it is a re-link, or
    the account is this person's own (readmission). StaffAccount for a staff account a re-link would
    move a patient's record to; HeldHere for the account the re-link's record is on. A used link tried by
    another account is told to staff (`notices`)."""
    async with database.session() as session:
        invite = await invites.by_token_hash(session=session, token_hash=hash_token(token))
        if invite is None:
            return False
        patient = await patients.by_id(session=session, patient_id=invite.patient_id)
        if not _usable(invite, now=now, after_decline=after_decline):
            if patient is not None:
                await _tell_of_used_link_tried(session, invite, patient, telegram_user_id, now=now, notices=notices)
            return False
        current = await patients.by_telegram_user(session=session, telegram_user_id=telegram_user_id)
        if patient is None or (current is not None and current.id != patient.id):
            return False
        if patient.telegram_user_id not in (None, telegram_user_id) and not invite.relink:
            return False
        _refuse_own_relink(invite, patient, telegram_user_id)
        await _refuse_staff_takeover(session, patient, telegram_user_id)
    return True


async def decline_invite(
    database: Database, *, token: str, telegram_user_id: int, now: datetime, keep_usable: bool
) -> bool:
    """Someone declined consent with this token: staff see "declined"; the link stops working unless
    the clinic keeps it usable. Nothing about the person is stored. False when the token opens nothing: no
    invite has it, or its invite was used, has expired or was declined (a wrong token, which the caller counts
    like any other, as accepting counts it: that the link was real once is told to no one). As in
    `accept_invite`, a used link whose record is this account's is known and changes nothing (a second consent
    screen of their own, a double tap, the press replayed), as does a re-link declined by the account the record is
    on. False too for an account that is another patient's."""
    async with database.session() as session:
        invite = await invites.by_token_hash(session=session, token_hash=hash_token(token))
        if invite is None or invite.id is None:
            return False
        if invite.used_at is not None:
            patient = await patients.by_id(session=session, patient_id=invite.patient_id)
            return patient is not None and patient.telegram_user_id == telegram_user_id
        if not _usable(invite, now=now, after_decline=keep_usable):
            return False
        # Another patient's account (a shared phone, their own link agreed to meanwhile) was never this link's to
        # use, so not its to decline (withdrawing it from the patient it is for): usable_invite and accept_invite
        # refuse it too.
        current = await patients.by_telegram_user(session=session, telegram_user_id=telegram_user_id)
        if current is not None and current.id != invite.patient_id:
            return False
        if current is not None and current.status != PatientStatus.DISCHARGED:
            # The account the record is on, declining a re-link made for another account of the patient's (a new
            # phone; the link opened on the old one first): it declines nothing, and the link keeps working there. A
            # discharged patient declining their readmission is a decline.
            return True
        await invites.decline(session=session, invite_id=invite.id, now=now, withdraw=not keep_usable)
        return True


@dataclass(frozen=True)
class MovedNotices:
    """What a re-link that moves a record to another account says, and to whom; and what staff are told of a used
    link another account tries (`used_by_another`, given the patient's code)."""

    to_old_account: Callable[[str], str]  # in the patient's language
    to_staff: Callable[[str], str]  # given the patient's code
    staff_chat: StaffChat
    used_by_another: Callable[[str], str] | None = None


async def _tell_of_used_link_tried(
    session: AsyncSession,
    invite: Invite,
    patient: Patient,
    telegram_user_id: int,
    *,
    now: datetime,
    notices: MovedNotices | None,
    used_at: datetime | None = None,
) -> None:
    """A used link tried by an account that is not the record's: the patient, perhaps, whose link someone else (it
    was forwarded, or seen) opened first and agreed to, while they read the consent screen. Nothing tells the
    account, which may be the one in the wrong hands; staff are told, once a link, since a first enrolment moves
    nothing and tells no one. Not for another patient's account (a shared phone), staff (a nurse checking the link
    she sent), or the account a re-link moved this record from (staff were told of the move). `used_at`: when the
    link was used, when `invite` was read before that."""
    used_at = used_at or invite.used_at
    if notices is None or notices.used_by_another is None or used_at is None:
        return
    if patient.telegram_user_id in (None, telegram_user_id):
        return
    if await patients.by_telegram_user(session=session, telegram_user_id=telegram_user_id) is not None:
        return
    if await staff.role(session=session, telegram_user_id=telegram_user_id) is not None:
        return
    former = await patients.formerly_held(session=session, telegram_user_id=telegram_user_id)
    if former is not None and former[0] == patient.code:
        return
    if await audit.happened(session=session, action="link_tried_again", code=patient.code, start=used_at):
        return
    await audit.record(
        session=session,
        actor_id=None,
        action="link_tried_again",
        patient_code=patient.code,
        detail="a used link, by another Telegram account",
        now=now,
    )
    await outbox.enqueue(
        session=session,
        kind="staff",
        chat_id=await notices.staff_chat.destination(session),
        text=notices.used_by_another(patient.code),
        now=now,
    )


async def accept_invite(
    database: Database,
    *,
    token: str,
    telegram_user_id: int,
    chat_id: int,
    now: datetime,
    default_times: str,
    after_decline: bool = False,
    notices: MovedNotices | None = None,
) -> Patient | None:
    """Link the Telegram user to the invited patient; None if the invite cannot be used; StaffAccount when
    a re-link would move a patient's record to a staff account; HeldHere, the link left unused, when the account
    its record is on agrees to a re-link (not a readmission). A record that moves from another account
    leaves that account and the staff chat the `notices`.

    Accepting withdraws every other open invite of the patient, so no older link can take the record
    over later. Only a re-link may move a patient to another account; an account that is already
    another patient's is never moved. A second press of the same consent button (or the update handled
    again after a restart) finds the patient linked to this account and changes nothing."""
    async with database.session() as session:
        invite = await invites.by_token_hash(session=session, token_hash=hash_token(token))
        if invite is None or invite.id is None:
            return None
        # Locked, as a link being made locks it: two links of one patient accepted at the same instant, or
        # one accepted while a new one is made, take their turns and the second sees the first's work.
        patient = await patients.lock(session=session, patient_id=invite.patient_id)
        if patient is None or patient.id is None:
            return None  # erased (with its links) between reading the link and locking the record
        if invite.used_at is not None and patient.telegram_user_id == telegram_user_id:
            return patient  # accepted already, by this account
        if not _usable(invite, now=now, after_decline=after_decline):
            await _tell_of_used_link_tried(session, invite, patient, telegram_user_id, now=now, notices=notices)
            return None
        current = await patients.by_telegram_user(session=session, telegram_user_id=telegram_user_id)
        if current is not None and current.id != patient.id:
            return None  # this account is another patient
        if patient.telegram_user_id not in (None, telegram_user_id) and not invite.relink:
            # Someone else's record: only staff's explicit re-link moves it. An open link of it here was read just
            # before another account, pressing at the same moment, enrolled with it (enrolling withdraws the others).
            used_at = invite.used_at or patient.consented_at
            await _tell_of_used_link_tried(
                session, invite, patient, telegram_user_id, now=now, notices=notices, used_at=used_at
            )
            return None
        _refuse_own_relink(invite, patient, telegram_user_id)
        await _refuse_staff_takeover(session, patient, telegram_user_id)
        if not await invites.claim(session=session, invite_id=invite.id, now=now):
            return None
        await invites.revoke(session=session, patient_id=patient.id)  # every other open link of theirs
        moved = patient.telegram_user_id not in (None, telegram_user_id)
        # A diary kept before its first account (imported from the clinic's records, or infusions the clinic recorded)
        # is one the link brings to this account as a re-link would: held as well, or a link in the wrong hands would
        # take it away (or erase it) at once.
        kept_before = patient.telegram_user_id is None and (
            await checkins.any_answered(session=session, patient_id=patient.id)
            or await infusions.any_recorded(session=session, patient_id=patient.id)
        )
        if moved or kept_before:
            patient.moved_at = now  # its export and erasure wait a while here (held_until)
        if moved and patient.telegram_user_id is not None:
            # A stranger to the diary from now on, whose words of crisis staff still hear of (gate.py).
            await patients.left_by(
                session=session, telegram_user_id=patient.telegram_user_id, patient_id=patient.id, now=now
            )
        if invite.relink:
            detail = (
                "to another Telegram account"
                if moved
                else ("readmitted" if patient.status == PatientStatus.DISCHARGED else "")
            )
            await audit.record(
                session=session, actor_id=None, action="relink", patient_code=patient.code, detail=detail, now=now
            )
        if moved:
            # The new account may be in the wrong hands: it is shown nothing answered before the move (its /history
            # starts there, held_until). A check-in begun or finished here ends here, its answers kept; one not begun
            # goes on, below, to be asked there.
            await checkins.close_answered(session=session, patient_id=patient.id, now=now)
        if patient.chat_id not in (None, chat_id):
            # The open check-ins first, as the sender writes a check-in's message (then its outbox row): two
            # transactions on PostgreSQL never wait for each other's rows in turn.
            asking = await checkins.move_open_to_chat(session=session, patient_id=patient.id, chat_id=chat_id, now=now)
            await outbox.move_to_patient_chat(session=session, chat=patient.chat_id, to=chat_id)
            # What the old account was asked cannot be answered there any more: asked anew on the new one (what is
            # still owed, or snoozed, moved above and goes there).
            owed = await outbox.checkins_owed(session=session, checkin_ids=asking)
            for checkin_id in asking:
                if checkin_id not in owed:
                    await outbox.enqueue(
                        session=session,
                        kind="checkin",
                        chat_id=chat_id,
                        checkin_id=checkin_id,
                        now=now,
                    )
            if notices is not None:
                # The account left behind is told, once, so that its words are not sent into silence, and
                # so that a patient whose link someone else opened learns it and calls the clinic. No
                # patient row: the account is nobody's in the diary now. Staff are told too: a move the
                # patient did not ask for is a record taken over, and they are the ones who can undo it.
                await outbox.enqueue(
                    session=session,
                    kind="patient",
                    chat_id=patient.chat_id,
                    text=notices.to_old_account(patient.language),
                    now=now,
                )
                await outbox.enqueue(
                    session=session,
                    kind="staff",
                    chat_id=await notices.staff_chat.destination(session),
                    text=notices.to_staff(patient.code),
                    now=now,
                )
        patient.telegram_user_id = telegram_user_id
        patient.chat_id = chat_id
        patient.language = invite.language
        patient.timezone = invite.timezone
        patient.country = invite.country
        # One who had blocked the bot stays unreachable until reachable_again (bot/diary/roster.py), run when
        # the accept is answered (or at their next update): it sends the words refused meanwhile, on the old
        # account too, to this one, which is the patient's, and tells staff.
        if patient.status != PatientStatus.UNREACHABLE:
            patient.status = PatientStatus.ACTIVE
        patient.consented_at = now
        existing = await schedules.get(session=session, patient_id=patient.id)
        times = invite.checkin_times or (existing.times if existing else default_times)
        days = existing.days if existing else "mon-sun"
        rule = Rule(parse_times(times), parse_days(days), invite.timezone)
        first = next_slot(rule, after=None, previous_fire=None, now=now)
        await schedules.put(
            session=session,
            patient_id=patient.id,
            times=format_times(rule.times),
            days=days,
            timezone=rule.timezone,
            next_local_date=first.local_date,
            next_slot=first.name,
            next_due_at=first.fire_at,
        )
        return patient


async def tell_staff_of_former_account_crisis(
    database: Database,
    *,
    telegram_user_id: int,
    words: str,
    now: datetime,
    staff_chat: StaffChat,
    staff_text: Callable[[str, datetime], str],
) -> bool:
    """Words of crisis from an account a re-link moved a record away from (the patient's old phone, a second device):
    a stranger to the diary, but perhaps the patient. The staff chat is told at once, urgently: `staff_text(code,
    moved at)` and their words, invite tokens blanked. False when the account never held a record (or holds it again,
    or it was erased): nobody to tell of. Nothing of the record is said to the account, which may be in the wrong
    hands."""
    async with database.session() as session:
        held = await patients.formerly_held(session=session, telegram_user_id=telegram_user_id)
        if held is None:
            return False
        chat_id = await staff_chat.destination(session)
        # Without tokens, as a patient's words reach staff: the patient on the old phone may paste the link made to
        # give their record back, which anyone reading the staff group could otherwise open first.
        for part in split(f"{staff_text(*held)}\n{without_tokens(words)}", TEXT_LIMIT):
            await outbox.enqueue(
                session=session, kind="staff", chat_id=chat_id, text=part, priority=Priority.URGENT, now=now
            )
    return True


async def holds_an_invite(database: Database, words: str) -> bool:
    """Whether `words` hold the token of an invite link the diary made (open, used or withdrawn), not only a word that
    looks like one (a leaflet's address "…/Desensitisation-Guide-v2")."""
    tokens = tokens_in(words)
    if not tokens:
        return False
    async with database.session() as session:
        for token in tokens:
            if await invites.by_token_hash(session=session, token_hash=hash_token(token)) is not None:
                return True
    return False


async def withdraw_posted(
    database: Database,
    *,
    words: str,
    chat_id: int,
    actor_id: int | None,
    now: datetime,
    staff_text: Callable[[str, bool], str],
    seen: str,
) -> bool:
    """Invite links posted in a group (a nurse forwarding a patient's link to the staff chat, to ask who sends it
    on): anyone in it, someone removed from staff among them, could open one first and become the patient. Each
    open link in `words` stops working, is audited, and the chat is told `staff_text(code, relink)` (how to make a
    new one), in the outbox with the withdrawal; `seen`, where, for the audit. False when no open link was in them (a
    used one is harmless)."""
    tokens = tokens_in(words)
    if not tokens:
        return False
    async with database.session() as session:
        withdrawn = await invites.withdraw_open(
            session=session, token_hashes=[hash_token(token) for token in tokens], now=now
        )
        for code, relink in withdrawn:
            await audit.record(
                session=session,
                actor_id=actor_id,
                action="revoke_invite",
                patient_code=code,
                detail=seen,
                now=now,
            )
            await outbox.enqueue(session=session, kind="staff", chat_id=chat_id, text=staff_text(code, relink), now=now)
    return bool(withdrawn)


def held_until(patient: Patient, *, now: datetime, hold: timedelta) -> datetime | None:
    """Until when this account's export and erasure of the record wait, or None when they need not: for
    `hold` after a re-link moved the record to it, or a link brought it a diary kept before (an import). A
    link in the wrong hands would otherwise take the diary away (/export) or erase it for good (/delete) at
    once, before the patient (their old account and the staff chat told of a move; a patient finding their
    first link used) could have a new link made to give it back."""
    until = patient.moved_at + hold if patient.moved_at is not None else None
    return until if until is not None and until > now else None


class WrongTokens:
    """Invite tokens that did not work, per Telegram user, wherever a token is checked (a /start link
    and the consent button, which carries the token too). After `limit` of them within `window`, tokens
    are not even looked up for that user until the window has passed: guessing gets nowhere, and a
    patient who mistyped waits minutes. Kept in the database, so a restart does not reset the limit;
    rows older than the window are deleted as new ones come."""

    def __init__(self, database: Database, *, limit: int = 5, window: timedelta = timedelta(minutes=15)) -> None:
        self.database = database
        self.limit = limit
        self.window = window

    async def blocked(self, user_id: int, now: datetime) -> bool:
        async with self.database.session() as session:
            return (
                await wrong_tokens.count_since(session=session, telegram_user_id=user_id, since=now - self.window)
                >= self.limit
            )

    async def failed(self, user_id: int, now: datetime, *, update_id: int | None = None) -> None:
        """One wrong token, brought by `update_id`: counted once however often that update is handled (tried again
        while Telegram was out of reach, or after a restart), or one mistyped link would block its patient."""
        async with self.database.session() as session:
            if update_id is not None and not await updates.first_time(session=session, update_id=update_id, now=now):
                return
            await wrong_tokens.forget_before(session=session, before=now - self.window)
            await wrong_tokens.record(session=session, telegram_user_id=user_id, now=now)
