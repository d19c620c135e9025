"""Check-in use cases: start one, move through it by buttons, add the note. Every answer is stored at once."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.diary.questionnaire import Questionnaire
from storage import checkins, outbox
from storage.database import Database
from storage.models import CheckIn, Patient


class Action(enum.StrEnum):
    ANSWER = "a"
    SKIP = "s"
    BACK = "b"
    EDIT = "e"
    SKIP_TODAY = "t"
    SNOOZE = "z"


SNOOZE_FOR = timedelta(hours=1)


class Refusal(enum.Enum):
    CLOSED = "closed"  # closed, someone else's, or unknown: the patient is told it is closed
    INVALID = "invalid"  # a value outside the item's scale: forged or stale data


@dataclass(frozen=True)
class CheckInState:
    """What the check-in message shows: the item being asked (None: the summary) and the answers so far."""

    id: int
    local_start: datetime
    step: str | None
    answers: dict[str, str]
    chat_id: int | None
    message_id: int | None


def state_of(checkin: CheckIn, answers: dict[str, str], timezone: str) -> CheckInState:
    assert checkin.id is not None
    return CheckInState(
        id=checkin.id,
        local_start=checkin.started_at.astimezone(ZoneInfo(timezone)),
        step=checkin.step,
        answers=answers,
        chat_id=checkin.chat_id,
        message_id=checkin.message_id,
    )


class CheckIns:
    def __init__(self, database: Database, questionnaire: Questionnaire, *, open_for: timedelta) -> None:
        self.database = database
        self.questionnaire = questionnaire
        self.open_for = open_for

    async def start(self, *, patient: Patient, slot: str, now: datetime) -> tuple[CheckInState, bool]:
        """Open the check-in for a slot (idempotent: the same slot returns the same check-in, created=False)."""
        assert patient.id is not None
        local_date = now.astimezone(ZoneInfo(patient.timezone)).date()
        async with self.database.session() as session:
            checkin, created = await checkins.create(
                session=session,
                patient_id=patient.id,
                questionnaire=self.questionnaire.id,
                local_date=local_date,
                slot=slot,
                started_at=now,
                closes_at=now + self.open_for,
                step=self.questionnaire.first,
                chat_id=patient.chat_id,
            )
            assert checkin.id is not None
            if created:
                await checkins.close_others(session=session, patient_id=patient.id, keep_id=checkin.id, now=now)
            answers = await checkins.answers(session=session, checkin_id=checkin.id)
        return state_of(checkin, answers, patient.timezone), created

    async def view(self, *, checkin_id: int, now: datetime) -> tuple[CheckInState, str] | None:
        """A scheduled check-in as it should be sent now, with the patient's language; None once closed."""
        async with self.database.session() as session:
            found = await checkins.with_patient(session=session, checkin_id=checkin_id)
            if found is None:
                return None
            checkin, patient = found
            if checkin.closes_at <= now or checkin.status != "open":
                return None
            assert checkin.id is not None
            answers = await checkins.answers(session=session, checkin_id=checkin.id)
        return state_of(checkin, answers, patient.timezone), patient.language

    async def attach_message(self, *, checkin_id: int, chat_id: int, message_id: int) -> None:
        async with self.database.session() as session:
            await checkins.set_message(session=session, checkin_id=checkin_id, chat_id=chat_id, message_id=message_id)

    def _next_step(self, action: Action, item_id: str) -> str | None:
        """Where a press leads depends only on the button, never on a state read first."""
        if action is Action.EDIT:
            return self.questionnaire.first
        if action is Action.BACK:
            return self.questionnaire.before(item_id)
        return self.questionnaire.after(item_id)

    async def act(
        self, *, patient: Patient, checkin_id: int, action: Action, item_id: str, value: str, now: datetime
    ) -> CheckInState | Refusal:
        """Apply one button press. The check-in must be the presser's, still open, the value in scale."""
        assert patient.id is not None
        item = self.questionnaire.item(item_id) if item_id else None
        if action is not Action.EDIT and item is None:
            return Refusal.INVALID
        if action is Action.ANSWER and (item is None or not item.accepts(value)):
            return Refusal.INVALID
        async with self.database.session() as session:
            checkin = await checkins.move_to(
                session=session,
                checkin_id=checkin_id,
                patient_id=patient.id,
                step=self._next_step(action, item_id),
                now=now,
            )
            if checkin is None:
                return Refusal.CLOSED
            if action is Action.ANSWER:
                await checkins.upsert_answer(session=session, checkin_id=checkin_id, item=item_id, value=value, now=now)
            answers = await checkins.answers(session=session, checkin_id=checkin_id)
        return state_of(checkin, answers, patient.timezone)

    async def set_aside(self, *, patient: Patient, checkin_id: int, action: Action, now: datetime) -> bool:
        """Skip today (the check-in closes as skipped) or Snooze (it is sent again in an hour, once per
        check-in). False when the check-in is closed or not the presser's."""
        assert patient.id is not None and action in (Action.SKIP_TODAY, Action.SNOOZE)
        async with self.database.session() as session:
            if action is Action.SKIP_TODAY:
                return await checkins.skip(session=session, checkin_id=checkin_id, patient_id=patient.id, now=now)
            checkin = await checkins.snooze(session=session, checkin_id=checkin_id, patient_id=patient.id, now=now)
            if checkin is None:
                # Snoozed before (a second press, or a replayed one): it is sent again once, not twice.
                return await checkins.snoozed(session=session, checkin_id=checkin_id, patient_id=patient.id, now=now)
            if checkin.chat_id is None:
                return False
            await outbox.enqueue(
                session=session,
                kind="checkin",
                chat_id=checkin.chat_id,
                checkin_id=checkin_id,
                now=now,
                not_before=now + SNOOZE_FOR,
            )
        return True
