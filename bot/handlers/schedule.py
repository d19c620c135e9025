"""The patient's own schedule: /pause [days], /resume, /timezone."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.handlers.callback_data import parse_timezone, timezone_button
from bot.handlers.context import DiaryContext
from bot.handlers.edits import edit

MAX_PAUSE_DAYS = 90


def local_when(moment: datetime | None, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M") if moment else "–"


def find_zone(text: str) -> str | None:
    """An IANA name as typed, or the zone named after a city ('new york' -> America/New_York)."""
    wanted = text.strip().replace(" ", "_").lower()
    if not wanted:
        return None
    zones = available_timezones()
    for zone in zones:
        if zone.lower() == wanted:
            return zone
    cities = sorted(z for z in zones if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    return next((z for z in cities if z.rsplit("/", 1)[1].lower() == wanted), None)


async def pause_command(update: Update, context: DiaryContext) -> None:
    message = update.effective_message
    assert message is not None and context.patient is not None and context.patient.id is not None
    args = context.args or []
    days = int(args[0]) if len(args) == 1 and re.fullmatch(r"[0-9]{1,3}", args[0]) else None
    if len(args) > 1 or (args and (days is None or not 1 <= days <= MAX_PAUSE_DAYS)):
        await message.reply_text(context.text("pause.usage"))
        return
    services = context.services
    until = await services.scheduler.pause(patient_id=context.patient.id, days=days, now=services.clock())
    if until is None:
        await message.reply_text(context.text("pause.indefinite"))
    else:
        await message.reply_text(context.text("pause.done", date=local_when(until, context.patient.timezone)))


async def resume_command(update: Update, context: DiaryContext) -> None:
    message = update.effective_message
    assert message is not None and context.patient is not None and context.patient.id is not None
    services = context.services
    slot = await services.scheduler.resume(patient_id=context.patient.id, now=services.clock())
    when = local_when(slot.fire_at if slot else None, context.patient.timezone)
    await message.reply_text(context.text("resume.done", when=when))


async def timezone_command(update: Update, context: DiaryContext) -> None:
    """/timezone shows buttons for common zones; /timezone <city or IANA name> sets it directly."""
    message = update.effective_message
    assert message is not None and context.patient is not None
    if context.args:
        typed = " ".join(context.args)
        zone = find_zone(typed)
        if zone is None:
            await message.reply_text(context.text("timezone.unknown", text=typed[:60]))
            return
        await message.reply_text(await _set_zone(context, zone))
        return
    zones = context.text("timezone.common").split(",")
    buttons = [[InlineKeyboardButton(zone.strip(), callback_data=timezone_button(zone.strip()))] for zone in zones]
    await message.reply_text(
        context.text("timezone.prompt", zone=context.patient.timezone), reply_markup=InlineKeyboardMarkup(buttons)
    )


async def timezone_chosen(update: Update, context: DiaryContext) -> None:
    query = update.callback_query
    assert query is not None
    zone = parse_timezone(query.data)
    if zone is None or zone not in available_timezones():
        await query.answer(context.text("checkin.closed"))
        return
    await edit(query.edit_message_text(await _set_zone(context, zone)))
    await query.answer()


async def _set_zone(context: DiaryContext, zone: str) -> str:
    assert context.patient is not None and context.patient.id is not None
    services = context.services
    slot = await services.scheduler.set_timezone(patient_id=context.patient.id, timezone=zone, now=services.clock())
    context.patient.timezone = zone
    return context.text("timezone.changed", zone=zone, when=local_when(slot.fire_at if slot else None, zone))
