"""Staff in the staff chat (or a direct chat): alert buttons, invites, the patient list, one patient's
recent diary, discharge and /infusion. The sender gate has already checked that the sender is staff.
Staff see clinic codes and numbers; every read of patient data is audited (bot/diary/roster.py)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from telegram import LinkPreviewOptions, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden

from bot.alerts.cycles import describe
from bot.alerts.desk import AlertView, StaffAction
from bot.care_team.text_limits import TEXT_LIMIT, split
from bot.delivery.outbox import refuses_the_kind
from bot.diary import enrolment, roster
from bot.diary.places import parse_country
from bot.diary.schedule_rules import InputError, is_times_word, join_spaced_times, parse_zone, shown
from bot.diary.scheduler import UnknownPatient
from bot.handlers.context import DiaryContext
from bot.records import report
from bot.views.callback_data import parse_alert
from bot.views.edits import edit
from bot.views.scores import score_lines
from storage.statuses import AlertStatus

log = logging.getLogger(__name__)

DONE = {StaffAction.ACKNOWLEDGE: "acknowledge", StaffAction.SNOOZE: "snooze", StaffAction.RESOLVE: "resolve"}


async def show(message: Message, context: DiaryContext, view: AlertView, *, stale: bool = False) -> None:
    """Make the pressed message show the alert as it is now (a card with a chart, or an escalation text); `stale`:
    with History and Reply only (the alert has a newer card)."""
    cards = context.services.cards
    now = context.now
    caption, keyboard = cards.caption(view, now=now), cards.keyboard(view, stale=stale)
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
    action, alert_id, opened_at, event_at = parsed
    now = context.now
    if action is StaffAction.HISTORY:
        if isinstance(query.message, Message):
            view = await services.desk.view_history(alert_id=alert_id, actor_id=update.effective_user.id, now=now)
            if view is not None:
                log.info("staff %s viewed the history of patient %s", update.effective_user.id, view.alert.patient_id)
                for part in services.cards.history_texts(view, now=now):
                    await query.message.reply_text(part)
        await query.answer()
        return
    user = update.effective_user
    pressed_on = (query.message.chat_id, query.message.message_id) if isinstance(query.message, Message) else None
    changed = await services.desk.act(
        alert_id=alert_id,
        action=action,
        by=user.id,
        name=user.full_name,
        now=now,
        opened_at=opened_at,
        event_at=event_at,
        pressed_on=pressed_on,
    )
    view = await services.desk.view(alert_id=alert_id, now=now)
    if changed is None and view is not None and opened_at not in (None, view.alert.opened_at):
        # An earlier card of an alert opened again since: its buttons go, the newest card acts.
        if isinstance(query.message, Message):
            await edit(query.message.edit_reply_markup(services.cards.keyboard(view, stale=True)))
        await query.answer(context.sender_text(update, "alerts.stale"))
        return
    if changed is None and view is not None and event_at not in (None, view.alert.event_at):
        # Pressed on the card as it read before a newer finding was written onto it (its update on its way): the
        # press covers what it showed, never what came since. The card shows it now; a press there acts. Unless
        # the card came anew since (desk.RESEND_AFTER): the old one in the staff chat loses its buttons, as an
        # earlier card of an alert opened again does, and is not made a second live card.
        if isinstance(query.message, Message):
            alert = view.alert
            card = (alert.card_chat_id, alert.card_message_id)
            older = query.message.chat_id == await services.staff_chat.current() and card != pressed_on
            if older:
                await edit(query.message.edit_reply_markup(services.cards.keyboard(view, stale=True)))
            else:
                await show(query.message, context, view)
        await query.answer(context.sender_text(update, "alerts.changed"))
        return
    if (
        changed is not None
        and view is not None
        and (view.alert.status == AlertStatus.OPEN or view.alert.opened_at != changed.opened_at)
    ):
        # Open again straight after the press moved it (a new episode in that moment): the alert has a new card,
        # which took this message's buttons. Shown as the alert now is, this message would be a second live card of
        # it, showing the new episode in place of what the press acted on: it shows that, and History and Reply.
        acted = replace(
            view, alert=changed, details=json.loads(changed.details), names={**view.names, user.id: user.full_name}
        )
        if isinstance(query.message, Message):
            await show(query.message, context, acted, stale=True)
    elif view is not None and isinstance(query.message, Message):
        await show(query.message, context, view)  # the staff chat's card, if pressed elsewhere: queued by act
    if changed is not None:
        services.outbox_wake.set()
        await query.answer(context.sender_text(update, f"alerts.done.{DONE[action]}"))
        return
    # Someone else was quicker (two pressing at once, or a card not yet updated): say what they did,
    # not just "closed", which a nurse could take for resolved when it was only acknowledged.
    done = services.cards.done_lines(view) if view is not None else []
    await query.answer(done[-1] if done else context.sender_text(update, "alerts.closed"))


# An infusion dated further back is taken for a mistyped year (2016 for 2026); a clinic loading older
# history does so with `import --infusions`, which reads dates from its file as they are.
OLDEST_INFUSION_YEARS = 5
MAX_INFUSION_KIND = 64  # the length of Infusion.kind
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")  # the one spelling the usage line shows; no 20261103


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _infusion_date(word: str, today: date) -> date:
    """The day an infusion was given: a real date, not after today, not implausibly long ago. A date in
    the future would make every card count negative days since it."""
    try:
        on = date.fromisoformat(word) if _ISO_DATE.fullmatch(word) else None
    except ValueError:  # 2026-02-30
        on = None
    if on is None:
        raise InputError("not_a_date", word=shown(word))
    if on > today:
        raise InputError("date_future", date=on.isoformat(), today=today.isoformat())
    if on < _years_before(today, OLDEST_INFUSION_YEARS):
        raise InputError("date_too_old", date=on.isoformat(), years=OLDEST_INFUSION_YEARS)
    return on


async def infusion_command(update: Update, context: DiaryContext) -> None:
    """/infusion P-0012 2026-11-03 [kind]. Replies go to whoever typed it, in their language."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    services = context.services
    args = context.args or []
    usage = context.sender_text(update, "staff.infusion_usage")
    if len(args) < 2:
        await message.reply_text(usage)
        return
    now = context.now
    # "Today" is the clinic's: staff record the day the clinic gave the infusion, wherever the server is.
    today = now.astimezone(ZoneInfo(services.settings.default_timezone)).date()
    code, kind = args[0], " ".join(args[2:])
    try:
        on = _infusion_date(args[1], today)
        if len(kind) > MAX_INFUSION_KIND:  # refused, not cut: the record would say something else
            raise InputError("kind_too_long", limit=MAX_INFUSION_KIND)
    except InputError as error:
        await message.reply_text(f"{context.sender_text(update, error.key, **error.values)}\n{usage}")
        return
    recorded = await services.desk.record_infusion(code=code, on=on, kind=kind, by=update.effective_user.id, now=now)
    if recorded is None:
        await message.reply_text(context.sender_text(update, "staff.unknown_patient", code=shown(code)))
        return
    log.info("staff %s recorded an infusion", update.effective_user.id)
    key = "staff.infusion_recorded" if recorded else "staff.infusion_exists"
    await message.reply_text(context.sender_text(update, key, code=code, date=on.isoformat()))


_COUNTRY = re.compile(r"[A-Z]{2}")  # in capitals: "es" is a language, "ES" a country
_LANGUAGE = re.compile(r"([a-z]{2})(-[A-Za-z]{2,4})?")  # a language code, served or not ("fr", "es-MX")


async def _reply(update: Update, text: str) -> None:
    """The whole text, in as many messages as Telegram's limit needs (a long list, notes in full)."""
    assert update.effective_message is not None
    for part in split(text, TEXT_LIMIT):
        await update.effective_message.reply_text(part)


# No preview of a link that signs someone in or makes them a patient: a preview shows it in the chat list.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def to_direct_chat(
    update: Update,
    context: DiaryContext,
    text: str,
    *,
    sent: str,
    closed: str,
    withdraw: Callable[[], Awaitable[object]] | None = None,
    **values: object,
) -> None:
    """A text whose link acts for its holder (a console sign-in, an invite): in the asker's own chat with
    the bot, never in a group, where whoever reads the group could use it first. Asked in the group, the
    group is told `sent`, or `closed` (both with `values`) when the bot cannot write to them (they never
    opened a chat with it, or blocked it); `withdraw` then first makes the link that went nowhere stop."""
    user, chat, message = update.effective_user, update.effective_chat, update.effective_message
    assert user is not None and chat is not None and message is not None
    if chat.type == ChatType.PRIVATE:
        await message.reply_text(text, link_preview_options=NO_PREVIEW)
        return
    try:
        await context.bot.send_message(user.id, text, link_preview_options=NO_PREVIEW)
    except (Forbidden, BadRequest):
        if withdraw is not None:
            await withdraw()
        await message.reply_text(context.sender_text(update, closed, **values))
        return
    await message.reply_text(context.sender_text(update, sent, **values))


def _code_argument(context: DiaryContext) -> str | None:
    args = context.args or []
    return args[0] if len(args) == 1 and enrolment.PATIENT_CODE.match(args[0]) else None


def _local(context: DiaryContext, at: datetime) -> str:
    return context.services.cards.when(at)


@dataclass(frozen=True)
class InviteWords:
    """What /invite was told: the patient's code, then their zone, language, country and times."""

    code: str
    zone: str
    language: str
    times: str  # '' for the clinic's default times
    country: str | None  # None: the zone's country


def invite_words(context: DiaryContext, args: list[str], own: enrolment.NewInvite | None = None) -> InviteWords:
    """/invite's words after the command: the code in the clinic's format, then a time zone, a language,
    a country (in capitals) and check-in times in any order, each at most once (a second zone would
    silently replace the first). An InputError names the first word that is wrong. Words not given are
    the clinic's defaults, or with `own` (a re-link) the patient's own zone, language and country (the
    country only while the zone stays)."""
    settings, languages = context.services.settings, context.services.catalog.languages
    code = enrolment.check_code(args[0], code_format=settings.patient_code_format)
    words = InviteWords(code, settings.default_timezone, settings.default_language, times="", country=None)
    if own is not None:
        words = replace(words, zone=own.timezone, language=own.language, country=own.country)
    given: dict[str, str] = {}  # field -> the word that set it
    for word in args[1:]:
        field, value = _invite_word(word, languages, times=given.get("times"))
        if field in given:
            raise InputError("twice", word=shown(word), first=shown(given[field]))
        given[field] = word
        words = replace(words, **{field: value})
    if "zone" in given and "country" not in given:
        words = replace(words, country=None)  # the new zone's country, not the one the patient left
    return words


def _invite_word(word: str, languages: list[str], *, times: str | None) -> tuple[str, str]:
    """Which InviteWords field one word sets, and to what. `times`: the times word already given."""
    tag = _LANGUAGE.fullmatch(word)
    if tag and tag.group(1) in languages:  # es-MX: the Spanish catalog
        return "language", tag.group(1)
    if tag:
        raise InputError("not_a_language", word=word, languages=", ".join(languages))
    if is_times_word(word) or word[:1].isdigit():
        if times is not None and is_times_word(word):
            join_spaced_times([times, word])  # '09:00 20:00': say to join them
        return "times", enrolment.check_times(word)
    if _COUNTRY.fullmatch(word):
        try:
            return "country", parse_country(word)
        except ValueError:
            raise InputError("not_a_country", word=word) from None
    return "zone", parse_zone(word)


async def invite_command(update: Update, context: DiaryContext) -> None:
    """/invite P-0012 [time zone] [language] [country] [09:00,20:00], the last four in any order.
    Replies go to whoever typed it, in their language; a refusal names the word, then the usage."""
    await _invite(update, context, relink=False)


async def relink_command(update: Update, context: DiaryContext) -> None:
    """/relink P-0012 [...]: the same words; whoever opens the link becomes the patient's account (a new
    phone, or readmission after discharge). Asked for explicitly, and audited, because it moves a record."""
    await _invite(update, context, relink=True)


async def _invite(update: Update, context: DiaryContext, *, relink: bool) -> None:
    assert update.effective_user is not None
    services, args = context.services, context.args or []
    settings = services.settings
    usage = context.sender_text(update, "staff.relink_usage" if relink else "staff.invite_usage")
    if not args:
        await _reply(update, usage)
        return
    try:
        own = None
        if relink:  # a new phone keeps the patient's zone, language and country unless staff name others
            code = enrolment.check_code(args[0], code_format=settings.patient_code_format)
            own = await enrolment.own_settings(services.database, code=code)
        words = invite_words(context, args, own)
    except InputError as error:
        await _reply(update, f"{context.sender_text(update, error.key, **error.values)}\n{usage}")
        return
    code = words.code
    now = context.now
    valid_for = timedelta(days=settings.invite_valid_days)
    try:
        token = await enrolment.create_invite(
            services.database,
            code=code,
            timezone=words.zone,
            language=words.language,
            checkin_times=words.times,
            now=now,
            valid_for=valid_for,
            actor_id=update.effective_user.id,
            country=words.country,
            relink=relink,
            update_id=update.update_id,
        )
    except enrolment.AlreadyEnrolled:
        await _reply(update, context.sender_text(update, "staff.invite_enrolled", code=code))
        return
    except enrolment.NotStaff:  # removed from staff while the link was being made: as the gate would say
        log.info("update %s: its sender was removed from staff before their link was made", update.update_id)
        await _reply(update, context.sender_text(update, "stranger"))
        return
    except enrolment.HandledBefore:  # its link may have gone before a crash, or never: its token is not kept
        log.info("update %s made its invite before a restart; no second link", update.update_id)
        command = "/relink" if relink else "/invite"
        await _reply(update, context.sender_text(update, "staff.invite_after_restart", code=code, command=command))
        return
    log.info("staff %s created %s", update.effective_user.id, "a re-link invite" if relink else "an invite")
    link = enrolment.deep_link(context.bot.username, token)
    expires = _local(context, now + valid_for)
    key = "staff.relink_link" if relink else "staff.invite_link"
    text = context.sender_text(update, key, code=code, expires=expires, link=link)
    # Whoever holds the link becomes the patient (for a re-link, with the record's history, which /export
    # hands them, and /delete erases, once RELINK_HOLD_HOURS have passed): never in the staff group, where
    # people who are not staff, or no longer, may read. A link that could not be sent is withdrawn.
    await to_direct_chat(
        update,
        context,
        text,
        sent="staff.invite_sent_to_direct_chat",
        closed="staff.invite_open_direct_chat",
        withdraw=partial(roster.revoke, services.database, code=code, actor_id=update.effective_user.id, now=now),
        code=code,
    )


async def invites_command(update: Update, context: DiaryContext) -> None:
    services = context.services
    t = partial(context.sender_text, update)  # replies to whoever asked, in their language
    found = await roster.open_invites(services.database, now=context.now)
    if not found:
        await _reply(update, t("staff.invites_none"))
        return
    lines = [t("staff.invite_line", code=code, expires=_local(context, expires)) for code, expires in found]
    await _reply(update, t("staff.invites", lines="\n".join(lines)))


async def revoke_command(update: Update, context: DiaryContext) -> None:
    assert update.effective_user is not None
    services = context.services
    t = partial(context.sender_text, update)  # replies to whoever asked, in their language
    code = _code_argument(context)
    if code is None:
        await _reply(update, t("staff.revoke_usage"))
        return
    try:
        revoked = await roster.revoke(services.database, code=code, actor_id=update.effective_user.id, now=context.now)
    except UnknownPatient:
        await _reply(update, t("staff.unknown_patient", code=code))
        return
    await _reply(update, t("staff.revoked" if revoked else "staff.revoke_none", code=code))


async def patients_command(update: Update, context: DiaryContext) -> None:
    assert update.effective_user is not None
    services = context.services
    t = partial(context.sender_text, update)  # replies to whoever asked, in their language
    found = await roster.overview(services.database, actor_id=update.effective_user.id, now=context.now)
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
    t = partial(context.sender_text, update)  # replies to whoever asked, in their language
    code = _code_argument(context)
    if code is None:
        await _reply(update, t("staff.patient_usage"))
        return
    now = context.now
    try:
        diary = await roster.recent(
            services.database,
            code=code,
            actor_id=update.effective_user.id,
            now=now,
            questionnaires=services.checkins.questionnaires.values(),
        )
    except UnknownPatient:
        await _reply(update, t("staff.unknown_patient", code=code))
        return
    log.info("staff %s viewed a patient's diary", update.effective_user.id)
    answered = any(e.answers for e in diary.entries)
    if not answered and not diary.answered:
        await _reply(update, t("staff.patient_empty", code=code))
        return
    status = t(f"staff.status.{diary.status}")
    text = t("staff.patient_days", code=code, status=status, lines=services.cards.diary_lines(diary.days))
    if diary.answered:
        lines = score_lines(t, diary.answered, ZoneInfo(diary.timezone))
        text += "\n\n" + t("staff.scores", lines="\n".join(lines[:6]))
    cycles = await services.desk.patient_cycles(patient_id=diary.patient_id, now=now)
    if cycles:
        text += "\n\n" + t("staff.cycles_of", lines="\n".join(describe(t, c) for c in reversed(cycles[-3:])))
    await _reply(update, text)
    if answered:
        png = await services.cards.record_chart(diary, now=now, cycles=cycles)
        await _attach(update, t, update.effective_message.reply_photo(png, filename="diary.png"))


async def cycles_command(update: Update, context: DiaryContext) -> None:
    """/cycles: every active patient's current infusion cycle, so the clinic can plan bookings."""
    assert update.effective_user is not None
    t = partial(context.sender_text, update)
    found = await context.services.desk.clinic_cycles(now=context.now, actor_id=update.effective_user.id)
    log.info("staff %s viewed the infusion cycles", update.effective_user.id)
    if not found:
        await _reply(update, t("staff.cycles_none"))
        return
    lines = [t("staff.cycle_line", code=code, cycle=describe(t, cycle)) for code, cycle in found]
    await _reply(update, t("staff.cycles", count=len(found), lines="\n".join(lines)))


async def discharge_command(update: Update, context: DiaryContext) -> None:
    assert update.effective_user is not None
    services = context.services
    t = partial(context.sender_text, update)  # replies to whoever asked, in their language
    code = _code_argument(context)
    if code is None:
        await _reply(update, t("staff.discharge_usage"))
        return
    try:
        done = await roster.discharge(services.database, code=code, actor_id=update.effective_user.id, now=context.now)
    except UnknownPatient:
        await _reply(update, t("staff.unknown_patient", code=code))
        return
    await _reply(update, t("staff.discharged" if done else "staff.already_discharged", code=code))


async def report_command(update: Update, context: DiaryContext) -> None:
    """/report P-0012 [days]: the visit report as a PDF, in the chat where it was asked for."""
    assert update.effective_user is not None and update.effective_message is not None
    services = context.services
    t = partial(context.sender_text, update)  # replies to whoever asked, in their language
    args = context.args or []
    code = args[0] if 1 <= len(args) <= 2 and enrolment.PATIENT_CODE.match(args[0]) else None
    days = _days(args[1]) if len(args) == 2 else report.DEFAULT_DAYS
    if code is None or days is None:
        usage = t("report.usage", low=report.MIN_DAYS, high=report.MAX_DAYS, default=report.DEFAULT_DAYS)
        await _reply(update, usage)
        return
    settings, now = services.settings, context.now
    clinic = partial(services.catalog.text, services.catalog.default_language)  # the report's language
    try:
        made = await report.make(
            services.database,
            services.desk,
            services.checkins.questionnaires,
            clinic,
            report.Asked(code, days, update.effective_user.id, now, settings.default_timezone, how="Telegram"),
        )
    except UnknownPatient:
        await _reply(update, t("staff.unknown_patient", code=code))
        return
    log.info("staff %s made a visit report", update.effective_user.id)
    sent = update.effective_message.reply_document(
        made.pdf, filename=report.filename(code, now, settings.default_timezone), caption=made.caption(clinic)
    )
    await _attach(update, t, sent)


async def _attach(update: Update, t: Callable[..., str], sending: Awaitable[Message]) -> None:
    """A chart or a report sent, or where the group's permissions leave out photos or files, a word saying so: the
    error handler says nothing in a group, and whoever asked would wait for nothing."""
    try:
        await sending
    except BadRequest as error:
        if not refuses_the_kind(error):
            raise
        await _reply(update, t("staff.attachment_not_allowed"))


def _days(word: str) -> int | None:
    try:
        return report.check_days(int(word)) if word.isdecimal() else None  # isdigit() passes "²", int() does not
    except report.BadDays:
        return None
