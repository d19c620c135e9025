"""Each role sees its own command menu: patients the default one (in each language), staff and admins
one scoped to their own chat, the staff group the staff menu."""

from __future__ import annotations

import contextlib

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot import access
from bot.access import Role
from bot.prompts import Catalog
from storage import staff
from storage.database import Database


def _commands(catalog: Catalog, language: str, role: Role) -> list[BotCommand]:
    return [BotCommand(name, catalog.text(language, f"commands.{name}")) for name in access.menu(role)]


async def publish_menu_for(bot: Bot, catalog: Catalog, *, user_id: int, role: Role | None) -> None:
    """A staff member's or admin's menu in their direct chat; role None: back to the patients' menu."""
    scope = BotCommandScopeChat(user_id)  # a private chat's id is the user's id
    if role is None:
        await bot.delete_my_commands(scope=scope)
    else:
        await bot.set_my_commands(_commands(catalog, catalog.default_language, role), scope=scope)


async def publish_staff_chat_menu(bot: Bot, catalog: Catalog, *, chat_id: int, before: int | None = None) -> None:
    """The staff menu in the staff chat, and no longer in the one before it (if the bot can still reach it)."""
    commands = _commands(catalog, catalog.default_language, Role.STAFF)
    await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id))
    if before is not None and before != chat_id:
        with contextlib.suppress(TelegramError):  # the bot has left that group: its menu went with it
            await bot.delete_my_commands(scope=BotCommandScopeChat(before))


async def publish_command_menus(bot: Bot, catalog: Catalog, database: Database, staff_chat_id: int | None) -> None:
    for language in catalog.languages:
        code = None if language == catalog.default_language else language
        await bot.set_my_commands(_commands(catalog, language, Role.PATIENT), language_code=code)
    if staff_chat_id is not None:
        await publish_staff_chat_menu(bot, catalog, chat_id=staff_chat_id)
    async with database.session() as session:
        members = await staff.members(session=session)
    for member in members:
        await publish_menu_for(bot, catalog, user_id=member.telegram_user_id, role=Role(member.role))
