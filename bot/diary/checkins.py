"""Check-in use cases: start one, move through it by buttons, add the note, offer the questionnaires due,
step up from a positive screen. Every answer is stored at once."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.diary.cadences import effective
from bot.diary.questionnaire import Item, Questionnaire, Questionnaires, higher
from storage import cadences, checkins, outbox, patients, schedules
from storage.database import Database
from storage.models import CheckIn, Patient, Priority
from storage.statuses import CheckInStatus, PatientStatus


class Action(enum.StrEnum):
    ANSWER = "a"
    SKIP = "s"
    BACK = "b"
    EDIT = "e"
    SKIP_TODAY = "t"
    SNOOZE = "z"


SNOOZE_FOR = timedelta(hours=1)
# "Remind me this evening" for an offered questionnaire: at this local time.
EVENING = time(19, 0)

# What to do when an answer is a crisis answer (PHQ-9 item 9 above "not at all"): the same as for a
# crisis message (bot/care_team/intake.py), in the transaction that stores the answer.
# (session, patient, item, answer, now, the update that brought it)
CrisisAnswer = Callable[[AsyncSession, Patient, Item, str, datetime, int | None], Awaitable[None]]


class Refusal(enum.Enum):
    CLOSED = "closed"  # closed, someone else's, or unknown: the patient is told it is closed
    # Closed, but the press was a crisis answer (PHQ-9 item 9 above "not at all"), heard all the same: the
    # crisis text and an urgent card are owed.
    CLOSED_CRISIS_HEARD = "closed, its crisis answer heard"
    INVALID = "invalid"  # a value outside the item's scale: forged or stale data


@dataclass(frozen=True)
class CheckInState:
    """What the check-in message shows: the item being asked (None: the summary) and the answers so far."""

    id: int
    questionnaire: Questionnaire
    local_start: datetime
    step: str | None
    answers: dict[str, str]
    chat_id: int | None
    message_id: int | None
    snoozed: bool = False  # put off once already: it is not offered again


def state_of(checkin: CheckIn, answers: dict[str, str], timezone: str, questionnaire: Questionnaire) -> CheckInState:
    assert checkin.id is not None
    return CheckInState(
        id=checkin.id,
        questionnaire=questionnaire,
        local_start=checkin.started_at.astimezone(ZoneInfo(timezone)),
        step=checkin.step,
        answers=answers,
        chat_id=checkin.chat_id,
        message_id=checkin.message_id,
        snoozed=checkin.snoozed_at is not None,
    )


class CheckIns:
    def __init__(
        self,
        database: Database,
        questionnaires: Questionnaires,
        *,
        open_for: timedelta,
        cadences: Mapping[str, int] | None = None,
        on_crisis_answer: CrisisAnswer | None = None,
    ) -> None:
        self.database = database
        self.questionnaires = questionnaires
        self.questionnaire = questionnaires.daily
        self.open_for = open_for
        self.cadences = dict(cadences or {})  # the clinic's: questionnaire id -> days between offers
        self.on_crisis_answer = on_crisis_answer

    def state(self, checkin: CheckIn, answers: dict[str, str], timezone: str) -> CheckInState:
        return state_of(checkin, answers, timezone, self.questionnaires[checkin.questionnaire])

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
                await checkins.close_others(
                    session=session,
                    patient_id=patient.id,
                    keep_id=checkin.id,
                    questionnaire=checkin.questionnaire,
                    now=now,
                )
            answers = await checkins.answers(session=session, checkin_id=checkin.id)
        return self.state(checkin, answers, patient.timezone), created

    async def view(self, *, checkin_id: int, now: datetime) -> tuple[CheckInState, str] | None:
        """A scheduled check-in as it should be sent now, with the patient's language; None once closed,
        once at its summary (answered after a snooze, by typing or with the old buttons: nothing to ask), or
        when a snoozed one is due again while the patient's check-ins are paused (/pause asks for none from
        then on; the message already in their chat can still be answered)."""
        async with self.database.session() as session:
            found = await checkins.with_patient(session=session, checkin_id=checkin_id)
            if found is None:
                return None
            checkin, patient = found
            if checkin.closes_at <= now or checkin.status != CheckInStatus.OPEN or checkin.step is None:
                return None
            if checkin.snoozed_at is not None:
                schedule = await schedules.get(session=session, patient_id=checkin.patient_id)
                if schedule is not None and schedule.paused_until is not None and schedule.paused_until > now:
                    return None
            assert checkin.id is not None
            answers = await checkins.answers(session=session, checkin_id=checkin.id)
        return self.state(checkin, answers, patient.timezone), patient.language

    async def attach_message(self, *, checkin_id: int, chat_id: int, message_id: int) -> None:
        async with self.database.session() as session:
            await checkins.set_message(session=session, checkin_id=checkin_id, chat_id=chat_id, message_id=message_id)

    async def message_owed(self, *, checkin_id: int) -> bool:
        """Whether the outbox still owes the check-in's message (see `owe_message`)."""
        async with self.database.session() as session:
            return bool(await outbox.checkins_owed(session=session, checkin_ids=[checkin_id]))

    async def owe_message(self, *, checkin_id: int, chat_id: int, now: datetime, thread_id: int | None = None) -> None:
        """The check-in's message owed through the outbox, as a scheduled one's is: the request that showed it
        may not have reached the patient (it timed out), and nothing else would send it again. `thread_id`: the topic
        of their chat it was asked for in (threaded mode), where it would have come and they are reading."""
        async with self.database.session() as session:
            await outbox.enqueue(
                session=session,
                kind="checkin",
                chat_id=chat_id,
                checkin_id=checkin_id,
                priority=Priority.CONVERSATION,
                now=now,
                thread_id=thread_id,
            )

    @staticmethod
    def _next_step(questionnaire: Questionnaire, action: Action, item_id: str) -> str | None:
        """Where a press leads depends only on the button, never on a state read first."""
        if action is Action.EDIT:
            return questionnaire.first
        if action is Action.BACK:
            return questionnaire.before(item_id)
        return questionnaire.after(item_id)

    async def act(
        self,
        *,
        patient: Patient,
        checkin_id: int,
        action: Action,
        item_id: str,
        value: str,
        now: datetime,
        update_id: int | None = None,
        chat_id: int | None = None,
    ) -> CheckInState | Refusal:
        """Apply one button press (brought by `update_id`, pressed in `chat_id`). The check-in must be the
        presser's, asked in that chat, still open, the value in scale. A positive screen's last answer returns
        the longer questionnaire that follows it the same day."""
        assert patient.id is not None
        async with self.database.session() as session:
            name = await checkins.questionnaire_of(session=session, checkin_id=checkin_id, patient_id=patient.id)
            if name is None and action is Action.ANSWER:
                return await self._crisis_on_no_record_of_theirs(
                    session, patient, checkin_id, item_id, value, now, update_id
                )
            questionnaire = self.questionnaires.get(name) if name is not None else None
            if questionnaire is None:
                return Refusal.CLOSED
            item = questionnaire.item(item_id) if item_id else None
            if action is not Action.EDIT and item is None:
                return Refusal.INVALID
            if action is Action.ANSWER and (item is None or not item.accepts(value)):
                return Refusal.INVALID
            checkin = await checkins.move_to(
                session=session,
                checkin_id=checkin_id,
                patient_id=patient.id,
                chat_id=chat_id,
                step=self._next_step(questionnaire, action, item_id),
                now=now,
            )
            if checkin is None:
                if action is Action.ANSWER and item is not None and questionnaire.is_crisis_answer(item.id, value):
                    # Item 9 reached in the evening and answered the next morning, after the questionnaire closed:
                    # the answer moves it no further, but thoughts of self-harm are never dropped. Stored, so a
                    # second press raises nothing new, as on an open one; only a higher answer is stored (the
                    # buttons stay on a closed questionnaire: taps down and up again change nothing the card said).
                    # Two presses at once make one crisis; the patient first, in an erasure's order (patients.keep).
                    if not await patients.keep(session=session, patient_id=patient.id):
                        return Refusal.CLOSED
                    await checkins.lock(session=session, checkin_id=checkin_id)
                    stored = (await checkins.answers(session=session, checkin_id=checkin_id)).get(item.id)
                    if higher(value, stored):
                        await self._store_answer(
                            session, patient, questionnaire, item, checkin_id, value, now, update_id
                        )
                    return Refusal.CLOSED_CRISIS_HEARD
                return Refusal.CLOSED
            if action is Action.ANSWER:
                assert item is not None
                await self._store_answer(session, patient, questionnaire, item, checkin_id, value, now, update_id)
            answers = await checkins.answers(session=session, checkin_id=checkin_id)
            if checkin.step is None and action in (Action.ANSWER, Action.SKIP):
                longer = await self._step_up(session, patient, checkin, questionnaire, answers, now)
                if longer is not None:
                    return longer
        return state_of(checkin, answers, patient.timezone, questionnaire)

    async def _crisis_on_no_record_of_theirs(
        self,
        session: AsyncSession,
        patient: Patient,
        checkin_id: int,
        item_id: str,
        value: str,
        now: datetime,
        update_id: int | None,
    ) -> Refusal:
        """An answer pressed on a questionnaire that is no check-in of this patient's: one left in their chat by a
        diary that was erased or moved to another account, this account enrolled again since. Nothing is stored in
        it (it is another record's, or none's). A crisis answer (PHQ-9 item 9 above "not at all") is all the same
        this person's thoughts of self-harm, never dropped: the crisis of the record they have now, as typed words
        would be (the crisis text, an urgent card). As on their own closed questionnaire, once: pressed again (a
        double tap, a replay, taps down and up) it raises nothing new, a higher answer than heard there before
        does (CrisisPress keeps the highest)."""
        assert patient.id is not None
        crisis = next(
            (
                item
                for questionnaire in self.questionnaires.values()
                if (item := questionnaire.item(item_id)) is not None
                and item.accepts(value)
                and questionnaire.is_crisis_answer(item_id, value)
            ),
            None,
        )
        if crisis is None or self.on_crisis_answer is None:
            return Refusal.CLOSED
        # The patient's row locked (an erasure locks it first too): two presses at once take turns, and the second
        # sees what the first heard. A rare path, so locking the patient holds up nothing that matters.
        if await patients.lock(session=session, patient_id=patient.id) is None:
            return Refusal.CLOSED
        heard = await checkins.crisis_pressed(
            session=session, patient_id=patient.id, checkin_id=checkin_id, item=crisis.id
        )
        if higher(value, heard):
            await checkins.set_crisis_pressed(
                session=session, patient_id=patient.id, checkin_id=checkin_id, item=crisis.id, value=value, now=now
            )
            await self.on_crisis_answer(session, patient, crisis, value, now, update_id)
        return Refusal.CLOSED_CRISIS_HEARD

    async def _store_answer(
        self,
        session: AsyncSession,
        patient: Patient,
        questionnaire: Questionnaire,
        item: Item,
        checkin_id: int,
        value: str,
        now: datetime,
        update_id: int | None = None,
    ) -> None:
        """Store the answer; a crisis answer goes to the crisis path in the same transaction when it is new: not
        a crisis answer before, or a higher one ("several days" changed to "nearly every day" says more, and
        is a card of its own even after staff acknowledged the first). The same press again, or a lower
        crisis answer, raises nothing new."""
        crisis = questionnaire.is_crisis_answer(item.id, value)
        before = (await checkins.answers(session=session, checkin_id=checkin_id)).get(item.id) if crisis else None
        await checkins.upsert_answer(session=session, checkin_id=checkin_id, item=item.id, value=value, now=now)
        new = not questionnaire.is_crisis_answer(item.id, before) or higher(value, before)
        if crisis and new and self.on_crisis_answer is not None:
            await self.on_crisis_answer(session, patient, item, value, now, update_id)

    async def _step_up(
        self,
        session: AsyncSession,
        patient: Patient,
        screen: CheckIn,
        questionnaire: Questionnaire,
        answers: dict[str, str],
        now: datetime,
    ) -> CheckInState | None:
        """A positive screen (PHQ-2 >= 3) goes on, in the same message, with the longer questionnaire
        (PHQ-9): its items already answered are carried over, and it starts at the first one that is not."""
        step_up, score = questionnaire.step_up, questionnaire.score(answers)
        if step_up is None or score is None or score.total < step_up.at_least:
            return None
        assert patient.id is not None
        longer = self.questionnaires[step_up.to]
        carried = {item: value for item, value in answers.items() if longer.item(item) is not None}
        checkin, created = await checkins.create(
            session=session,
            patient_id=patient.id,
            questionnaire=longer.id,
            local_date=screen.local_date,
            slot=longer.id,
            started_at=now,
            closes_at=max(screen.closes_at, now + self.open_for),  # time for the longer questionnaire
            step=next((item.id for item in longer.items if item.id not in carried), None),
            chat_id=screen.chat_id,
        )
        assert checkin.id is not None
        if created:
            for item, value in carried.items():
                await checkins.upsert_answer(session=session, checkin_id=checkin.id, item=item, value=value, now=now)
            if screen.chat_id is not None and screen.message_id is not None:
                await checkins.set_message(
                    session=session, checkin_id=checkin.id, chat_id=screen.chat_id, message_id=screen.message_id
                )
                checkin.chat_id, checkin.message_id = screen.chat_id, screen.message_id
        answers = await checkins.answers(session=session, checkin_id=checkin.id)
        return state_of(checkin, answers, patient.timezone, longer)

    async def offer_due(self, *, patient: Patient, now: datetime) -> int | None:
        """After a completed daily check-in: the first questionnaire the clinic turned on that is due
        (not answered or declined for its number of days) is sent as a check-in of its own, which the
        patient may start now, put off to the evening, or decline. At most one a day."""
        assert patient.id is not None
        if patient.chat_id is None or patient.status != PatientStatus.ACTIVE:
            return None
        today = now.astimezone(ZoneInfo(patient.timezone)).date()
        async with self.database.session() as session:
            own = await cadences.of_patient(session=session, patient_id=patient.id)
            for name, every_days in effective(self.cadences, own).items():
                questionnaire = self.questionnaires[name]
                last = await checkins.last_taken(session=session, patient_id=patient.id, questionnaire=name)
                if last is not None and (today - last).days < every_days:
                    continue
                checkin, created = await checkins.create(
                    session=session,
                    patient_id=patient.id,
                    questionnaire=questionnaire.id,
                    local_date=today,
                    slot=questionnaire.id,
                    started_at=now,
                    closes_at=now + self.open_for,
                    step=questionnaire.first,
                    chat_id=patient.chat_id,
                )
                if not created:  # offered today already
                    return None
                assert checkin.id is not None
                # An earlier offer still open (sent late yesterday) gives way: one questionnaire at a time.
                await checkins.close_others(
                    session=session, patient_id=patient.id, keep_id=checkin.id, questionnaire=questionnaire.id, now=now
                )
                await outbox.enqueue(
                    session=session,
                    kind="checkin",
                    chat_id=patient.chat_id,
                    checkin_id=checkin.id,
                    priority=Priority.CONVERSATION,
                    now=now,
                )
                return checkin.id
        return None

    async def set_aside(
        self, *, patient: Patient, checkin_id: int, action: Action, now: datetime, chat_id: int | None = None
    ) -> str | None:
        """Skip today (the check-in closes as skipped; an offered questionnaire: declined) or Snooze (it
        is sent again in an hour; an offered questionnaire: this evening), once per check-in. Returns the
        check-in's questionnaire; None when the check-in is closed, not the presser's, or asked in another chat
        than `chat_id` (the one pressed in): what became of a check-in the account a record left was asked (skipped,
        a questionnaire declined) is not for the account a re-link moved the record to."""
        assert patient.id is not None and action in (Action.SKIP_TODAY, Action.SNOOZE)
        async with self.database.session() as session:
            name = await checkins.questionnaire_of(
                session=session, checkin_id=checkin_id, patient_id=patient.id, chat_id=chat_id
            )
            if name is None:
                return None
            # The chat again in the change itself: a re-link committing since the look above has moved the check-in.
            which = {"checkin_id": checkin_id, "patient_id": patient.id}
            if action is Action.SKIP_TODAY:
                if await checkins.skip(session=session, **which, now=now, chat_id=chat_id):
                    return name
                # Skipped before (a double tap, or a replayed press): it says so again, not that it is closed.
                again = await checkins.skipped(session=session, **which, chat_id=chat_id)
                return name if again else None
            checkin = await checkins.snooze(session=session, **which, now=now, chat_id=chat_id)
            if checkin is None:
                # Snoozed before (a second press, or a replayed one): it is sent again once, not twice.
                again = await checkins.snoozed(session=session, **which, now=now, chat_id=chat_id)
                return name if again else None
            if checkin.chat_id is None:
                return None
            if name == self.questionnaire.id:
                later = now + SNOOZE_FOR
            else:
                later = this_evening(now, ZoneInfo(patient.timezone))
                await checkins.keep_open_until(session=session, checkin_id=checkin_id, closes_at=later + self.open_for)
            await outbox.enqueue(
                session=session,
                kind="checkin",
                chat_id=checkin.chat_id,
                checkin_id=checkin_id,
                now=now,
                not_before=later,
            )
        return name


def this_evening(now: datetime, zone: ZoneInfo) -> datetime:
    """19:00 local today; pressed at 19:00 or later, 19:00 the next day (never in the night)."""
    local = now.astimezone(zone)
    day = local.date() if local.time() < EVENING else local.date() + timedelta(days=1)
    return datetime.combine(day, EVENING, tzinfo=zone).astimezone(now.tzinfo)
