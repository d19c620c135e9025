"""Query functions for what patients sent outside the buttons (messages, typed notes and answers, media,
edits). A row is keyed by the update it came in: storing it is how a handler knows it has not yet
acted on that update."""

from datetime import datetime

from sqlalchemy import ColumnElement, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute, insert
from storage.models import Patient, PatientMessage, table

MESSAGES = table(PatientMessage)
PATIENTS = table(Patient)
# What the patient typed: messages, and the words after /callme ("/callme i just want to", then "die", is a sentence).
TYPED_KINDS = ("text", "contact_request")


async def add(
    *,
    session: AsyncSession,
    patient_id: int,
    text: str,
    now: datetime,
    crisis: bool = False,
    update_id: int | None = None,
    telegram_message_id: int | None = None,
    kind: str = "text",
    filed_as: str = "message",
    forwarded: bool = False,
    file_unique_id: str | None = None,
) -> int | None:
    """Store what the patient sent (`forwarded`: from someone, not their own words; `file_unique_id`: the file a
    photo, video, document... held); None when this update was stored before (it has taken effect)."""
    statement = (
        insert(session, MESSAGES)
        .values(
            patient_id=patient_id,
            text=text,
            crisis=crisis,
            received_at=now,
            update_id=update_id,
            telegram_message_id=telegram_message_id,
            kind=kind,
            filed_as=filed_as,
            forwarded=forwarded,
            file_unique_id=file_unique_id,
        )
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(MESSAGES.c.id)
    )
    found = (await execute(session, statement)).scalar_one_or_none()
    return int(found) if found is not None else None


async def stored_from(*, session: AsyncSession, update_id: int) -> bool:
    """Whether what the update brought is stored (it took effect, whatever failed after)."""
    found = await execute(session, select(MESSAGES.c.id).where(MESSAGES.c.update_id == update_id).limit(1))
    return found.first() is not None


async def from_update(*, session: AsyncSession, update_id: int) -> PatientMessage | None:
    """What the update brought, stored (None: it has not taken effect)."""
    return await _one(session, MESSAGES.c.update_id == update_id)


async def refile(*, session: AsyncSession, message_id: int, filed_as: str, crisis: bool) -> None:
    await execute(session, update(MESSAGES).where(MESSAGES.c.id == message_id).values(filed_as=filed_as, crisis=crisis))


async def _one(session: AsyncSession, *where: ColumnElement[bool]) -> PatientMessage | None:
    """The newest message that meets `where`."""
    row = (await execute(session, select(MESSAGES).where(*where).order_by(MESSAGES.c.id.desc()).limit(1))).first()
    return PatientMessage(**row._mapping) if row else None


async def _any(session: AsyncSession, *where: ColumnElement[bool]) -> bool:
    """Whether any message meets `where`."""
    return (await execute(session, select(MESSAGES.c.id).where(*where).limit(1))).first() is not None


# The newest version of a message first: the one written last, not the one stored last (by webhook a message may come
# after its own edit). Telegram dates to the second: an edit made within the second of its message is the newer, and
# of two edits within one second the one Telegram numbered last (an update's number counts up; none: stored first).
NEWEST_FIRST = (
    MESSAGES.c.received_at.desc(),
    (MESSAGES.c.kind == "edit").desc(),
    MESSAGES.c.update_id.desc().nulls_last(),
    MESSAGES.c.id.desc(),
)


async def _newest(session: AsyncSession, *where: ColumnElement[bool]) -> PatientMessage | None:
    """Of the versions of a message that meet `where`, the newest (NEWEST_FIRST)."""
    row = (await execute(session, select(MESSAGES).where(*where).order_by(*NEWEST_FIRST).limit(1))).first()
    return PatientMessage(**row._mapping) if row else None


async def crisis_between(
    *, session: AsyncSession, patient_id: int, since: datetime, until: datetime
) -> PatientMessage | None:
    """The newest of the patient's own messages (typed, a caption, an edit, a questionnaire's crisis answer; not a
    forward, text or photo, of someone else's) heard as crisis language, received from `since` to `until`."""
    return await _one(
        session,
        MESSAGES.c.patient_id == patient_id,
        MESSAGES.c.crisis.is_(True),
        MESSAGES.c.forwarded.is_(False),
        MESSAGES.c.received_at >= since,
        MESSAGES.c.received_at <= until,
    )


async def heard_as_crisis(*, session: AsyncSession, patient_id: int, telegram_message_id: int) -> PatientMessage | None:
    """The newest version of the patient's own message (not a forward) of this number on the account linked now, when
    it was heard as crisis language (as first sent, or in an edit), or None: one put right since into other words is
    not. Telegram numbers a re-linked account's messages again: the old account's message of this number, received
    before the record moved to this account (moved_at), is another message. Not consented_at, which a link opened
    again on the same account (a readmission) sets too: its messages before are still this account's."""
    moved = select(PATIENTS.c.moved_at).where(PATIENTS.c.id == patient_id).scalar_subquery()
    newest = await _newest(
        session,
        MESSAGES.c.patient_id == patient_id,
        MESSAGES.c.telegram_message_id == telegram_message_id,
        or_(moved.is_(None), MESSAGES.c.received_at >= moved),
    )
    return newest if newest is not None and newest.crisis and not newest.forwarded else None


async def unheard_between(
    *, session: AsyncSession, patient_id: int, since: datetime, until: datetime
) -> list[PatientMessage]:
    """The patient's own messages (not forwards) not heard as crisis language, received from `since` to `until`, in the
    order received."""
    rows = await execute(
        session,
        select(MESSAGES)
        .where(
            MESSAGES.c.patient_id == patient_id,
            MESSAGES.c.crisis.is_(False),
            MESSAGES.c.forwarded.is_(False),
            MESSAGES.c.received_at >= since,
            MESSAGES.c.received_at <= until,
        )
        .order_by(MESSAGES.c.received_at, MESSAGES.c.id),
    )
    return [PatientMessage(**row._mapping) for row in rows.all()]


async def original(*, session: AsyncSession, patient_id: int, telegram_message_id: int) -> PatientMessage | None:
    """The first version of a message the patient has since edited: the newest message of that number, since
    Telegram numbers messages per chat and a patient re-linked to a new account meets the old one's again."""
    return await _one(
        session,
        MESSAGES.c.patient_id == patient_id,
        MESSAGES.c.telegram_message_id == telegram_message_id,
        MESSAGES.c.kind != "edit",
    )


async def wrote(*, session: AsyncSession, patient_id: int, words: str, since: datetime | None = None) -> bool:
    """Whether the patient sent `words`, within a message or caption of theirs (never a crisis answer's row, which
    holds the diary's own wording for staff), received after `since` when given (one of the same moment may be
    either account's)."""
    return await _any(
        session,
        MESSAGES.c.patient_id == patient_id,
        MESSAGES.c.kind != "crisis_answer",
        MESSAGES.c.text.contains(words, autoescape=True),
        *([MESSAGES.c.received_at > since] if since is not None else []),
    )


async def typed_between(
    *, session: AsyncSession, patient_id: int, since: datetime, until: datetime, limit: int
) -> list[PatientMessage]:
    """The patient's typed messages (not media or edits; the words typed after /callme are) received from `since` to
    `until`, the `limit` newest, in the order they came."""
    rows = (
        await execute(
            session,
            select(MESSAGES)
            .where(
                MESSAGES.c.patient_id == patient_id,
                MESSAGES.c.received_at >= since,
                MESSAGES.c.received_at <= until,
                MESSAGES.c.kind.in_(TYPED_KINDS),
            )
            .order_by(MESSAGES.c.id.desc())
            .limit(limit),
        )
    ).all()
    return [PatientMessage(**row._mapping) for row in reversed(rows)]


async def latest(*, session: AsyncSession, patient_id: int, telegram_message_id: int) -> PatientMessage | None:
    """The newest version of a message (its last edit, or the original; NEWEST_FIRST)."""
    return await _newest(
        session, MESSAGES.c.patient_id == patient_id, MESSAGES.c.telegram_message_id == telegram_message_id
    )


async def latest_of(
    *, session: AsyncSession, patient_id: int, telegram_message_ids: list[int]
) -> dict[int, PatientMessage]:
    """The newest version (its last edit, or the original; NEWEST_FIRST) of each of these messages, by number."""
    rows = await execute(
        session,
        select(MESSAGES)
        .where(MESSAGES.c.patient_id == patient_id, MESSAGES.c.telegram_message_id.in_(telegram_message_ids))
        .order_by(*NEWEST_FIRST),
    )
    newest: dict[int, PatientMessage] = {}
    for row in rows.all():
        newest.setdefault(row.telegram_message_id, PatientMessage(**row._mapping))
    return newest


async def edited_since(*, session: AsyncSession, patient_id: int, telegram_message_id: int, since: datetime) -> bool:
    """Whether an edit of the message came at or after `since`. Telegram numbers messages per chat, so a
    patient re-linked to a new account meets the old account's numbers again: only a recent edit counts."""
    return await _any(
        session,
        MESSAGES.c.patient_id == patient_id,
        MESSAGES.c.telegram_message_id == telegram_message_id,
        MESSAGES.c.kind == "edit",
        MESSAGES.c.received_at >= since,
    )


async def get(*, session: AsyncSession, message_id: int) -> PatientMessage | None:
    row = (await execute(session, select(MESSAGES).where(MESSAGES.c.id == message_id))).first()
    return PatientMessage(**row._mapping) if row else None


async def mark_seen(*, session: AsyncSession, message_id: int, by: int, now: datetime) -> bool:
    """The first staff member to mark it seen; False when someone already did."""
    result = await execute(
        session,
        update(MESSAGES)
        .where(MESSAGES.c.id == message_id, MESSAGES.c.seen_at.is_(None))
        .values(seen_by=by, seen_at=now),
    )
    return bool(result.rowcount)


async def undigested(*, session: AsyncSession) -> list[tuple[str, str, str, str]]:
    """(patient code, filed as, kind, text) of the messages to the care team and check-in notes no
    digest has listed yet, oldest first."""
    result = await execute(
        session,
        select(PATIENTS.c.code, MESSAGES.c.filed_as, MESSAGES.c.kind, MESSAGES.c.text)
        .join(PATIENTS, PATIENTS.c.id == MESSAGES.c.patient_id)
        .where(MESSAGES.c.digested_at.is_(None), MESSAGES.c.filed_as.in_(("message", "note")))
        .order_by(MESSAGES.c.received_at, MESSAGES.c.id),
    )
    return [(str(code), str(filed), str(kind), str(text)) for code, filed, kind, text in result.all()]


async def mark_digested(*, session: AsyncSession, now: datetime) -> None:
    await execute(session, update(MESSAGES).where(MESSAGES.c.digested_at.is_(None)).values(digested_at=now))
