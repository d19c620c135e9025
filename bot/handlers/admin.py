"""Admin commands: check-in schedules and the clinic team. The sender gate lets only admins in."""

from __future__ import annotations

import logging
from functools import partial

from telegram import ChatMember, Update
from telegram.error import TelegramError

from bot import team
from bot.access import Role
from bot.diary import cadences
from bot.diary.schedule_rules import InputError, parse_schedule_words, shown
from bot.diary.scheduler import UnknownPatient
from bot.handlers.context import DiaryContext
from bot.handlers.menus import publish_menu_for
from bot.views.schedule import cadence_lines, describe

log = logging.getLogger(__name__)


async def schedule_command(update: Update, context: DiaryContext) -> None:
    """/schedule P-0012 09:00,20:00 mon-sun Europe/Berlin [22:00-07:00] sets; /schedule P-0012 shows.
    Replies are in the admin's own language; a refusal names the word that is wrong, then the usage."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    services, args = context.services, context.args or []
    text = partial(context.sender_text, update)
    usage = context.sender_text(update, "admin.schedule_usage")
    if not args:
        await message.reply_text(usage)
        return
    code, now = args[0], context.now
    try:
        if len(args) == 1:
            found = await services.scheduler.show(code=code, now=now)
            if found is None:
                await message.reply_text(context.sender_text(update, "admin.schedule_none", code=code))
                return
            rule, quiet, slots = found
        else:
            rule, quiet = parse_schedule_words(args[1:])
            slots = await services.scheduler.set_schedule(
                code=code, rule=rule, now=now, actor_id=update.effective_user.id, quiet_hours=quiet
            )
    except UnknownPatient:
        await message.reply_text(context.sender_text(update, "admin.unknown_patient", code=shown(code)))
        return
    except InputError as error:
        await message.reply_text(f"{text(error.key, **error.values)}\n{usage}")
        return
    await message.reply_text(describe(text, code, rule, quiet, slots, services.settings.quiet_hours))


async def questionnaires_command(update: Update, context: DiaryContext) -> None:
    """/questionnaires P-0012 shows how often each questionnaire is offered to the patient;
    /questionnaires P-0012 phq2=14d interference=7d crps=off sets their own cadences (audited)."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    services, args = context.services, context.args or []
    text = partial(context.sender_text, update)
    if not args:
        await message.reply_text(text("admin.questionnaires_usage"))
        return
    code = args[0]
    questionnaires = services.checkins.questionnaires
    try:
        if len(args) == 1:
            own = await cadences.show(services.database, code=code)
        else:
            chosen = cadences.parse(args[1:], questionnaires)
            own = await cadences.set_cadences(
                services.database, code=code, chosen=chosen, actor_id=update.effective_user.id, now=context.now
            )
    except UnknownPatient:
        await message.reply_text(text("admin.unknown_patient", code=shown(code)))
        return
    except InputError as error:
        await message.reply_text(f"{text(error.key, **error.values)}\n{text('admin.questionnaires_usage')}")
        return
    lines = cadences.describe(services.checkins.cadences, own, questionnaires)
    await message.reply_text(text("admin.questionnaires", code=code, lines=cadence_lines(text, lines)))


async def staff_command(update: Update, context: DiaryContext) -> None:
    """/staff lists; /staff add <telegram id> staff|admin; /staff remove <telegram id>. Replies are in
    the admin's own language."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    services, args = context.services, context.args or []
    t = partial(context.sender_text, update)
    now, actor = context.now, update.effective_user.id
    if not args:
        lines = [
            t("staff.member_line", id=m.telegram_user_id, role=t(f"staff.role.{m.role}"), name=m.name)
            for m in await team.members(services.database)
        ]
        await message.reply_text(t("staff.members", lines="\n".join(lines)))
        return
    try:
        verb, user_id = args[0].lower(), int(args[1])
        role = Role(args[2].lower()) if verb == "add" else None
        if verb not in ("add", "remove") or (verb == "add" and len(args) != 3) or (verb == "remove" and len(args) != 2):
            raise ValueError(verb)
        if role is not None and role not in (Role.STAFF, Role.ADMIN):
            raise ValueError(role)
        if not 0 < user_id < team.MAX_TELEGRAM_ID:
            raise ValueError(user_id)
    except (IndexError, ValueError):
        await message.reply_text(t("staff.staff_usage"))
        return
    try:
        if role is not None:
            await team.add(services.database, telegram_user_id=user_id, role=role, actor_id=actor, now=now)
            reply, no_longer_admin = t("staff.added", id=user_id, role=t(f"staff.role.{role}")), role is Role.STAFF
        elif removed := await team.remove(services.database, telegram_user_id=user_id, actor_id=actor, now=now):
            reply, no_longer_admin = t("staff.removed", id=user_id), True
            if removed.withdrawn:
                reply += "\n" + t("staff.links_withdrawn", codes=", ".join(removed.withdrawn))
            if await _in_staff_chat(context, user_id):
                reply += "\n" + t("staff.still_in_staff_chat", id=user_id)
        else:
            reply, no_longer_admin = t("staff.not_member", id=user_id), False
    except team.LastAdmin:
        reply = t("staff.last_admin")
    else:
        await publish_menu_for(context.bot, services.catalog, user_id=user_id, role=role)
        if no_longer_admin and user_id in services.settings.admin_telegram_ids:  # seeded at every start
            reply += "\n" + t("staff.still_in_settings", id=user_id)
    await message.reply_text(reply)


async def _in_staff_chat(context: DiaryContext, user_id: int) -> bool:
    """Whether someone is a member of the staff chat, where every patient's messages and cards are posted:
    removing them from staff does not take them out of the group (only the group's admins can)."""
    chat_id = await context.services.staff_chat.current()
    if chat_id is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError as error:  # the group gone, or the bot no longer in it: nothing to read there
        log.info("could not look up a member of the staff chat (%s)", type(error).__name__)
        return False
    present = (ChatMember.OWNER, ChatMember.ADMINISTRATOR, ChatMember.MEMBER)
    return member.status in present or (
        member.status == ChatMember.RESTRICTED and bool(getattr(member, "is_member", True))
    )
