"""Query functions for replies from staff: which patient a bot message in a staff chat is about, and
who pressed Reply and has not written yet."""

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import execute, insert
from storage.models import PendingReply, StaffChatMessage, table

MESSAGES = table(StaffChatMessage)
PENDING = table(PendingReply)


async def remember(
    *,
    session: AsyncSession,
    chat_id: int,
    message_id: int,
    patient_id: int,
    now: datetime,
    staff_user_id: int | None = None,
    words_digest: str | None = None,
) -> None:
    """The message is about the patient; with `staff_user_id`, for that staff member's replies alone. `words_digest`:
    a staff member's reply, the SHA-256 of its words as sent."""
    statement = insert(session, MESSAGES).values(
        chat_id=chat_id,
        message_id=message_id,
        patient_id=patient_id,
        created_at=now,
        staff_user_id=staff_user_id,
        words_digest=words_digest,
    )
    await execute(session, statement.on_conflict_do_nothing(index_elements=["chat_id", "message_id"]))


async def patient_of(*, session: AsyncSession, chat_id: int, message_id: int) -> int | None:
    found = await about(session=session, chat_id=chat_id, message_id=message_id)
    return found[0] if found is not None else None


async def digest_of(*, session: AsyncSession, chat_id: int, message_id: int) -> tuple[int, str | None] | None:
    """(patient, the SHA-256 of its words as sent) for a staff member's reply noted with them (see `remember`)."""
    result = await execute(
        session,
        select(MESSAGES.c.patient_id, MESSAGES.c.words_digest).where(
            MESSAGES.c.chat_id == chat_id, MESSAGES.c.message_id == message_id
        ),
    )
    row = result.first()
    return (int(row[0]), row[1]) if row is not None else None


async def sent_on(*, session: AsyncSession, chat_id: int, message_id: int) -> tuple[int, datetime] | None:
    """(patient, when) for a staff member's message that went to a patient as a reply (noted with its words' digest,
    see `remember`), or None."""
    result = await execute(
        session,
        select(MESSAGES.c.patient_id, MESSAGES.c.created_at).where(
            MESSAGES.c.chat_id == chat_id, MESSAGES.c.message_id == message_id, MESSAGES.c.words_digest.is_not(None)
        ),
    )
    row = result.first()
    return (int(row[0]), row[1]) if row is not None else None


async def about(*, session: AsyncSession, chat_id: int, message_id: int) -> tuple[int, int | None] | None:
    """(patient, the one staff member whose replies to it are for the patient, or None for anyone's)."""
    result = await execute(
        session,
        select(MESSAGES.c.patient_id, MESSAGES.c.staff_user_id).where(
            MESSAGES.c.chat_id == chat_id, MESSAGES.c.message_id == message_id
        ),
    )
    row = result.first()
    return (int(row[0]), None if row[1] is None else int(row[1])) if row is not None else None


async def expect_reply(
    *,
    session: AsyncSession,
    staff_user_id: int,
    chat_id: int,
    patient_id: int,
    expires_at: datetime,
    topic: int | None = None,
) -> None:
    """This staff member's next message in this chat (in this forum topic: None for General) is for the patient."""
    values = {"patient_id": patient_id, "expires_at": expires_at, "topic": topic}
    statement = insert(session, PENDING).values(staff_user_id=staff_user_id, chat_id=chat_id, **values)
    statement = statement.on_conflict_do_update(index_elements=["staff_user_id", "chat_id"], set_=values)
    await execute(session, statement)


async def take_pending(
    *,
    session: AsyncSession,
    staff_user_id: int,
    chat_id: int,
    now: datetime,
    keep: bool = False,
    topic: int | None = None,
) -> int | None:
    """The patient this staff member is writing to in this chat, written to in this forum topic (None: General or
    a chat without topics), or None. Used up unless `keep`, in whichever topic it was."""
    mine = (PENDING.c.staff_user_id == staff_user_id, PENDING.c.chat_id == chat_id)
    columns = (PENDING.c.patient_id, PENDING.c.expires_at, PENDING.c.topic)
    statement = select(*columns).where(*mine) if keep else delete(PENDING).where(*mine).returning(*columns)
    result = await execute(session, statement)
    row = result.first()
    return int(row[0]) if row is not None and row[1] > now and row[2] == topic else None


async def pending_until(
    *, session: AsyncSession, staff_user_id: int, chat_id: int, now: datetime, topic: int | None = None
) -> datetime | None:
    """When the Reply this staff member has pressed in this chat (this forum topic) runs out, or None: none is."""
    mine = (PENDING.c.staff_user_id == staff_user_id, PENDING.c.chat_id == chat_id)
    row = (await execute(session, select(PENDING.c.expires_at, PENDING.c.topic).where(*mine))).first()
    return row[0] if row is not None and row[0] > now and row[1] == topic else None


async def move_pending(*, session: AsyncSession, old: int, new: int) -> None:
    """The chat became a supergroup: a Reply pressed in it still holds there. Remembered messages do not
    move: the supergroup numbers its messages anew, so an old message id could name another message."""
    begun_since = select(PENDING.c.staff_user_id).where(PENDING.c.chat_id == new)  # newer: it stays
    await execute(session, delete(PENDING).where(PENDING.c.chat_id == old, PENDING.c.staff_user_id.in_(begun_since)))
    await execute(session, update(PENDING).where(PENDING.c.chat_id == old).values(chat_id=new))
