"""The daily digest: once a day after the clinic's digest time, the sweep over every active patient
(bot/alerts/desk.py), then one message to the staff chat with what needs a look: crisis messages first,
urgent alerts nobody acknowledged, waning relief, missed check-ins and the other digest-tier findings,
unreachable patients, what patients wrote, new questionnaire scores, alerts open for long and snoozes that
are over, with numbers. Queued in the outbox; in parts when quoted messages make it long."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.alerts import wording
from bot.alerts.cycles import describe
from bot.alerts.desk import HISTORY, AlertDesk
from bot.alerts.rules import Tier
from bot.care_team.text_limits import TEXT_LIMIT, split
from bot.diary.schedule_rules import parse_times, wall_clock_instant
from bot.diary.scores import answered_since, newest, scored
from storage import alerts, checkins, counters, outbox, patient_messages, patients
from storage.models import Alert, Priority
from storage.statuses import AlertStatus, PatientStatus

DIGEST_DAY = "digest_day"  # the counter that makes it once a day, whichever process gets there first
DIGEST_MINUTE = "digest_minute"  # when the last digest was composed, in minutes since 1970 (UTC)
RETRY_AFTER = timedelta(minutes=5)  # after a failed daily pass
DIGEST_TEXT = 160  # characters of each patient message quoted in the digest


def due(desk: AlertDesk, now: datetime) -> date | None:
    """The clinic's local date when today's digest time has passed, else None."""
    local = now.astimezone(desk.clinic_zone)
    (at,) = parse_times(desk.rules.digest.time)
    return local.date() if local.time() >= at else None


async def daily(desk: AlertDesk, *, now: datetime) -> bool:
    """Once a day after the digest time: the sweep, then the digest to the staff chat. The day is claimed
    in the transaction that queues the digest and closes what it lists (digest-tier alerts, messages
    marked digested): a crash before it commits leaves all of it to the next tick, never listed as sent."""
    today = due(desk, now)
    if today is None or (desk.digest_retry_at is not None and now < desk.digest_retry_at):
        return False
    async with desk.database.session() as session:
        last = await counters.value(session=session, name=DIGEST_DAY)
        minute = await counters.value(session=session, name=DIGEST_MINUTE)
    if last >= today.toordinal():
        return False  # sent today already
    try:
        return await _sweep_and_send(desk, now=now, today=today, since=_since_last(desk, last, minute, now))
    except Exception:
        # A failure that recurs (one patient's diary tripping a rule) would otherwise cost a sweep of every
        # patient at each tick: the day stays unclaimed, and the next try waits a while.
        desk.digest_retry_at = now + RETRY_AFTER
        raise


def _since_last(desk: AlertDesk, last: int, minute: int, now: datetime) -> datetime:
    """Since the last digest (a digest sent late, after the bot was down across its time, lists what
    came after the one before it), and at least the last day. The time it was composed, not the digest
    time of its day: a digest time moved later would otherwise skip what came in between."""
    day = now - timedelta(days=1)
    if minute > 0:
        return min(day, datetime.fromtimestamp(minute * 60, UTC))
    if last <= 0:
        return day
    (at,) = parse_times(desk.rules.digest.time)  # a digest sent before its time was recorded
    return min(day, wall_clock_instant(date.fromordinal(last), at, desk.clinic_zone))


async def _sweep_and_send(desk: AlertDesk, *, now: datetime, today: date, since: datetime) -> bool:
    await desk.sweep(now=now)
    async with desk.database.session() as session:
        if not await counters.claim_day(session=session, name=DIGEST_DAY, day=today.toordinal()):
            return False  # another process got there first
        await counters.set_value(session=session, name=DIGEST_MINUTE, value=int(now.timestamp()) // 60)
        text = await _compose(desk, session, now=now, today=today, since=since)
        if text is not None:
            chat_id = await desk.staff_chat.destination(session)
            for part in split(text, TEXT_LIMIT):  # quoted messages can make a long digest
                await outbox.enqueue(
                    session=session,
                    kind="staff",
                    chat_id=chat_id,
                    text=part,
                    priority=Priority.SCHEDULED,
                    now=now,
                )
    return True


async def _compose(
    desk: AlertDesk, session: AsyncSession, *, now: datetime, today: date, since: datetime
) -> str | None:
    """What needs a look, crisis messages first, with numbers; None when there is nothing to say.
    Digest-tier alerts of every rule are listed once (a crisis stays listed until resolved); relief
    waning stays listed until staff act on it, an urgent alert until someone acknowledges it, and a
    snoozed one whose snooze is over until someone resolves it: a finding is reported once per episode,
    so an episode that goes on past its snooze would otherwise never be mentioned again."""
    language = desk.catalog.default_language

    def t(key: str, **values: object) -> str:
        return desk.catalog.text(language, key, **values)

    open_hours = desk.rules.digest.open_longer_than_hours
    active = await alerts.active_with_codes(session=session, now=now)
    unreachable = await patients.codes_with_status(session=session, status=PatientStatus.UNREACHABLE)
    scores = await _new_scores(desk, session, since=since, now=now)
    messages = await patient_messages.undigested(session=session)
    waning = []
    for alert, code in active:
        if alert.status == AlertStatus.SNOOZED:
            continue  # listed below as a snooze that is over
        if alert.rule == "relief_waning":
            cycle = (await desk.cycles_of(session, patient_id=alert.patient_id, now=now))[-1:]
            waning.append(f"{code}: " + (describe(t, cycle[0]) if cycle else t("alerts.rule.relief_waning")))
        elif alert.tier == Tier.DIGEST.value and alert.rule != "crisis_text":
            assert alert.id is not None
            await alerts.resolve(session=session, alert_id=alert.id, by=None, now=now)
    await patient_messages.mark_digested(session=session, now=now)

    def found(alerts: list[tuple[Alert, str]]) -> str:
        """ "P-0012: Pain 7-8 since Tue 14 Nov (usual 4, last 28 days)", a line each."""
        return "\n".join(
            f"{code}: " + wording.finding(t, a.rule, json.loads(a.details), desk.clinic_zone) for a, code in alerts
        )

    snooze_over = [(a, code) for a, code in active if a.status == AlertStatus.SNOOZED]
    active = [(a, code) for a, code in active if a.status != AlertStatus.SNOOZED]
    crisis = [(a, code) for a, code in active if a.rule == "crisis_text"]
    others = [(a, code) for a, code in active if a.rule not in ("crisis_text", "relief_waning")]
    digest_tier = [(a, code) for a, code in others if a.tier == Tier.DIGEST.value]
    missed = [(a, code) for a, code in digest_tier if a.rule == "missed_checkins"]
    more = [(a, code) for a, code in digest_tier if a.rule != "missed_checkins"]
    urgent_open = {a.id for a, _ in others if a.tier == Tier.URGENT.value and a.status == AlertStatus.OPEN}
    waiting = [(a, code) for a, code in others if a.id in urgent_open]
    long_open = [
        (a, code)
        for a, code in others
        if a.tier != Tier.DIGEST.value and a.id not in urgent_open and a.opened_at < now - timedelta(hours=open_hours)
    ]
    lines = [t("digest.title", date=today.isoformat())]
    if crisis:
        opened = [f"{code} ({_local(desk, a.opened_at)})" for a, code in crisis]
        lines.append(t("digest.crisis", codes=", ".join(opened)))
    if waiting:
        lines.append(t("digest.unacknowledged", lines=found(waiting)))
    if waning:
        lines.append(t("digest.relief_waning", lines="\n".join(waning)))
    if missed:
        lines.append(t("digest.missed", lines=found(missed)))
    if more:
        lines.append(t("digest.findings", lines=found(more)))
    if unreachable:
        lines.append(t("digest.unreachable", codes=", ".join(unreachable)))
    for filed_as in ("message", "note"):  # a note typed at a check-in may need a look as much as a message
        quoted = [_message_line(t, code, kind, text) for code, filed, kind, text in messages if filed == filed_as]
        if quoted:
            lines.append(t(f"digest.{filed_as}s", lines="\n".join(quoted)))
    if scores:
        lines.append(t("digest.scores", scores=", ".join(scores)))
    if long_open:
        lines.append(t("digest.long_open", hours=open_hours, lines=found(long_open)))
    if snooze_over:
        lines.append(t("digest.snooze_over", lines=found(snooze_over)))
    return "\n".join(lines) if len(lines) > 1 else None


def _local(desk: AlertDesk, at: datetime) -> str:
    return at.astimezone(desk.clinic_zone).strftime("%d.%m %H:%M")


def _message_line(t: Callable[..., str], code: str, kind: str, text: str) -> str:
    """ "P-0001: “When is my next appointment?”", long texts cut (the staff chat has them whole)."""
    shown = text if len(text) <= DIGEST_TEXT else text[: DIGEST_TEXT - 1].rstrip() + "…"
    if not shown:
        return t("digest.message_media", code=code, kind=kind)
    return t("digest.message", code=code, text=shown)


async def _new_scores(desk: AlertDesk, session: AsyncSession, *, since: datetime, now: datetime) -> list[str]:
    """ "P-0012 PHQ-9 12 (before: 6)" for each questionnaire completed since `since`."""
    language = desk.catalog.default_language
    ids = [questionnaire.id for questionnaire in desk.scored]
    found = []
    for patient_id in await checkins.patients_completing(session=session, questionnaires=ids, since=since):
        patient = await patients.by_id(session=session, patient_id=patient_id)
        answered = await answered_since(session, desk.scored, patient_id=patient_id, since=now - HISTORY)
        for change in newest(scored(answered), since=since):
            values: dict[str, object] = {
                "code": patient.code if patient else "?",
                "name": desk.catalog.text(language, f"staff.instrument.{change.now.questionnaire}"),
                "total": f"{change.now.total:g}",
            }
            if change.before is None:
                found.append(desk.catalog.text(language, "digest.score_first", **values))
            else:
                found.append(desk.catalog.text(language, "digest.score", before=f"{change.before.total:g}", **values))
    return sorted(found)
