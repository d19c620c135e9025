"""Enrolment, help, language, history, export and erasure: the patient's commands outside a check-in."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot.diary import enrolment, history, roster
from bot.diary.scheduler import FOREVER
from bot.handlers.context import DiaryContext
from bot.handlers.pause_timezone import local_when
from bot.records import erasure
from bot.records.export import Export
from bot.views.callback_data import (
    consent_button,
    delete_button,
    language_button,
    parse_consent,
    parse_delete,
    parse_language,
)
from bot.views.edits import edit
from storage import patients
from storage.statuses import PatientStatus

log = logging.getLogger(__name__)


async def start(update: Update, context: DiaryContext) -> None:
    """/start <token> from an invite link: check the invite and show the consent screen. A message edited
    into /start (a mistyped link corrected) is answered as one sent."""
    message = update.effective_message
    assert message is not None
    words = " ".join(context.args or [])
    token = enrolment.typed_token(words) if words else ""
    # Back after blocking the bot, by /start or by their invite link opened again: the gate started their
    # check-ins again (bot/handlers/gate.py). A sentence after it went to their care team there: no token.
    if context.patient is not None and (not token or enrolment.a_sentence(words)):
        await message.reply_text(context.text("help"))
        return
    await open_invite(update, context, token)


async def back_again(context: DiaryContext) -> None:
    """A patient who had blocked the bot unblocked it, or writes again (Telegram passes nothing from a chat
    that blocks the bot): their check-ins start again from the next slot, and what it could not send them
    meanwhile goes now (bot/diary/roster.py, reachable_again)."""
    patient = context.patient
    if patient is None or patient.status != PatientStatus.UNREACHABLE or patient.id is None:
        return
    services = context.services
    catalog = services.catalog
    language, zone = patient.language, patient.timezone

    def staff_text(code: str, owed: int) -> str:
        key = "staff.reachable_again_sent" if owed else "staff.reachable_again"
        return catalog.text(catalog.default_language, key, code=code, count=owed)

    back = await roster.reachable_again(
        services.database,
        patient_id=patient.id,
        now=context.now,
        scheduler=services.scheduler,
        staff_chat=services.staff_chat,
        staff_text=staff_text,
        sent_late=lambda when: catalog.text(language, "care_team.sent_late", when=local_when(when, zone)),
        hold=_relink_hold(context),
    )
    if back is not None:
        services.outbox_wake.set()
        log.info("patient %s can be reached again; %d messages refused meanwhile are sent again", patient.id, back)
    patient.status = PatientStatus.ACTIVE


def _enrolled_already(context: DiaryContext) -> str:
    """What a patient who opens a link that is not for them (their own, used) is told: a discharged one,
    that their check-ins have ended, not that they are enrolled."""
    patient = context.patient
    assert patient is not None
    return context.text("discharged" if patient.status == PatientStatus.DISCHARGED else "invite.already_enrolled")


async def open_invite(update: Update, context: DiaryContext, token: str) -> None:
    """The consent screen for a usable invite token ('' when none was given); a wrong one is counted."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    services = context.services
    user_id, now = update.effective_user.id, context.now
    language = (
        context.patient.language
        if context.patient
        else services.catalog.language_for(update.effective_user.language_code)
    )
    if not token:
        text = context.staff_help() if context.staff_role else services.catalog.text(language, "stranger")
        await message.reply_text(text)
        return
    if await services.wrong_tokens.blocked(user_id, now):
        log.info("/start with an invite token refused: too many wrong tokens (update %s)", update.update_id)
        await message.reply_text(services.catalog.text(language, "invite.too_many"))
        return
    try:
        usable = await enrolment.usable_invite(
            services.database,
            token=token,
            now=now,
            telegram_user_id=user_id,
            after_decline=services.settings.invite_usable_after_decline,
            notices=_notices(context),
        )
    except enrolment.StaffAccount:  # a nurse checking the re-link she was sent: a good token, not counted
        await message.reply_text(services.catalog.text(language, "invite.staff_account"))
        return
    except enrolment.HeldHere:  # the re-link for their new phone, opened on the old one: a good token, not counted
        await message.reply_text(services.catalog.text(language, "invite.relink_held_here"))
        return
    if not usable:
        services.outbox_wake.set()  # staff may be told of a used link tried by another account
        await services.wrong_tokens.failed(user_id, now, update_id=update.update_id)
        text = (
            _enrolled_already(context)
            if context.patient is not None
            else services.catalog.text(language, "invite.invalid")
        )
        await message.reply_text(text)
        return
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    services.catalog.text(language, "consent.accept"), callback_data=consent_button(True, token)
                ),
                InlineKeyboardButton(
                    services.catalog.text(language, "consent.decline"), callback_data=consent_button(False, token)
                ),
            ]
        ]
    )
    text = services.catalog.text(language, "consent.text")
    if context.staff_role is not None and context.patient is None:
        # A nurse tapping the link she was sent, to check it, must not become the patient unawares.
        text = f"{services.catalog.text(language, 'consent.staff_note')}\n\n{text}"
    await message.reply_text(text, reply_markup=keyboard)


async def consent(update: Update, context: DiaryContext) -> None:
    """Accept enrols the patient (or re-links or readmits them); Decline stores nothing about them.
    The button carries the invite token, so it is checked, and counted when wrong, like a /start link."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None and update.effective_chat is not None
    services = context.services
    choice = parse_consent(query.data)
    if choice is None:  # PTB hands empty callback data to the first patterned handler
        await unknown(update, context)
        return
    accepted, token = choice
    user_id, now = update.effective_user.id, context.now
    language = (
        context.patient.language
        if context.patient
        else services.catalog.language_for(update.effective_user.language_code)
    )
    settings = services.settings
    staff_only = context.staff_role is not None and context.patient is None
    if not accepted and staff_only:  # a nurse who checked the link: it stays the patient's to decline
        await edit(query.edit_message_text(services.catalog.text(language, "consent.declined_staff")))
        await query.answer()
        return
    if not accepted:
        # The token is checked here too, so it is counted when wrong and not looked up once blocked.
        if token is not None and not await services.wrong_tokens.blocked(user_id, now):
            known = await enrolment.decline_invite(
                services.database,
                token=token,
                telegram_user_id=user_id,
                now=now,
                keep_usable=settings.invite_usable_after_decline,
            )
            if not known:
                await services.wrong_tokens.failed(user_id, now, update_id=update.update_id)
        key = "consent.declined_open" if settings.invite_usable_after_decline and token else "consent.declined"
        if context.patient is not None:  # a second consent screen, or a re-link's: their diary stays
            key = "consent.declined_enrolled"
            if context.patient.status == PatientStatus.DISCHARGED:  # their readmission declined: check-ins stay ended
                key = "consent.declined_discharged"
        await edit(query.edit_message_text(services.catalog.text(language, key)))
        await query.answer()
        return
    if token is None or await services.wrong_tokens.blocked(user_id, now):
        await edit(query.edit_message_text(services.catalog.text(language, "invite.too_many")))
        await query.answer()
        return
    try:
        patient = await enrolment.accept_invite(
            services.database,
            token=token,
            telegram_user_id=user_id,
            chat_id=update.effective_chat.id,
            now=now,
            default_times=settings.default_checkin_times,
            after_decline=settings.invite_usable_after_decline,
            notices=_notices(context),
        )
    except enrolment.StaffAccount:
        await edit(query.edit_message_text(services.catalog.text(language, "invite.staff_account")))
        await query.answer()
        return
    except enrolment.HeldHere:
        await edit(query.edit_message_text(services.catalog.text(language, "invite.relink_held_here")))
        await query.answer()
        return
    if patient is None:
        services.outbox_wake.set()  # staff may be told of a used link tried by another account
        await services.wrong_tokens.failed(user_id, now, update_id=update.update_id)
        text = (
            _enrolled_already(context)
            if context.patient is not None
            else services.catalog.text(language, "invite.invalid")
        )
        await edit(query.edit_message_text(text))
    elif patient.status == PatientStatus.DISCHARGED:  # their old consent screen, pressed again
        context.patient = patient
        await edit(query.edit_message_text(_enrolled_already(context)))
    else:
        context.patient = patient
        await back_again(context)  # their old consent screen, pressed after blocking the bot
        log.info("patient %s enrolled", patient.id)
        services.outbox_wake.set()  # a note to the account a re-link moved the record from
        await edit(query.edit_message_text(await _accepted(context)))
    # Answered last (here and in every button handler): the edit is visible when the spinner stops.
    await query.answer()


def _notices(context: DiaryContext) -> enrolment.MovedNotices:
    """What a link that moves a record, or a used link tried by another account, tells whom."""
    services = context.services
    catalog = services.catalog
    return enrolment.MovedNotices(
        to_old_account=lambda language: catalog.text(language, "invite.moved_away"),
        to_staff=lambda code: catalog.text(catalog.default_language, "staff.moved", code=code),
        staff_chat=services.staff_chat,
        used_by_another=lambda code: catalog.text(catalog.default_language, "staff.link_tried_again", code=code),
    )


async def _accepted(context: DiaryContext) -> str:
    """Enrolled: check-ins will come, or, when the record's check-ins are paused (a pause outlives a re-link, also
    one sent from the account the record left), until when they are paused and how to start them again."""
    patient = context.patient
    assert patient is not None and patient.id is not None
    paused = await context.services.scheduler.paused_until(patient_id=patient.id, now=context.now)
    if paused is None:
        return context.text("consent.accepted")
    if paused >= FOREVER:
        return context.text("consent.accepted_paused_indefinite")
    return context.text("consent.accepted_paused", date=local_when(paused, patient.timezone))


async def help_command(update: Update, context: DiaryContext) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(context.text("help") if context.patient else context.staff_help())


async def language_menu(update: Update, context: DiaryContext) -> None:
    assert update.effective_message is not None
    catalog = context.services.catalog
    buttons = [
        [InlineKeyboardButton(catalog.text(code, "language.name"), callback_data=language_button(code))]
        for code in catalog.languages
    ]
    await update.effective_message.reply_text(
        context.text("language_menu.prompt"), reply_markup=InlineKeyboardMarkup(buttons)
    )


async def language_chosen(update: Update, context: DiaryContext) -> None:
    query = update.callback_query
    assert query is not None and context.patient is not None and context.patient.id is not None
    code = parse_language(query.data)
    if code not in context.services.catalog.languages:
        await query.answer(context.text("checkin.closed"))
        return
    async with context.services.database.session() as session:
        await patients.set_language(session=session, patient_id=context.patient.id, language=code)
    context.patient.language = code
    await edit(query.edit_message_text(context.text("language_menu.changed")))
    await query.answer()


async def history_command(update: Update, context: DiaryContext) -> None:
    """/history: the last 30 days as a chart plus the patient's own numbers, nothing else."""
    assert update.effective_message is not None and context.patient is not None
    patient, services = context.patient, context.services
    assert patient.id is not None
    now = context.now
    # While a re-link's hold lasts, only what was answered on this account is shown (see _held).
    held = enrolment.held_until(patient, now=now, hold=_relink_hold(context))
    since = patient.moved_at if held is not None else None
    recent = await history.recent(services.database, patient_id=patient.id, now=now, since=since)
    entries = recent.entries
    until = context.text("history.held", until=local_when(held, patient.timezone)) if held is not None else ""
    if not any(e.answers for e in entries):
        await update.effective_message.reply_text("\n".join(filter(None, [context.text("history.empty"), until])))
        return
    # Rendering takes tens of milliseconds of CPU: keep it off the event loop.
    png = await asyncio.to_thread(
        history.chart_png,
        recent,
        text=context.text,
        daily=services.checkins.questionnaires.daily,
        timezone=patient.timezone,
        now=now,
    )
    figures = history.figures(entries)
    none = context.text("history.none")
    pain = figures.pain or (none, none, none)
    mood = figures.mood or (none, none, none)
    caption = context.text(
        "history.caption",
        count=figures.count,
        pain_min=pain[0],
        pain_max=pain[1],
        pain_last=pain[2],
        mood_min=mood[0],
        mood_max=mood[1],
        mood_last=mood[2],
    )
    caption = "\n".join(filter(None, [caption, until]))
    await update.effective_message.reply_photo(png, caption=caption, filename="diary.png")


def _relink_hold(context: DiaryContext) -> timedelta:
    return timedelta(hours=context.services.settings.relink_hold_hours)


async def _held(update: Update, context: DiaryContext) -> bool:
    """Whether the patient's export and erasure wait, as on an account a re-link has just moved the
    record to (enrolment.held_until); they are then told until when."""
    assert update.effective_message is not None and context.patient is not None
    patient = context.patient
    until = enrolment.held_until(patient, now=context.now, hold=_relink_hold(context))
    if until is None:
        return False
    log.info("export or erasure asked for by the account a re-link moved patient %s to: held", patient.id)
    await update.effective_message.reply_text(context.text("relink_hold", until=local_when(until, patient.timezone)))
    return True


async def export_command(update: Update, context: DiaryContext) -> None:
    """/export: the patient's own diary as a CSV document, in the format the clinic imports, and their
    questionnaire answers in a second one when there are any."""
    assert update.effective_message is not None and update.effective_user is not None and context.patient is not None
    services = context.services
    if await _held(update, context):
        return
    diary = await Export.open(
        services.database,
        code=context.patient.code,
        actor_id=update.effective_user.id,
        what="csv, by the patient (/export)",
        now=context.now,
    )
    table = io.StringIO()
    if not await diary.write_csv(table):
        await update.effective_message.reply_text(context.text("export.empty"))
        return
    log.info("patient %s exported their diary", context.patient.id)
    document = table.getvalue().encode("utf-8")
    await update.effective_message.reply_document(
        document, filename="diary.csv", caption=context.text("export.caption")
    )
    answers = io.StringIO()
    if await diary.write_questionnaires(answers, services.checkins.questionnaires):
        await update.effective_message.reply_document(
            answers.getvalue().encode("utf-8"),
            filename="questionnaires.csv",
            caption=context.text("export.questionnaires_caption"),
        )


async def delete_command(update: Update, context: DiaryContext) -> None:
    """/delete: asks first; nothing is erased until the patient presses Yes."""
    assert update.effective_message is not None and context.patient is not None
    patient_id = context.patient.id
    assert patient_id is not None
    if await _held(update, context):
        return
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(context.text("delete.yes"), callback_data=delete_button(True, patient_id)),
                InlineKeyboardButton(context.text("delete.no"), callback_data=delete_button(False, patient_id)),
            ]
        ]
    )
    await update.effective_message.reply_text(context.text("delete.confirm"), reply_markup=keyboard)


async def delete_chosen(update: Update, context: DiaryContext) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    assert context.patient is not None and context.patient.id is not None
    button = parse_delete(query.data)
    if button is None or not button.confirmed:
        await edit(query.edit_message_text(context.text("delete.kept")))
        await query.answer()
        return
    done = context.text("delete.done")  # in their language, before the language goes with the rest
    ask_again = context.text("delete.ask_again")
    catalog = context.services.catalog
    # A Yes from before names another record (one erased since: this account was invited again), or none
    # (sent before Yes named its record), or the record as it was before it moved away and back (held):
    # erasing cannot be undone, so it is asked again, about this one.
    erased = button.patient_id == context.patient.id and await erasure.erase(
        context.services.database,
        patient_id=context.patient.id,
        telegram_user_id=update.effective_user.id,
        now=context.now,
        staff_chat=context.services.staff_chat,
        staff_text=lambda code: catalog.text(catalog.default_language, "staff.erased_in_crisis", code=code),
        hold=_relink_hold(context),
        asked_at=query.message.date if query.message is not None else None,
        update_id=update.update_id,
    )
    if not erased:
        log.info("an erasure confirmed for another record was not carried out (update %s)", update.update_id)
        await edit(query.edit_message_text(ask_again))
        await query.answer()
        return
    context.services.outbox_wake.set()
    log.info("a patient erased their diary")
    context.patient = None
    await edit(query.edit_message_text(done))
    await query.answer()


async def erased_already(update: Update, context: DiaryContext) -> bool:
    """A Yes to /delete handled again after it erased the diary (the process stopped before it said so): the
    person, a stranger to the diary now, is told that it was done, in their Telegram app's language (theirs
    in the diary went with the rest), not asked for an invite. False for any other update."""
    query = update.callback_query
    button = parse_delete(query.data) if query is not None else None
    if query is None or button is None or not button.confirmed:
        return False
    if not await erasure.carried_out(context.services.database, update_id=update.update_id):
        return False
    catalog = context.services.catalog
    log.info("an erasure carried out before a stop is said to have been done (update %s)", update.update_id)
    await edit(query.edit_message_text(catalog.text(catalog.language_for(context.sender_language_code), "delete.done")))
    with contextlib.suppress(TelegramError):  # a press handled again after a restart may be too old to answer
        await query.answer()
    return True


async def unknown(update: Update, context: DiaryContext) -> None:
    """Anything we have no handler for (stickers, unknown commands, ...): a friendly pointer to /help."""
    if update.callback_query:
        await update.callback_query.answer(context.text("checkin.closed"))
    elif update.effective_message:
        await update.effective_message.reply_text(context.text("unknown"))
