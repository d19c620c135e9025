"""The staff chat: the group where cards, the daily digest and patients' messages arrive and staff reply.

An admin chooses it by sending /staffchat in the group; that choice is stored (audited, in the same
transaction) and wins over STAFF_CHAT_ID, which is only the starting value until an admin chooses.
Read from the database each time it is needed, so every process on the database (the bot, the console
on its own) agrees at once. While no staff chat is known, what is owed to it is held in the outbox
(never sent, never dropped) and goes to the chat an admin names next. When Telegram turns the group into
a supergroup (a new chat id), the stored chat follows.
No Telegram here: the handlers and the outbox sender adapt to these calls.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import audit, clinic_settings, outbox, staff_chat
from storage.database import Database

SETTING = "staff_chat_id"


class StaffChat:
    def __init__(self, database: Database, *, configured: int | None) -> None:
        self.database = database
        self.configured = configured  # STAFF_CHAT_ID: used until an admin sends /staffchat

    async def current(self, session: AsyncSession | None = None) -> int | None:
        """The staff chat's id, or None when none is known."""
        if session is None:
            async with self.database.session() as own:
                return await self.current(own)
        return self._chosen(await clinic_settings.get(session=session, name=SETTING))

    def _chosen(self, stored: str | None) -> int | None:
        return int(stored) if stored is not None else self.configured

    async def destination(self, session: AsyncSession) -> int:
        """The chat to queue a staff-chat message for: held (outbox.STAFF_CHAT_UNKNOWN) while none is known."""
        chat_id = await self.current(session)
        return outbox.STAFF_CHAT_UNKNOWN if chat_id is None else chat_id

    async def choose(self, *, chat_id: int, actor_id: int | None, now: datetime) -> int | None:
        """Make `chat_id` the staff chat (audited); returns the one before. What was owed to the one before,
        or held while none was known, goes here."""
        async with self.database.session() as session:
            before = await self.current(session)
            await self._store(session, chat_id, now=now, away_from=before)
            detail = f"chat {chat_id}" + (f" (was {before})" if before not in (None, chat_id) else "")
            await audit.record(session=session, actor_id=actor_id, action="staff_chat", detail=detail, now=now)
        return before

    async def migrated(self, *, old: int, new: int, now: datetime) -> bool:
        """Telegram moved the group `old` to the supergroup `new`: if it is the staff chat, follow it
        (audited), with the replies staff had begun there. False when `old` is not the staff chat (or the
        move was recorded already)."""
        async with self.database.session() as session:
            # Telegram says it in both chats, and the two may be handled at once: one of them moves it. Read
            # once and compared with that very value: on PostgreSQL a second read would see the other's move.
            stored = await clinic_settings.get(session=session, name=SETTING)
            if self._chosen(stored) != old:
                return False
            if not await clinic_settings.replace(session=session, name=SETTING, old=stored, new=str(new), now=now):
                return False
            await outbox.move_to_staff_chat(session=session, chats=[outbox.STAFF_CHAT_UNKNOWN, old], to=new)
            await staff_chat.move_pending(session=session, old=old, new=new)
            await audit.record(
                session=session,
                actor_id=None,
                action="staff_chat_migrated",
                detail=f"chat {old} became the supergroup {new}",
                now=now,
            )
        return True

    async def gather(self, session: AsyncSession) -> int:
        """What is still owed to a group that is no longer the staff chat goes to the staff chat now (held
        while none is known). Returns how many."""
        return await outbox.move_from_former_staff_chats(session=session, to=await self.destination(session))

    async def release_held(self, session: AsyncSession) -> int:
        """At start: what was held because the staff chat would not take it (the bot removed, a group Telegram
        cannot find) is tried again in the staff chat configured now, which an operator may have put right
        (STAFF_CHAT_ID) between two starts. Refused again, it is held again; the admins were told once."""
        chat_id = await self.current(session)
        if chat_id is None:
            return 0
        return await outbox.move_to_staff_chat(session=session, chats=[outbox.STAFF_CHAT_UNKNOWN], to=chat_id)

    async def hold(self, session: AsyncSession, *, chat_id: int) -> int:
        """The bot may no longer write to `chat_id` (removed from the group): what is owed to it waits
        for the next staff chat an admin names, or for the bot's return there. Not what another sender (a
        second process) has on its way: delivered before the bot was removed, it would come back with the
        bot and arrive twice; refused, that sender holds it in turn."""
        return await outbox.move_to_staff_chat(
            session=session, chats=[chat_id], to=outbox.STAFF_CHAT_UNKNOWN, in_flight=False
        )

    async def rejoined(self, *, chat_id: int) -> int:
        """The bot is back in the staff chat: what waited for it goes now. Returns how many."""
        async with self.database.session() as session:
            if await self.current(session) != chat_id:
                return 0
            return await outbox.move_to_staff_chat(session=session, chats=[outbox.STAFF_CHAT_UNKNOWN], to=chat_id)

    @staticmethod
    async def _store(session: AsyncSession, chat_id: int, *, now: datetime, away_from: int | None) -> None:
        await clinic_settings.put(session=session, name=SETTING, value=str(chat_id), now=now)
        earlier = [outbox.STAFF_CHAT_UNKNOWN]
        if away_from is not None and away_from != chat_id:
            earlier.append(away_from)
        await outbox.move_to_staff_chat(session=session, chats=earlier, to=chat_id)
