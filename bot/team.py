"""The clinic team: who is staff and who is admin, kept in the database and changed by admins.
ADMIN_TELEGRAM_IDS only seeds the first admins at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.access import Role
from storage import audit, console, invites, outbox, staff
from storage.database import Database
from storage.models import StaffMember

MAX_TELEGRAM_ID = 2**52  # Telegram user ids fit in 52 bits


class LastAdmin(Exception):
    """Removing or demoting the only admin would leave nobody able to change the team."""


async def members(database: Database) -> list[StaffMember]:
    async with database.session() as session:
        return await staff.members(session=session)


async def add(database: Database, *, telegram_user_id: int, role: Role, actor_id: int | None, now: datetime) -> None:
    if role not in (Role.STAFF, Role.ADMIN):
        raise ValueError(f"role must be staff or admin, not {role}")
    if not 0 < telegram_user_id < MAX_TELEGRAM_ID:
        raise ValueError(f"{telegram_user_id} is not a Telegram user id")
    async with database.session() as session:
        if role is Role.STAFF and await staff.admins(session=session) == [telegram_user_id]:
            raise LastAdmin
        await staff.add(session=session, telegram_user_id=telegram_user_id, role=role.value, now=now)
        await audit.record(
            session=session, actor_id=actor_id, action="staff_add", detail=f"{telegram_user_id} as {role}", now=now
        )


@dataclass(frozen=True)
class Removed:
    """Someone removed from staff, and the patient codes whose open links they had asked for, withdrawn."""

    withdrawn: list[str]


async def remove(database: Database, *, telegram_user_id: int, actor_id: int | None, now: datetime) -> Removed | None:
    """None when they were not staff."""
    async with database.session() as session:
        if await staff.admins(session=session) == [telegram_user_id]:
            raise LastAdmin
        if not await staff.remove(session=session, telegram_user_id=telegram_user_id):
            return None
        # Their console ends now, not at their next click: added back later (a removal put right), a session
        # left open on a lost laptop, or a link not yet opened, would work again.
        await console.end_sessions_of(session=session, telegram_user_id=telegram_user_id)
        await console.void_links_of(session=session, telegram_user_id=telegram_user_id)
        # Escalations and words to the admins waiting for their chat (unreachable for a while): a patient's
        # code and crisis words would reach someone no longer staff once it works again.
        await outbox.skip_staff_messages_to(session=session, chat_id=telegram_user_id)
        # The links they asked for are in their chat with the bot: one not yet opened would make them the
        # patient, or move a patient's record (a re-link) to their own account. The admin makes new ones.
        withdrawn = await invites.withdraw_made_by(session=session, telegram_user_id=telegram_user_id, now=now)
        for code in withdrawn:
            await audit.record(
                session=session,
                actor_id=actor_id,
                action="revoke_invite",
                patient_code=code,
                detail="asked for by someone removed from staff",
                now=now,
            )
        await audit.record(
            session=session, actor_id=actor_id, action="staff_remove", detail=str(telegram_user_id), now=now
        )
    return Removed(withdrawn)
