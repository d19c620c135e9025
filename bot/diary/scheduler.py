"""Scheduled check-ins: setting a patient's schedule, and the dispatcher that turns due slots into
check-ins and outbox rows. No Telegram here: the outbox sender delivers what this writes.

A check-in that nobody answered before it closed (the next check-in or `open_for` later) counts as
missed; one whose slot passed more than `grace` ago while the bot was down is stored as missed and
never sent, so a restart does not flood patients with stale check-ins (the alert rules do not count a
check-in never sent as the patient's silence: storage/checkins.py, diary_since). The one exception is
each patient's newest slot: while it would still be open, and outside their quiet hours, it is sent
late, so that a few hours down at 09:00 do not cost a whole day's check-in. One, never a burst.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.diary.questionnaire import Questionnaire
from bot.diary.schedule_rules import (
    Rule,
    Slot,
    format_days,
    format_times,
    in_quiet_hours,
    next_slot,
    parse_days,
    parse_quiet_hours,
    parse_times,
    upcoming,
)
from storage import audit, checkins, outbox, patients, schedules
from storage.database import Database
from storage.models import Patient, Schedule
from storage.schedules import Due
from storage.statuses import CheckInStatus, PatientStatus

log = logging.getLogger(__name__)


# An open-ended pause is stored as a pause until a date no schedule reaches.
FOREVER = datetime(9999, 1, 1, tzinfo=UTC)


class UnknownPatient(LookupError):
    """No patient has this clinic code (scheduling, the roster and exports all raise it)."""


def rule_of(schedule: Schedule) -> Rule:
    return Rule(parse_times(schedule.times), parse_days(schedule.days), schedule.timezone)


@dataclass(frozen=True)
class Dispatched:
    sent: int = 0  # check-ins created and queued for sending
    missed: int = 0  # slots too far in the past: stored as missed, not sent
    paused: int = 0  # slots inside a patient's pause


class Scheduler:
    def __init__(
        self,
        database: Database,
        *,
        questionnaire_id: str,
        first_item: str,
        open_for: timedelta,
        grace: timedelta,
        quiet: tuple[time, time] | None = None,
    ) -> None:
        self.database = database
        self.questionnaire_id = questionnaire_id
        self.first_item = first_item
        self.open_for = open_for
        self.grace = grace
        self.quiet = quiet  # the clinic's quiet hours: no check-in is sent late inside them

    @classmethod
    def for_settings(cls, database: Database, settings: Settings, questionnaire: Questionnaire) -> Scheduler:
        return cls(
            database,
            questionnaire_id=questionnaire.id,
            first_item=questionnaire.first,
            open_for=timedelta(hours=settings.checkin_open_hours),
            grace=timedelta(minutes=settings.send_grace_minutes),
            quiet=parse_quiet_hours(settings.quiet_hours) if settings.quiet_hours else None,
        )

    async def set_schedule(
        self, *, code: str, rule: Rule, now: datetime, actor_id: int | None, quiet_hours: str | None = None
    ) -> list[Slot]:
        """Replace the patient's schedule (and their quiet hours, if given), audited as `actor_id`'s in the
        same transaction (None: the command line); returns the next five slots. The running bot's tick
        reads the new next slot from the database: nothing else needs telling."""
        first = next_slot(rule, after=None, previous_fire=None, now=now)
        async with self.database.session() as session:
            patient = await patients.by_code(session=session, code=code)
            if patient is None or patient.id is None:
                raise UnknownPatient(code)
            active = patient.status in (PatientStatus.ACTIVE, PatientStatus.INVITED)
            await schedules.put(
                session=session,
                patient_id=patient.id,
                times=format_times(rule.times),
                days=format_days(rule.days),
                timezone=rule.timezone,
                next_local_date=first.local_date if active else None,
                next_slot=first.name if active else None,
                next_due_at=first.fire_at if active else None,
            )
            await schedules.set_quiet_hours(session=session, patient_id=patient.id, quiet_hours=quiet_hours)
            patient.timezone = rule.timezone
            detail = rule.describe() + (f" quiet {quiet_hours}" if quiet_hours else "")
            await audit.record(
                session=session, actor_id=actor_id, action="schedule", patient_code=code, detail=detail, now=now
            )
        return upcoming(rule, now=now, count=5)

    async def show(
        self, *, code: str, now: datetime, viewer: int | None = None
    ) -> tuple[Rule, str | None, list[Slot]] | None:
        """The rule, the patient's own quiet hours (None: the clinic's) and the next five slots. With a
        `viewer`, the read is audited as theirs in the same transaction (the console's schedule page)."""
        async with self.database.session() as session:
            patient = await patients.by_code(session=session, code=code)
            if patient is None or patient.id is None:
                raise UnknownPatient(code)
            schedule = await schedules.get(session=session, patient_id=patient.id)
            if viewer is not None:
                await audit.record(
                    session=session, actor_id=viewer, action="view_schedule", patient_code=patient.code, now=now
                )
        if schedule is None:
            return None
        rule = rule_of(schedule)
        return rule, schedule.quiet_hours, upcoming(rule, now=now, count=5)

    async def pause(self, *, patient_id: int, days: int | None, now: datetime) -> datetime | None:
        """No check-ins for `days` (None: until /resume). Returns when the pause ends."""
        until = now + timedelta(days=days) if days else FOREVER
        async with self.database.session() as session:
            await schedules.set_paused_until(session=session, patient_id=patient_id, until=until)
        return until if days else None

    async def paused_until(self, *, patient_id: int, now: datetime) -> datetime | None:
        """Until when the patient's check-ins are paused (FOREVER: until /resume); None when they are not."""
        async with self.database.session() as session:
            schedule = await schedules.get(session=session, patient_id=patient_id)
        paused = schedule.paused_until if schedule is not None else None
        return paused if paused is not None and paused > now else None

    async def resume(self, *, patient_id: int, now: datetime) -> Slot | None:
        """Check-ins again from the next slot after now (paused slots are not sent late)."""
        slot, _ = await self._restart(patient_id=patient_id, now=now, timezone=None)
        return slot

    async def set_timezone(self, *, patient_id: int, timezone: str, now: datetime) -> tuple[Slot | None, bool]:
        """The patient's check-ins in their new zone, their pause kept (a zone set on arriving from a trip
        does not start check-ins they paused for it): the next slot that will be sent, and whether they
        are paused until /resume (then no slot is named)."""
        return await self._restart(patient_id=patient_id, now=now, timezone=timezone)

    async def resume_in(self, session: AsyncSession, *, patient_id: int, now: datetime) -> None:
        """Check-ins again from the next slot, in the caller's transaction (a patient back after blocking the
        bot: bot/diary/roster.py). A /pause still running is kept, as a new time zone keeps it: blocking and
        unblocking the bot is not asking for check-ins back."""
        await self._restart_in(session, patient_id=patient_id, now=now, timezone=None, keep_pause=True)

    async def _restart(self, *, patient_id: int, now: datetime, timezone: str | None) -> tuple[Slot | None, bool]:
        async with self.database.session() as session:
            return await self._restart_in(session, patient_id=patient_id, now=now, timezone=timezone)

    async def _restart_in(
        self,
        session: AsyncSession,
        *,
        patient_id: int,
        now: datetime,
        timezone: str | None,
        keep_pause: bool = False,
    ) -> tuple[Slot | None, bool]:
        """From the next slot after now; /resume (no `timezone`) ends a pause, a new zone or `keep_pause`
        keeps it."""
        schedule = await schedules.get(session=session, patient_id=patient_id)
        patient = await session.get(Patient, patient_id)
        if schedule is None or patient is None:
            return None, False
        if timezone is not None:
            patient.timezone = schedule.timezone = timezone
        patient.status = PatientStatus.ACTIVE
        keep_pause = keep_pause or timezone is not None
        paused = schedule.paused_until if keep_pause and schedule.paused_until is not None else None
        paused = paused if paused is not None and paused > now else None
        start = paused if paused is not None and paused < FOREVER else now
        first = next_slot(rule_of(schedule), after=None, previous_fire=None, now=start)
        await schedules.put(
            session=session,
            patient_id=patient_id,
            times=schedule.times,
            days=schedule.days,
            timezone=schedule.timezone,
            next_local_date=first.local_date,
            next_slot=first.name,
            next_due_at=first.fire_at,
        )
        await schedules.set_paused_until(session=session, patient_id=patient_id, until=paused)
        if paused == FOREVER:
            return None, True
        return first, False

    async def earliest_due(self) -> datetime | None:
        async with self.database.session() as session:
            return await schedules.earliest_due(session=session)

    async def dispatch_reminders(
        self, *, now: datetime, after: timedelta, quiet: tuple[time, time] | None, batch: int = 500
    ) -> int:
        """One reminder for a check-in nobody has touched `after` it was sent, outside quiet hours
        (the patient's own, or `quiet`, the clinic's)."""
        async with self.database.session() as session:
            waiting = await checkins.needing_reminder(
                session=session, questionnaire=self.questionnaire_id, started_before=now - after, now=now, limit=batch
            )
            due = [
                (cid, chat)
                for cid, chat, zone, own in waiting
                if not in_quiet_hours(now, ZoneInfo(zone), parse_quiet_hours(own) if own else quiet)
            ]
            # Claimed before queued: another process may have found the same check-ins at the same moment.
            claimed = await checkins.claim_reminders(session=session, checkin_ids=[cid for cid, _ in due], now=now)
            due = [(cid, chat) for cid, chat in due if cid in claimed]
            for checkin_id, chat_id in due:
                await outbox.enqueue(session=session, kind="reminder", chat_id=chat_id, checkin_id=checkin_id, now=now)
        return len(due)

    async def dispatch_due(self, *, now: datetime, batch: int = 500) -> Dispatched:
        """Create the check-ins of every due slot. Each batch is one transaction of a few set-wise
        statements, so a 09:00 wave of thousands is written in seconds and the sender, which shares
        SQLite's one connection, is never kept waiting long."""
        async with self.database.session() as session:
            await checkins.mark_missed(session=session, now=now)
        total = Dispatched()
        while True:
            async with self.database.session() as session:
                due = await schedules.claim_due(session=session, now=now, limit=batch)
                if not due:  # (a slot long past may have moved to another that is due too: loop)
                    break
                done = await self._dispatch_batch(session, due, now)
            total = Dispatched(total.sent + done.sent, total.missed + done.missed, total.paused + done.paused)
        if total.sent or total.missed:
            log.info("dispatched %d check-ins (%d missed, %d paused)", total.sent, total.missed, total.paused)
        return total

    def _catch_up(self, schedule: Schedule, following: Slot, now: datetime) -> bool:
        """A slot past the grace is still sent when it is the patient's newest (the next is not due yet),
        it would still be open, and it is not their night (their own quiet hours, or the clinic's)."""
        assert schedule.next_due_at is not None
        own = parse_quiet_hours(schedule.quiet_hours) if schedule.quiet_hours else self.quiet
        return (
            following.fire_at > now
            and now < schedule.next_due_at + self.open_for
            and not in_quiet_hours(now, ZoneInfo(schedule.timezone), own)
        )

    async def _dispatch_batch(self, session: AsyncSession, due: list[Due], now: datetime) -> Dispatched:
        rules: dict[tuple[str, str, str], Rule] = {}
        advances: list[tuple[int, date, str, datetime]] = []
        new_checkins: list[dict[str, object]] = []
        chats: dict[int, int | None] = {}
        paused = 0
        for item in due:
            schedule = item.schedule
            assert schedule.next_local_date and schedule.next_slot and schedule.next_due_at
            key = (schedule.times, schedule.days, schedule.timezone)
            if key not in rules:  # many patients share a schedule: parse each once per batch
                rules[key] = rule_of(schedule)
            rule = rules[key]
            following = next_slot(
                rule,
                after=(schedule.next_local_date, parse_times(schedule.next_slot)[0]),
                previous_fire=schedule.next_due_at,
                now=now,
            )
            advances.append((schedule.patient_id, following.local_date, following.name, following.fire_at))
            if schedule.paused_until is not None and schedule.paused_until > schedule.next_due_at:
                paused += 1
                continue
            late = now - schedule.next_due_at > self.grace and not self._catch_up(schedule, following, now)
            reachable = item.status == PatientStatus.ACTIVE and item.chat_id is not None
            chats[schedule.patient_id] = item.chat_id
            new_checkins.append(
                {
                    "patient_id": schedule.patient_id,
                    "questionnaire": self.questionnaire_id,
                    "local_date": schedule.next_local_date,
                    "slot": schedule.next_slot,
                    "started_at": now,
                    "closes_at": min(now + self.open_for, max(following.fire_at, now)),
                    "step": self.first_item,
                    "chat_id": item.chat_id,
                    "status": CheckInStatus.OPEN if reachable and not late else CheckInStatus.MISSED,
                }
            )
        await schedules.advance_many(session=session, slots=advances)
        # A replayed tick finds its slots' check-ins already there: they are not created or queued again.
        created = await checkins.create_many(session=session, rows=new_checkins)
        to_send = {patient_id: checkin_id for checkin_id, patient_id, status in created if status == CheckInStatus.OPEN}
        await checkins.close_earlier(session=session, keep=to_send, questionnaire=self.questionnaire_id, now=now)
        await outbox.enqueue_many(
            session=session,
            kind="checkin",
            now=now,
            messages=[(chat, checkin_id) for patient_id, checkin_id in to_send.items() if (chat := chats[patient_id])],
        )
        return Dispatched(len(to_send), len(created) - len(to_send), paused)
