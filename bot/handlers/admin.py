"""Admin commands. Only senders listed in ADMIN_TELEGRAM_IDS may use them; anyone else is told nothing
more than that the command was not understood."""

from __future__ import annotations

from datetime import UTC

from telegram import Update

from bot.diary.schedule import ScheduleError, Slot, parse_rule
from bot.diary.scheduling import UnknownPatient
from bot.handlers.context import DiaryContext


def slot_lines(slots: list[Slot], timezone: str) -> str:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(timezone)
    return "\n".join(
        f"{s.fire_at.astimezone(zone):%a %Y-%m-%d %H:%M} {timezone} = {s.fire_at.astimezone(UTC):%H:%M} UTC"
        for s in slots
    )


async def schedule_command(update: Update, context: DiaryContext) -> None:
    """/schedule P-0012 09:00,20:00 mon-sun Europe/Berlin sets; /schedule P-0012 shows."""
    message = update.effective_message
    assert message is not None
    if not context.is_admin:
        await message.reply_text(context.text("unknown"))
        return
    services, args = context.services, context.args or []
    usage = context.text("admin.schedule_usage")
    if len(args) not in (1, 4):
        await message.reply_text(usage)
        return
    code, now = args[0], services.clock()
    try:
        if len(args) == 1:
            shown = await services.scheduler.show(code=code, now=now)
            if shown is None:
                await message.reply_text(context.text("admin.schedule_none", code=code))
                return
            rule, slots = shown
        else:
            rule = parse_rule(args[1], args[2], args[3])
            slots = await services.scheduler.set_schedule(code=code, rule=rule, now=now)
    except UnknownPatient:
        await message.reply_text(context.text("admin.unknown_patient", code=code))
        return
    except ScheduleError as error:
        await message.reply_text(f"{error}\n{usage}")
        return
    await message.reply_text(
        context.text("admin.schedule", code=code, rule=rule.describe(), slots=slot_lines(slots, rule.timezone))
    )
