"""Admin commands. Only senders listed in ADMIN_TELEGRAM_IDS may use them; anyone else is told nothing
more than that the command was not understood."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from zoneinfo import ZoneInfo

from telegram import Update

from bot.diary.schedule import Rule, ScheduleError, Slot, parse_quiet_hours, parse_rule
from bot.diary.scheduling import UnknownPatient
from bot.handlers.context import DiaryContext


def slot_lines(slots: list[Slot], timezone: str) -> str:
    zone = ZoneInfo(timezone)
    return "\n".join(
        f"{s.fire_at.astimezone(zone):%a %Y-%m-%d %H:%M} {timezone} = {s.fire_at.astimezone(UTC):%H:%M} UTC"
        for s in slots
    )


def describe(
    context_text: Callable[..., str], code: str, rule: Rule, quiet: str | None, slots: list[Slot], clinic_quiet: str
) -> str:
    """The words /schedule and `python -m bot schedule` both answer with."""
    shown_quiet = quiet or context_text("admin.clinic_quiet_hours", hours=clinic_quiet or "–")
    return context_text(
        "admin.schedule", code=code, rule=rule.describe(), quiet=shown_quiet, slots=slot_lines(slots, rule.timezone)
    )


async def schedule_command(update: Update, context: DiaryContext) -> None:
    """/schedule P-0012 09:00,20:00 mon-sun Europe/Berlin [22:00-07:00] sets; /schedule P-0012 shows."""
    message = update.effective_message
    assert message is not None
    if not context.is_admin:
        await message.reply_text(context.text("unknown"))
        return
    services, args = context.services, context.args or []
    usage = context.text("admin.schedule_usage")
    if len(args) not in (1, 4, 5):
        await message.reply_text(usage)
        return
    code, now = args[0], services.clock()
    try:
        if len(args) == 1:
            shown = await services.scheduler.show(code=code, now=now)
            if shown is None:
                await message.reply_text(context.text("admin.schedule_none", code=code))
                return
            rule, quiet, slots = shown
        else:
            rule = parse_rule(args[1], args[2], args[3])
            quiet = args[4] if len(args) == 5 else None
            if quiet is not None:
                parse_quiet_hours(quiet)
            slots = await services.scheduler.set_schedule(code=code, rule=rule, now=now, quiet_hours=quiet)
    except UnknownPatient:
        await message.reply_text(context.text("admin.unknown_patient", code=code))
        return
    except ScheduleError as error:
        await message.reply_text(f"{error}\n{usage}")
        return
    await message.reply_text(describe(context.text, code, rule, quiet, slots, services.settings.quiet_hours))
