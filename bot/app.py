"""The one place that wires the application: services and handlers (who may use them: bot/access.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.alerts import crisis_cache
from bot.alerts.crisis import CrisisLanguage
from bot.alerts.crisis_texts import CrisisTexts
from bot.alerts.desk import AlertDesk
from bot.care_team.intake import Intake
from bot.care_team.replies import Replies
from bot.care_team.staff_chat import StaffChat
from bot.config import Settings
from bot.delivery.rate_limit import FloodLimiter
from bot.delivery.telegram_http import AiohttpRequest
from bot.diary.checkins import CheckIns
from bot.diary.enrolment import WrongTokens
from bot.diary.questionnaire import Questionnaires
from bot.diary.scheduler import Scheduler
from bot.handlers import (
    admin,
    checkin,
    console,
    errors,
    gate,
    membership,
    messages,
    patient,
    patient_messages,
    pause_timezone,
    staff,
    staff_replies,
    staffchat,
)
from bot.handlers.context import DiaryContext
from bot.prompts import Catalog
from bot.services import Services
from bot.views import callback_data
from bot.views.alert_card import CardRenderer
from storage.database import Database

DiaryApplication = Application[Any, DiaryContext, Any, Any, Any, Any]


def utc_now() -> datetime:
    return datetime.now(UTC)


@cache
def crisis_language() -> CrisisLanguage:
    """The crisis patterns take a second to compile: once per process (they are files that do not change
    while the bot runs), and once for all processes while neither they nor the compiler change."""
    return crisis_cache.load()


def build_application(
    settings: Settings, database: Database, *, clock: Callable[[], datetime] = utc_now
) -> DiaryApplication:
    if not settings.token:
        raise ValueError("TELEGRAM_BOT_TOKEN is needed to build the application")
    catalog = Catalog.load(settings.default_language)
    questionnaires = Questionnaires.load()
    questionnaire = questionnaires.daily
    open_for = timedelta(hours=settings.checkin_open_hours)
    desk = AlertDesk.for_settings(database, settings, catalog, questionnaires)
    intake = Intake(
        database,
        questionnaire=questionnaire,
        catalog=catalog,
        crisis_language=crisis_language(),
        crisis_texts=CrisisTexts.load(settings.crisis_texts_dir),
        desk=desk,
        staff_chat_id=settings.staff_chat_id,
        questionnaires=questionnaires,
    )
    services = Services(
        settings=settings,
        database=database,
        catalog=catalog,
        checkins=CheckIns(
            database,
            questionnaires,
            open_for=open_for,
            cadences=settings.instrument_cadences,
            on_crisis_answer=intake.crisis_answer,
        ),
        scheduler=Scheduler.for_settings(database, settings, questionnaire),
        desk=desk,
        cards=CardRenderer(catalog, questionnaires, clinic_timezone=settings.default_timezone),
        intake=intake,
        replies=Replies(
            database,
            catalog=catalog,
            desk=desk,
            staff_names=settings.staff_names_to_patients,
            screening=intake.screening,
        ),
        limiter=FloodLimiter(
            overall_per_second=settings.messages_per_second,
            chat_per_second=settings.chat_messages_per_second,
            group_per_minute=settings.group_messages_per_minute,
        ),
        wrong_tokens=WrongTokens(database),
        staff_chat=StaffChat(database, configured=settings.staff_chat_id),
        clock=clock,
        outbox_wake=asyncio.Event(),
    )
    application: DiaryApplication = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.bot_api_url)
        .base_file_url(f"{settings.telegram_api_base_url}/file/bot")
        .context_types(ContextTypes(context=DiaryContext))
        # In a group an answer quotes the message it answers (a staff member's reply, the message Reply was pressed
        # on): deleted meanwhile, Telegram would refuse the answer, and "your reply is on its way" or the prompt
        # to reply to would be lost. It goes without the quote.
        .defaults(Defaults(allow_sending_without_reply=True))
        # Updates come from our durable inbox (bot/delivery/inbox.py), not PTB's updater.
        .updater(None)
        .request(AiohttpRequest(pool_size=128))
        .rate_limiter(services.limiter)
        .get_updates_request(AiohttpRequest(pool_size=1))
        .build()
    )
    application.bot_data["services"] = services

    # Before anything else: a group turned supergroup (a new chat id) is not a stranger's group to leave.
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, staffchat.chat_migrated), group=-2)
    # Group -1 runs first for every update: it identifies the sender and stops strangers.
    application.add_handler(TypeHandler(Update, gate.identify_sender), group=-1)

    application.add_handler(CommandHandler("start", patient.start))
    application.add_handler(CommandHandler("help", patient.help_command))
    application.add_handler(CommandHandler("language", patient.language_menu))
    application.add_handler(CommandHandler("history", patient.history_command))
    application.add_handler(CommandHandler("checkin", checkin.checkin_command))
    application.add_handler(CommandHandler("callme", patient_messages.callme_command))
    application.add_handler(CommandHandler("schedule", admin.schedule_command))
    application.add_handler(CommandHandler("questionnaires", admin.questionnaires_command))
    application.add_handler(CommandHandler("pause", pause_timezone.pause_command))
    application.add_handler(CommandHandler("resume", pause_timezone.resume_command))
    application.add_handler(CommandHandler("timezone", pause_timezone.timezone_command))
    application.add_handler(CommandHandler("export", patient.export_command))
    application.add_handler(CommandHandler("delete", patient.delete_command))
    application.add_handler(CommandHandler("infusion", staff.infusion_command))
    application.add_handler(CommandHandler("invite", staff.invite_command))
    application.add_handler(CommandHandler("relink", staff.relink_command))
    application.add_handler(CommandHandler("invites", staff.invites_command))
    application.add_handler(CommandHandler("revoke", staff.revoke_command))
    application.add_handler(CommandHandler("patients", staff.patients_command))
    application.add_handler(CommandHandler("cycles", staff.cycles_command))
    application.add_handler(CommandHandler("console", console.console_command))
    application.add_handler(CommandHandler("patient", staff.patient_command))
    application.add_handler(CommandHandler("report", staff.report_command))
    application.add_handler(CommandHandler("discharge", staff.discharge_command))
    application.add_handler(CommandHandler("staff", admin.staff_command))
    application.add_handler(CommandHandler("staffchat", staffchat.staffchat_command))
    # Button data comes from the client: each handler takes only data its parser accepts.
    application.add_handler(CallbackQueryHandler(patient.consent, pattern=callback_data.is_consent))
    application.add_handler(CallbackQueryHandler(checkin.checkin_button, pattern=callback_data.is_checkin))
    application.add_handler(CallbackQueryHandler(patient.language_chosen, pattern=callback_data.is_language))
    application.add_handler(CallbackQueryHandler(pause_timezone.timezone_chosen, pattern=callback_data.is_timezone))
    application.add_handler(CallbackQueryHandler(patient.delete_chosen, pattern=callback_data.is_delete))
    application.add_handler(CallbackQueryHandler(staff.alert_button, pattern=callback_data.is_alert))
    application.add_handler(CallbackQueryHandler(patient_messages.contact_me, pattern=callback_data.is_contact_me))
    application.add_handler(CallbackQueryHandler(staff_replies.reply_button, pattern=callback_data.is_reply))
    application.add_handler(CallbackQueryHandler(staff_replies.seen_button, pattern=callback_data.is_seen))
    # Whatever people write or send that is not a command: patients' words and media, staff replies.
    application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & ~filters.COMMAND, messages.on_edit))
    # A patient's service message that holds words they wrote (an answer added to their poll, tasks to their
    # checklist, a topic of their chat named) is theirs too; the rest of the service messages (a group's new
    # members...) are no one's words.
    worded = filters.ChatType.PRIVATE & (
        filters.StatusUpdate.POLL_OPTION_ADDED
        | filters.StatusUpdate.CHECKLIST_TASKS_ADDED
        | filters.StatusUpdate.FORUM_TOPIC_CREATED
        | filters.StatusUpdate.FORUM_TOPIC_EDITED
    )
    application.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & ~filters.COMMAND & (~filters.StatusUpdate.ALL | worded), messages.on_message
        )
    )
    application.add_handler(ChatMemberHandler(membership.changed, ChatMemberHandler.MY_CHAT_MEMBER))
    # Unknown commands and forged button data get a friendly pointer to /help; anything else is logged.
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND, patient.unknown))
    application.add_handler(CallbackQueryHandler(patient.unknown))
    application.add_handler(TypeHandler(Update, messages.not_handled))

    application.add_error_handler(errors.on_error)
    return application
