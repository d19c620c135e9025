"""The patient's own schedule: /pause [days], /resume, /timezone."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.diary import places
from bot.handlers.context import DiaryContext
from bot.views.callback_data import parse_timezone, timezone_button
from bot.views.edits import edit

MAX_PAUSE_DAYS = 90


def local_when(moment: datetime | None, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M") if moment else "–"


def _zone_buttons(zones: list[str] | tuple[str, ...]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(zone, callback_data=timezone_button(zone))] for zone in zones])


async def pause_command(update: Update, context: DiaryContext) -> None:
    message = update.effective_message
    assert message is not None and context.patient is not None and context.patient.id is not None
    args = context.args or []
    days = int(args[0]) if len(args) == 1 and re.fullmatch(r"[0-9]{1,3}", args[0]) else None
    if len(args) > 1 or (args and (days is None or not 1 <= days <= MAX_PAUSE_DAYS)):
        await message.reply_text(context.text("pause.usage"))
        return
    services = context.services
    until = await services.scheduler.pause(patient_id=context.patient.id, days=days, now=context.now)
    if until is None:
        await message.reply_text(context.text("pause.indefinite"))
    else:
        await message.reply_text(context.text("pause.done", date=local_when(until, context.patient.timezone)))


async def resume_command(update: Update, context: DiaryContext) -> None:
    message = update.effective_message
    assert message is not None and context.patient is not None and context.patient.id is not None
    services = context.services
    slot = await services.scheduler.resume(patient_id=context.patient.id, now=context.now)
    when = local_when(slot.fire_at if slot else None, context.patient.timezone)
    await message.reply_text(context.text("resume.done", when=when))


async def timezone_command(update: Update, context: DiaryContext) -> None:
    """/timezone shows buttons for common zones; /timezone <city or IANA name> sets it directly.

    A city is found in any language the clinic lists (prompts/places/), without accents or capitals. A
    name in several zones (Córdoba) gets a button for each, and a misspelling a button for the nearest
    place: a patient's zone decides when they are asked, so it is set only as typed or as pressed."""
    message = update.effective_message
    assert message is not None and context.patient is not None
    if context.args:
        typed = " ".join(context.args)
        zones = places.find_zones(typed)
        if len(zones) == 1:
            await message.reply_text(await _set_zone(context, zones[0]))
            return
        if zones:
            await message.reply_text(
                context.text("timezone.choose", text=typed[:60]), reply_markup=_zone_buttons(zones)
            )
            return
        near = places.nearest_place(typed)
        if near is None:
            await message.reply_text(context.text("timezone.unknown", text=typed[:60]))
            return
        place = near.name if near.zones == (near.name,) else f"{near.name} ({', '.join(near.zones)})"
        await message.reply_text(
            context.text("timezone.suggest", text=typed[:60], place=place), reply_markup=_zone_buttons(near.zones)
        )
        return
    zones = tuple(zone.strip() for zone in context.text("timezone.common").split(","))
    await message.reply_text(
        context.text("timezone.prompt", zone=context.patient.timezone), reply_markup=_zone_buttons(zones)
    )


async def timezone_chosen(update: Update, context: DiaryContext) -> None:
    query = update.callback_query
    assert query is not None
    zone = parse_timezone(query.data)
    if zone is None or zone not in places.zone_names():
        await query.answer(context.text("checkin.closed"))
        return
    await edit(query.edit_message_text(await _set_zone(context, zone)))
    await query.answer()


async def _set_zone(context: DiaryContext, zone: str) -> str:
    assert context.patient is not None and context.patient.id is not None
    services = context.services
    slot, paused = await services.scheduler.set_timezone(patient_id=context.patient.id, timezone=zone, now=context.now)
    context.patient.timezone = zone
    if paused:
        return context.text("timezone.changed_paused", zone=zone)
    return context.text("timezone.changed", zone=zone, when=local_when(slot.fire_at if slot else None, zone))
