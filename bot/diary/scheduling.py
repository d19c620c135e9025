"""Scheduled check-ins: setting a patient's schedule, and the dispatcher that turns due slots into
check-ins and outbox rows. No Telegram here: the outbox sender delivers what this writes.

A check-in that nobody answered before it closed (the next check-in or `open_for` later) counts as
missed; one whose slot passed more than `grace` ago while the bot was down is stored as missed and
never sent, so a restart does not flood patients with stale check-ins.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.diary.questionnaire import Questionnaire
from bot.diary.schedule import (
    Rule,
    Slot,
    format_days,
    format_times,
    in_quiet_hours,
    next_slot,
    parse_days,
    parse_times,
    upcoming,
)
from storage import checkins, outbox, patients, schedules
from storage.database import Database
from storage.models import Patient, Schedule
from storage.schedules import Due

log = logging.getLogger(__name__)


# An open-ended pause is stored as a pause until a date no schedule reaches.
FOREVER = datetime(9999, 1, 1, tzinfo=UTC)


class UnknownPatient(LookupError):
    pass


def rule_of(schedule: Schedule) -> Rule:
    return Rule(parse_times(schedule.times), parse_days(schedule.days), schedule.timezone)


@dataclass(frozen=True)
class Dispatched:
    sent: int = 0  # check-ins created and queued for sending
    missed: int = 0  # slots too far in the past: stored as missed, not sent
    paused: int = 0  # slots inside a patient's pause


class Scheduler:
    def __init__(
        self, database: Database, *, questionnaire_id: str, first_item: str, open_for: timedelta, grace: timedelta
    ) -> None:
        self.database = database
        self.questionnaire_id = questionnaire_id
        self.first_item = first_item
        self.open_for = open_for
        self.grace = grace

    @classmethod
    def for_settings(cls, database: Database, settings: Settings, questionnaire: Questionnaire) -> Scheduler:
        return cls(
            database,
            questionnaire_id=questionnaire.id,
            first_item=questionnaire.first,
            open_for=timedelta(hours=settings.checkin_open_hours),
            grace=timedelta(minutes=settings.send_grace_minutes),
        )

    async def set_schedule(self, *, code: str, rule: Rule, now: datetime) -> list[Slot]:
        """Replace the patient's schedule; returns the next five slots."""
        first = next_slot(rule, after=None, previous_fire=None, now=now)
        async with self.database.session() as session:
            patient = await patients.by_code(session=session, code=code)
            if patient is None or patient.id is None:
                raise UnknownPatient(code)
            active = patient.status in ("active", "invited")
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
            patient.timezone = rule.timezone
        return upcoming(rule, now=now, count=5)

    async def show(self, *, code: str, now: datetime) -> tuple[Rule, list[Slot]] | None:
        async with self.database.session() as session:
            patient = await patients.by_code(session=session, code=code)
            if patient is None or patient.id is None:
                raise UnknownPatient(code)
            schedule = await schedules.get(session=session, patient_id=patient.id)
        if schedule is None:
            return None
        rule = rule_of(schedule)
        return rule, upcoming(rule, now=now, count=5)

    async def pause(self, *, patient_id: int, days: int | None, now: datetime) -> datetime | None:
        """No check-ins for `days` (None: until /resume). Returns when the pause ends."""
        until = now + timedelta(days=days) if days else FOREVER
        async with self.database.session() as session:
            await schedules.set_paused_until(session=session, patient_id=patient_id, until=until)
        return until if days else None

    async def resume(self, *, patient_id: int, now: datetime) -> Slot | None:
        """Check-ins again from the next slot after now (paused slots are not sent late)."""
        return await self._restart(patient_id=patient_id, now=now, timezone=None)

    async def set_timezone(self, *, patient_id: int, timezone: str, now: datetime) -> Slot | None:
        return await self._restart(patient_id=patient_id, now=now, timezone=timezone)

    async def _restart(self, *, patient_id: int, now: datetime, timezone: str | None) -> Slot | None:
        async with self.database.session() as session:
            schedule = await schedules.get(session=session, patient_id=patient_id)
            patient = await session.get(Patient, patient_id)
            if schedule is None or patient is None:
                return None
            if timezone is not None:
                patient.timezone = schedule.timezone = timezone
            patient.status = "active"
            first = next_slot(rule_of(schedule), after=None, previous_fire=None, now=now)
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
            await schedules.set_paused_until(session=session, patient_id=patient_id, until=None)
        return first

    async def earliest_due(self) -> datetime | None:
        async with self.database.session() as session:
            return await schedules.earliest_due(session=session)

    async def dispatch_reminders(
        self, *, now: datetime, after: timedelta, quiet: tuple[time, time] | None, batch: int = 500
    ) -> int:
        """One reminder for a check-in nobody has touched `after` it was sent, outside quiet hours."""
        async with self.database.session() as session:
            waiting = await checkins.needing_reminder(session=session, started_before=now - after, now=now, limit=batch)
            due = [(cid, chat) for cid, chat, zone in waiting if not in_quiet_hours(now, ZoneInfo(zone), quiet)]
            for checkin_id, chat_id in due:
                await outbox.enqueue(session=session, kind="reminder", chat_id=chat_id, checkin_id=checkin_id, now=now)
            await checkins.set_reminded(session=session, checkin_ids=[cid for cid, _ in due], now=now)
        return len(due)

    async def dispatch_due(self, *, now: datetime, batch: int = 500) -> Dispatched:
        """Create the check-ins of every due slot, in batches, each batch one transaction."""
        total = Dispatched()
        while True:
            async with self.database.session() as session:
                due = await schedules.claim_due(session=session, now=now, limit=batch)
                counts = [await self._dispatch_one(session, item, now) for item in due]
            total = Dispatched(
                total.sent + counts.count("sent"),
                total.missed + counts.count("missed"),
                total.paused + counts.count("paused"),
            )
            if not due:  # a slot long past may have moved to another slot that is due too
                break
        if total.sent or total.missed:
            log.info("dispatched %d check-ins (%d missed, %d paused)", total.sent, total.missed, total.paused)
        return total

    async def _dispatch_one(self, session: AsyncSession, due: Due, now: datetime) -> str:
        schedule = due.schedule
        assert schedule.next_local_date and schedule.next_slot and schedule.next_due_at
        rule = rule_of(schedule)
        slot_time = parse_times(schedule.next_slot)[0]
        following = next_slot(
            rule, after=(schedule.next_local_date, slot_time), previous_fire=schedule.next_due_at, now=now
        )
        await schedules.advance(
            session=session,
            patient_id=schedule.patient_id,
            next_local_date=following.local_date,
            next_slot=following.name,
            next_due_at=following.fire_at,
        )
        if schedule.paused_until is not None and schedule.paused_until > schedule.next_due_at:
            return "paused"
        late = now - schedule.next_due_at > self.grace
        reachable = due.status == "active" and due.chat_id is not None
        checkin, created = await checkins.create(
            session=session,
            patient_id=schedule.patient_id,
            questionnaire=self.questionnaire_id,
            local_date=schedule.next_local_date,
            slot=schedule.next_slot,
            started_at=now,
            closes_at=min(now + self.open_for, max(following.fire_at, now)),
            step=self.first_item,
            chat_id=due.chat_id,
            status="missed" if late or not reachable else "open",
        )
        if not created:  # a replayed tick: the slot's check-in exists and was queued then
            return "duplicate"
        if late or not reachable:
            return "missed"
        assert checkin.id is not None and due.chat_id is not None
        await checkins.close_others(session=session, patient_id=schedule.patient_id, keep_id=checkin.id, now=now)
        await outbox.enqueue(session=session, kind="checkin", chat_id=due.chat_id, checkin_id=checkin.id, now=now)
        return "sent"
