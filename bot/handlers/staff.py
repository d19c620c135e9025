"""Staff in the staff chat (or a direct chat): alert buttons, invites, the patient list, one patient's
recent diary, discharge and /infusion. The sender gate has already checked that the sender is staff.
Staff see clinic codes and numbers; every read of patient data is audited (bot/diary/roster.py)."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta

from telegram import Message, Update

from bot.alerts.desk import AlertView, StaffAction
from bot.diary import enrolment, roster
from bot.diary.schedule import ScheduleError, parse_zone
from bot.diary.scheduling import UnknownPatient
from bot.handlers.callback_data import parse_alert
from bot.handlers.context import DiaryContext
from bot.handlers.edits import edit
from storage import audit

log = logging.getLogger(__name__)

DONE = {StaffAction.ACKNOWLEDGE: "acknowledge", StaffAction.SNOOZE: "snooze", StaffAction.RESOLVE: "resolve"}


async def show(message: Message, context: DiaryContext, view: AlertView) -> None:
    """Make the pressed message show the alert as it is now (a card with a chart, or an escalation text)."""
    cards = context.services.cards
    now = context.services.clock()
    caption, keyboard = cards.caption(view, now=now), cards.keyboard(view)
    if message.photo:
        await edit(message.edit_caption(caption, reply_markup=keyboard))
    else:
        await edit(message.edit_text(caption, reply_markup=keyboard))


async def alert_button(update: Update, context: DiaryContext) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    services = context.services
    parsed = parse_alert(query.data)
    if parsed is None:
        await query.answer()
        return
    action, alert_id = parsed
    now = services.clock()
    if action is StaffAction.HISTORY:
        view = await services.desk.view(alert_id=alert_id, now=now)
        if view is not None and isinstance(query.message, Message):
            log.info("staff %s viewed the history of patient %s", update.effective_user.id, view.alert.patient_id)
            async with services.database.session() as session:
                await audit.record(
                    session=session,
                    actor_id=update.effective_user.id,
                    action="view_history",
                    patient_code=view.code,
                    detail=f"alert {alert_id}",
                    now=now,
                )
            await query.message.reply_text(services.cards.history_text(view, now=now))
        await query.answer()
        return
    user = update.effective_user
    changed = await services.desk.act(alert_id=alert_id, action=action, by=user.id, name=user.full_name, now=now)
    view = await services.desk.view(alert_id=alert_id, now=now)
    if view is not None and isinstance(query.message, Message):
        await show(query.message, context, view)
        card = (view.alert.card_chat_id, view.alert.card_message_id)
        if changed is not None and card != (query.message.chat_id, query.message.message_id):
            await services.desk.refresh_card(alert_id=alert_id, now=now)  # pressed in an admin's direct chat
    await query.answer(context.services.cards.t(f"alerts.done.{DONE[action]}" if changed else "alerts.closed"))


async def infusion_command(update: Update, context: DiaryContext) -> None:
    """/infusion P-0012 2026-11-03 [kind]"""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    services = context.services
    args = context.args or []
    try:
        code, on = args[0], date.fromisoformat(args[1])
    except (IndexError, ValueError):
        await message.reply_text(context.services.cards.t("staff.infusion_usage"))
        return
    kind = " ".join(args[2:])[:64]
    now = services.clock()
    recorded = await services.desk.record_infusion(code=code, on=on, kind=kind, by=update.effective_user.id, now=now)
    if recorded is None:
        await message.reply_text(context.services.cards.t("staff.unknown_patient", code=code[:32]))
        return
    log.info("staff %s recorded an infusion", update.effective_user.id)
    if recorded:
        async with services.database.session() as session:
            await audit.record(
                session=session, actor_id=update.effective_user.id, action="infusion", patient_code=code, now=now
            )
    key = "staff.infusion_recorded" if recorded else "staff.infusion_exists"
    await message.reply_text(context.services.cards.t(key, code=code, date=on.isoformat()))


_TIMES = re.compile(r"\d{1,2}:\d{2}(,\d{1,2}:\d{2})*")


async def _reply(update: Update, text: str) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(text[:4096])


def _code_argument(context: DiaryContext) -> str | None:
    args = context.args or []
    return args[0] if len(args) == 1 and enrolment.PATIENT_CODE.match(args[0]) else None


def _local(context: DiaryContext, at: datetime) -> str:
    return context.services.cards.when(at)


async def invite_command(update: Update, context: DiaryContext) -> None:
    """/invite P-0012 [time zone] [language] [09:00,20:00], the last three in any order."""
    assert update.effective_user is not None
    services, args = context.services, context.args or []
    t = services.cards.t
    settings = services.settings
    zone, language, times = settings.default_timezone, settings.default_language, ""
    try:
        code = enrolment.check_code(args[0])
        for word in args[1:]:
            if word in services.catalog.languages:
                language = word
            elif _TIMES.fullmatch(word):
                times = enrolment.check_times(word)
            else:
                zone = parse_zone(word)
    except (IndexError, ValueError, ScheduleError):
        await _reply(update, t("staff.invite_usage"))
        return
    if await roster.is_enrolled(services.database, code=code):
        await _reply(update, t("staff.invite_enrolled", code=code))
        return
    now = services.clock()
    valid_for = timedelta(days=settings.invite_valid_days)
    token = await enrolment.create_invite(
        services.database,
        code=code,
        timezone=zone,
        language=language,
        checkin_times=times,
        now=now,
        valid_for=valid_for,
        actor_id=update.effective_user.id,
    )
    log.info("staff %s created an invite", update.effective_user.id)
    link = enrolment.deep_link(context.bot.username, token)
    await _reply(update, t("staff.invite_link", code=code, expires=_local(context, now + valid_for), link=link))


async def invites_command(update: Update, context: DiaryContext) -> None:
    services = context.services
    t = services.cards.t
    found = await roster.open_invites(services.database, now=services.clock())
    if not found:
        await _reply(update, t("staff.invites_none"))
        return
    lines = [t("staff.invite_line", code=code, expires=_local(context, expires)) for code, expires in found]
    await _reply(update, t("staff.invites", lines="\n".join(lines)))


async def revoke_command(update: Update, context: DiaryContext) -> None:
    assert update.effective_user is not None
    services = context.services
    t = services.cards.t
    code = _code_argument(context)
    if code is None:
        await _reply(update, t("staff.revoke_usage"))
        return
    try:
        revoked = await roster.revoke(
            services.database, code=code, actor_id=update.effective_user.id, now=services.clock()
        )
    except UnknownPatient:
        await _reply(update, t("staff.unknown_patient", code=code))
        return
    await _reply(update, t("staff.revoked" if revoked else "staff.revoke_none", code=code))


async def patients_command(update: Update, context: DiaryContext) -> None:
    assert update.effective_user is not None
    services = context.services
    t = services.cards.t
    found = await roster.overview(services.database, actor_id=update.effective_user.id, now=services.clock())
    if not found:
        await _reply(update, t("staff.patients_none"))
        return
    lines = [
        t(
            "staff.patient_line",
            code=p.code,
            status=t(f"staff.status.{p.status}"),
            last=_local(context, p.last_checkin_at) if p.last_checkin_at else t("staff.never"),
        )
        for p in found
    ]
    await _reply(update, t("staff.patients", count=len(found), lines="\n".join(lines)))


async def patient_command(update: Update, context: DiaryContext) -> None:
    """/patient P-0012: the last 14 days in numbers, then the chart."""
    assert update.effective_user is not None and update.effective_message is not None
    services = context.services
    t = services.cards.t
    code = _code_argument(context)
    if code is None:
        await _reply(update, t("staff.patient_usage"))
        return
    now = services.clock()
    try:
        diary = await roster.recent(services.database, code=code, actor_id=update.effective_user.id, now=now)
    except UnknownPatient:
        await _reply(update, t("staff.unknown_patient", code=code))
        return
    log.info("staff %s viewed a patient's diary", update.effective_user.id)
    if not diary.entries:
        await _reply(update, t("staff.patient_empty", code=code))
        return
    status = t(f"staff.status.{diary.status}")
    await _reply(
        update, t("staff.patient_days", code=code, status=status, lines=services.cards.diary_lines(diary.entries))
    )
    png = await services.cards.diary_chart(code, diary.entries, now=now)
    await update.effective_message.reply_photo(png, filename="diary.png")


async def discharge_command(update: Update, context: DiaryContext) -> None:
    assert update.effective_user is not None
    services = context.services
    t = services.cards.t
    code = _code_argument(context)
    if code is None:
        await _reply(update, t("staff.discharge_usage"))
        return
    try:
        done = await roster.discharge(
            services.database, code=code, actor_id=update.effective_user.id, now=services.clock()
        )
    except UnknownPatient:
        await _reply(update, t("staff.unknown_patient", code=code))
        return
    await _reply(update, t("staff.discharged" if done else "staff.already_discharged", code=code))
