"""A patient's right to erasure: everything about them goes, one audit event says that it happened.

Every table that holds something about a patient refers to the patient row with ON DELETE CASCADE,
so deleting that row deletes the rest in the same transaction. The audit log keeps its events (someone
did read or export) but loses the patient's code. Processed inbox rows hold no content (bot/delivery/inbox.py)
and delivered staff texts are dropped when sent (storage/outbox.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.care_team.staff_chat import StaffChat
from bot.diary.enrolment import held_until
from storage import alerts, audit, outbox, patients, staff, updates
from storage.database import Database
from storage.models import Priority


async def erase(
    database: Database,
    *,
    patient_id: int,
    telegram_user_id: int | None,
    now: datetime,
    staff_chat: StaffChat,
    staff_text: Callable[[str], str],
    hold: timedelta,
    asked_at: datetime | None = None,
    update_id: int | None = None,
) -> bool:
    """False when there is no such patient (already erased), or it is no longer the record of the Telegram
    account that asked (a re-link moved it to another account while the request was on its way), or a
    re-link moved it to that account less than `hold` ago (enrolment.held_until), or since `asked_at`, when the
    patient was asked to confirm (confirmed before the record moved away and back, however long ago, the
    request was about the record as it was then).

    A crisis message stays open until staff resolve it (CLINICAL.md); erasure takes it, its card and
    the escalation to admins with the rest. So when one is open, the staff chat is told first, at once
    (`staff_text(code)`, in a message that names no patient row and so survives the erasure), and each
    admin too while nobody has acknowledged it, as its escalation would have: the code is what staff
    need to reach the patient, and nothing of what they wrote is kept.

    `update_id`, the press that asked for it, is recorded as handled in the same transaction: the one thing
    kept, so that the press handled again (the process stopped before the patient was told) still says the
    erasure was done (`carried_out`), where nothing else is left to tell the person from a stranger."""
    async with database.session() as session:
        # Locked, as accepting a link locks it: the record cannot move to another account meanwhile.
        patient = await patients.lock(session=session, patient_id=patient_id)
        if patient is None or patient.telegram_user_id != telegram_user_id:
            return False
        if held_until(patient, now=now, hold=hold) is not None:
            return False
        if asked_at is not None and patient.moved_at is not None and asked_at < patient.moved_at:
            return False
        code = patient.code
        if await alerts.active(session=session, patient_id=patient_id, rule="crisis_text") is not None:
            text = staff_text(code)
            chat_id = await staff_chat.destination(session)
            await outbox.enqueue(
                session=session, kind="staff", chat_id=chat_id, text=text, priority=Priority.URGENT, now=now
            )
            if await alerts.unacknowledged(session=session, patient_id=patient_id, rule="crisis_text") is not None:
                # Read after the write above: on SQLite the admins are kept from a first write on only
                # (storage.staff.admins), and one removed by another process before would still be told.
                for admin in await staff.admins(session=session, kept=True):
                    await outbox.enqueue(
                        session=session, kind="staff", chat_id=admin, text=text, priority=Priority.URGENT, now=now
                    )
        await patients.erase(session=session, patient_id=patient_id)
        if update_id is not None:
            await updates.first_time(session=session, update_id=update_id, now=now)
        await audit.forget_patient(session=session, code=code)
        await audit.record(session=session, actor_id=None, action="erasure", detail="at the patient's request", now=now)
    return True


async def carried_out(database: Database, *, update_id: int) -> bool:
    """Whether the press of update `update_id` erased a diary (see `erase`)."""
    async with database.session() as session:
        return await updates.handled(session=session, update_id=update_id)
