"""The alert desk: turns rule findings, crisis messages and requests to be contacted into alerts, and
staff presses into acknowledged, snoozed and resolved ones; records infusions and reads their cycles.
Cards are queued in the outbox; escalations (escalation.py) and the daily digest (digest.py) start from
the alerts it keeps.

Nothing here reaches a patient but, when staff acknowledge a patient's own message, the fixed notice
that their care team has seen it (prompts/, a clinic setting).
"""

from __future__ import annotations

import enum
import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.alerts.cycles import Cycle, cycles, local
from bot.alerts.rules import Rules, Tier, load_rules
from bot.alerts.trends import Finding, Infusion, Point, Scored, evaluate
from bot.care_team.staff_chat import StaffChat
from bot.config import Settings
from bot.diary import summary
from bot.diary.questionnaire import Questionnaires
from bot.diary.scores import answered_since, scored
from bot.prompts import Catalog
from storage import alerts, audit, checkins, infusions, outbox, patient_messages, patients, staff
from storage.checkins import Entry
from storage.database import Database
from storage.models import Alert, Priority
from storage.statuses import AlertStatus, PatientStatus

log = logging.getLogger(__name__)

# Enough diary for every rule: a 28-day baseline with its alarm history, and an infusion's 12 weeks
# of follow-up with the 2 weeks before it.
HISTORY = timedelta(days=120)
# A finding older than this is history (for example, just imported), not news for staff.
NEWS = timedelta(hours=36)
SNOOZE = timedelta(days=7)
# A card last changed longer ago than this is far up the staff chat, under what came since, and an edit of it is not
# announced: what is new on an open alert (a new episode, a request made again) comes as the card sent anew.
RESEND_AFTER = timedelta(hours=1)
# Which finding leads a card that shows several: the most urgent, then pain before signs before mood.
TIER_ORDER = (Tier.URGENT, Tier.AMBER, Tier.DIGEST)
RULE_ORDER = (
    "pain_worsening",
    "severe_pain",
    "vasomotor_change",
    "swelling_new",
    "low_mood",
    "relief_waning",
    "missed_checkins",
)


class StaffAction(enum.StrEnum):
    ACKNOWLEDGE = "a"
    SNOOZE = "z"
    RESOLVE = "r"
    HISTORY = "h"


def points_from(entries: list[Entry], zone: ZoneInfo | None = None) -> list[Point]:
    """The rules' points; with the patient's `zone`, each at its local time, so that the days a run of
    check-ins covers are the patient's own days, not UTC's (an evening in Los Angeles is UTC's morning)."""

    def number(value: str | None) -> int | None:
        return int(value) if value is not None and value.isdigit() else None

    return [
        Point(
            e.started_at.astimezone(zone) if zone is not None else e.started_at,
            pain=number(e.answers.get("pain")),
            skin_color=e.answers.get("skin_color"),
            skin_temperature=e.answers.get("skin_temperature"),
            swelling=e.answers.get("swelling"),
            mood=number(e.answers.get("mood")),
            note=e.answers.get("note"),
            missed=not e.answers,
        )
        for e in entries
    ]


# An alert filed from a finding: its id, the finding, and the older card it had (alert, chat, message) when it comes
# as a card anew.
Filed = tuple[int, Finding, tuple[int, int, int] | None]


def card_of(alert: Alert) -> tuple[int, int, int] | None:
    """The alert's card in the staff chat as (alert, chat, message); None before it was sent."""
    if alert.id is None or alert.card_chat_id is None or alert.card_message_id is None:
        return None
    return alert.id, alert.card_chat_id, alert.card_message_id


@dataclass(frozen=True)
class AlertView:
    """Everything a card shows."""

    alert: Alert
    code: str
    details: dict[str, object]
    last_infusion: tuple[date, str] | None
    names: dict[int, str]
    entries: list[Entry]  # the last 30 days of the diary, missed check-ins with no answers
    infusions: list[date]
    scores: list[Scored]  # the questionnaires' scores of the last months, oldest first
    cycle: Cycle | None  # the last infusion's cycle
    others: list[Alert]  # what the same check-in raised besides: one card shows them all


class AlertDesk:
    def __init__(
        self,
        database: Database,
        *,
        rules: Rules,
        catalog: Catalog,
        staff_chat_id: int | None,
        clinic_timezone: str,
        tell_patient_seen: bool = True,
        questionnaires: Questionnaires | None = None,
    ) -> None:
        self.database = database
        # The scored instruments the rules read (PHQ-9 for low_mood); none: the diary alone.
        self.scored = [q for q in (questionnaires or {}).values() if q.scoring is not None]
        self.rules = rules
        self.catalog = catalog
        self.staff_chat = StaffChat(database, configured=staff_chat_id)
        self.clinic_zone = ZoneInfo(clinic_timezone)
        self.tell_patient_seen = tell_patient_seen
        # After a failed daily pass, not before (bot/alerts/digest.py): not a sweep of the clinic every tick.
        self.digest_retry_at: datetime | None = None

    @classmethod
    def for_settings(
        cls,
        database: Database,
        settings: Settings,
        catalog: Catalog | None = None,
        questionnaires: Questionnaires | None = None,
    ) -> AlertDesk:
        return cls(
            database,
            rules=load_rules(settings.rules_file),
            catalog=catalog or Catalog.load(settings.default_language),
            staff_chat_id=settings.staff_chat_id,
            clinic_timezone=settings.default_timezone,
            tell_patient_seen=settings.tell_patient_seen,
            questionnaires=questionnaires or Questionnaires.load(),
        )

    # ------------------------------------------------------------------ findings -> alerts

    async def evaluate(self, *, patient_id: int, now: datetime) -> int:
        """Run the rules over the patient's recent diary; new findings open or update alerts.
        Returns how many alerts were opened or updated."""
        async with self.database.session() as session:
            # The patient kept first, before a row of theirs is changed (an alert refreshed, its card queued
            # after), in the order an erasure takes them (storage.patients.keep). Erased: nothing to look at.
            if not await patients.keep(session=session, patient_id=patient_id):
                return 0
            entries = await checkins.diary_since(session=session, patient_id=patient_id, since=now - HISTORY)
            given = await infusions.since(session=session, patient_id=patient_id, since=(now - HISTORY).date())
            found = await answered_since(session, self.scored, patient_id=patient_id, since=now - HISTORY)
            scores = scored(found)
            patient = await patients.by_id(session=session, patient_id=patient_id)
            zone = ZoneInfo(patient.timezone) if patient is not None else self.clinic_zone
            points = points_from(entries, zone)
            resolved = await alerts.resolve_times(session=session, patient_id=patient_id)
            findings = evaluate(points, [Infusion(d, k) for d, k in given], self.rules, scores, resolved)
            seen = await alerts.last_events(session=session, patient_id=patient_id)
            snoozes = await alerts.snoozes(session=session, patient_id=patient_id)
            newest: dict[str, Finding] = {}
            for finding in findings:
                already = seen.get(finding.rule)
                # A finding a snooze held back is news once the snooze is over, however long ago it was made, also
                # when staff resolved the snoozed card before the diary looked again: they never saw it (an episode
                # begun early in the snooze and still going on would otherwise never come).
                held = any(rule == finding.rule and until - SNOOZE <= finding.at <= until for rule, until in snoozes)
                new = (finding.at > now - NEWS or held) and (already is None or finding.at > already)
                if new:
                    newest[finding.rule] = finding
            filed = [await self._file(session, patient_id=patient_id, finding=f, now=now) for f in newest.values()]
            await self._one_card(session, patient_id=patient_id, filed=[f for f in filed if f is not None], now=now)
            for older in [f[2] for f in filed if f is not None and f[2] is not None]:
                await self._stale(session, older, patient_id=patient_id, now=now)
            # The console panel's figures, from the diary just read (after a check-in, and daily in the sweep).
            config = self.rules.relief_waning
            await summary.refresh(
                session, patient_ids=[patient_id], now=now, config=config, diary=(now - HISTORY, entries)
            )
        return len(newest)

    async def _one_card(self, session: AsyncSession, *, patient_id: int, filed: list[Filed], now: datetime) -> None:
        """One card for everything one check-in raised: the most urgent finding's, showing the others."""
        shown = [(alert_id, f) for alert_id, f, _ in filed if f.tier is not Tier.DIGEST]
        if not shown:
            return
        shown.sort(key=lambda item: (TIER_ORDER.index(item[1].tier), RULE_ORDER.index(item[1].rule)))
        card_id, lead = shown[0]
        await alerts.share_card(session=session, card_alert_id=card_id, others=[i for i, _ in shown[1:]])
        await self._queue_card(session, alert_id=card_id, patient_id=patient_id, tier=lead.tier, now=now)

    async def sweep(self, *, now: datetime) -> int:
        """The daily pass over every active patient: missed check-ins and waning relief show up here
        even when nobody completes a check-in."""
        async with self.database.session() as session:
            ids = await patients.ids_with_status(session=session, status=PatientStatus.ACTIVE)
            ids += await patients.ids_with_status(session=session, status=PatientStatus.UNREACHABLE)
        return sum([await self.evaluate(patient_id=i, now=now) for i in ids])

    async def _file(
        self, session: AsyncSession, *, patient_id: int, finding: Finding, now: datetime, tries: int = 3
    ) -> Filed | None:
        """Open or update the rule's alert; None when staff snoozed it and the snooze still runs. A press
        that changed the alert between reading and writing it (another transaction) is read again."""
        older = None  # the card forgotten for a new one (alert, chat, message), to lose its buttons
        details = json.dumps(finding.details, ensure_ascii=False)
        escalate_at = self._first_escalation(finding.tier, now)
        current = await alerts.active(session=session, patient_id=patient_id, rule=finding.rule)
        if current is None:
            alert_id = await alerts.open_alert(
                session=session,
                patient_id=patient_id,
                rule=finding.rule,
                tier=finding.tier.value,
                details=details,
                event_at=finding.at,
                now=now,
                next_escalation_at=escalate_at,
            )
        else:
            assert current.id is not None
            alert_id = current.id
            snoozing = current.status == AlertStatus.SNOOZED
            if snoozing and current.snoozed_until is not None and current.snoozed_until > now:
                return None  # staff said this is the expected level for now
            if current.status != AlertStatus.OPEN:
                # A snooze that ended, or a new episode after staff acknowledged the last one: what they
                # acknowledged was the card they saw, so this is a new card, open, with its own clock.
                anew = True
                written = await alerts.reopen(
                    session=session,
                    alert_id=alert_id,
                    status=AlertStatus(current.status),
                    details=details,
                    event_at=finding.at,
                    now=now,
                    next_escalation_at=escalate_at,
                )
            else:
                anew = now - current.updated_at > RESEND_AFTER
                written = await alerts.refresh(
                    session=session,
                    alert_id=alert_id,
                    details=details,
                    event_at=finding.at,
                    now=now,
                    anew=anew,
                    next_escalation_at=escalate_at,
                )
            if not written and tries > 1:
                return await self._file(session, patient_id=patient_id, finding=finding, now=now, tries=tries - 1)
            if written and anew:
                older = card_of(current)
        log.info("alert %s (%s) for patient %s", alert_id, finding.rule, patient_id)
        return alert_id, finding, older

    def _first_escalation(self, tier: Tier, now: datetime) -> datetime | None:
        """When an alert of this tier, opened or with something new on it now, goes to the admins unacknowledged."""
        return now + timedelta(minutes=self.rules.escalation.after_minutes) if tier is Tier.URGENT else None

    @staticmethod
    async def _stale(session: AsyncSession, older: tuple[int, int, int], *, patient_id: int, now: datetime) -> None:
        """The older message of a card sent anew loses its acting buttons as the new one comes (queued after it,
        in the same transaction): left as they were, up the chat, they read as a second live card of the alert."""
        alert_id, chat_id, message_id = older
        await outbox.stale_card(
            session=session, alert_id=alert_id, patient_id=patient_id, card=(chat_id, message_id), now=now
        )

    async def _queue_card(
        self, session: AsyncSession, *, alert_id: int, patient_id: int, tier: Tier, now: datetime
    ) -> None:
        if tier is Tier.DIGEST:
            return
        await outbox.enqueue(
            session=session,
            kind="alert",
            chat_id=await self.staff_chat.destination(session),
            alert_id=alert_id,
            patient_id=patient_id,
            priority=Priority.URGENT if tier is Tier.URGENT else Priority.CONVERSATION,
            now=now,
        )

    # ------------------------------------------------------------------ what patients write

    async def file_crisis(
        self, session: AsyncSession, *, patient_id: int, message: str, patient_message_id: int | None, now: datetime
    ) -> int | None:
        """Every crisis message is an urgent alert of its own, with its own card and escalation clock:
        one acknowledged earlier says nothing about this one. It stays open until staff resolve it."""
        config = self.rules.crisis_text
        if not config.enabled:
            return None
        return await self._open_per_message(
            session,
            rule="crisis_text",
            tier=config.tier,
            patient_id=patient_id,
            details={"message": message},
            patient_message_id=patient_message_id,
            now=now,
        )

    def crisis_card_at_once(self) -> bool:
        """Whether a crisis message is a card in the staff chat at once: not when the clinic turned the rule off
        or sends it to the daily digest (then the words themselves must go to staff)."""
        config = self.rules.crisis_text
        return config.enabled and config.tier is not Tier.DIGEST

    async def file_contact_request(
        self, session: AsyncSession, *, patient_id: int, patient_message_id: int, now: datetime
    ) -> int | None:
        """The patient asks to be contacted. Asking again before anyone has acknowledged it updates that
        card (sent anew after RESEND_AFTER); asking after it was acknowledged is a new request."""
        config = self.rules.contact_request
        if not config.enabled:
            return None
        waiting = await alerts.unacknowledged(session=session, patient_id=patient_id, rule="contact_request")
        if waiting is not None and waiting.id is not None:
            times = int(json.loads(waiting.details).get("times", 1)) + 1
            details = json.dumps({"times": times})
            # Not if a nurse acknowledged it in the meantime: then this request is a new one.
            anew = now - waiting.updated_at > RESEND_AFTER
            escalate_at = self._first_escalation(config.tier, now)  # a clinic may make it urgent
            if await alerts.refresh(
                session=session,
                alert_id=waiting.id,
                details=details,
                event_at=now,
                now=now,
                anew=anew,
                next_escalation_at=escalate_at,
            ):
                await self._queue_card(session, alert_id=waiting.id, patient_id=patient_id, tier=config.tier, now=now)
                older = card_of(waiting) if anew else None
                if older is not None:
                    await self._stale(session, older, patient_id=patient_id, now=now)
                return waiting.id
        return await self._open_per_message(
            session,
            rule="contact_request",
            tier=config.tier,
            patient_id=patient_id,
            details={"times": 1},
            patient_message_id=patient_message_id,
            now=now,
        )

    async def _open_per_message(
        self,
        session: AsyncSession,
        *,
        rule: str,
        tier: Tier,
        patient_id: int,
        details: dict[str, object],
        patient_message_id: int | None,
        now: datetime,
    ) -> int:
        escalate_at = self._first_escalation(tier, now)
        alert_id = await alerts.open_alert(
            session=session,
            patient_id=patient_id,
            rule=rule,
            tier=tier.value,
            details=json.dumps(details, ensure_ascii=False),
            event_at=now,
            now=now,
            next_escalation_at=escalate_at,
            patient_message_id=patient_message_id,
        )
        log.info("alert %s (%s) for patient %s", alert_id, rule, patient_id)
        await self._queue_card(session, alert_id=alert_id, patient_id=patient_id, tier=tier, now=now)
        return alert_id

    # ------------------------------------------------------------------ staff

    async def act(
        self,
        *,
        alert_id: int,
        action: StaffAction,
        by: int,
        name: str,
        now: datetime,
        opened_at: datetime | None = None,
        event_at: datetime | None = None,
        pressed_on: tuple[int, int] | None = None,
    ) -> Alert | None:
        """Acknowledge, snooze or resolve the alert and the others its card shows; None when the alert is
        not in a state that allows it, or (with `opened_at`, from the card pressed) has opened again since
        that card was made, or (with `event_at`) has a newer finding than the card showed, written onto it in
        place: what staff saw there is not what is open now. Pressed anywhere but on the staff
        chat's card (`pressed_on`, the chat and message: an admin's escalation, the console), that card's
        update is queued with the change: staff see it there too, whatever becomes of the press after."""
        async with self.database.session() as session:
            # The patient kept first, before a row of theirs is changed, in the order an erasure takes them
            # (storage.patients.keep): the press may go on to queue a word for them (message_seen).
            pressed = await alerts.get(session=session, alert_id=alert_id)
            if pressed is None or not await patients.keep(session=session, patient_id=pressed.patient_id):
                return None
            await staff.set_name(session=session, telegram_user_id=by, name=name)
            changed = await self._move(
                session, alert_id=alert_id, action=action, by=by, now=now, opened_at=opened_at, event_at=event_at
            )
            if changed is not None:
                patient = await patients.by_id(session=session, patient_id=changed.patient_id)
                # Resolved without Acknowledge first (called the patient, then closed it) is seen too.
                seen = action in (StaffAction.ACKNOWLEDGE, StaffAction.RESOLVE)
                if seen and changed.patient_message_id is not None:
                    await self.message_seen(session, message_id=changed.patient_message_id, by=by, now=now)
                moved = [changed]
                for other in await alerts.on_card(session=session, card_alert_id=alert_id):
                    assert other.id is not None
                    also = await self._move(session, alert_id=other.id, action=action, by=by, now=now)
                    moved += [also] if also is not None else []
                for alert in moved:
                    await audit.record(
                        session=session,
                        actor_id=by,
                        action=f"alert_{action.name.lower()}",
                        patient_code=patient.code if patient else None,
                        detail=f"alert {alert.id} ({alert.rule})",
                        now=now,
                    )
                await self._card_changed(session, changed, pressed_on=pressed_on, now=now)
        if changed is not None:
            log.info("alert %s: %s by staff %s", alert_id, action.name.lower(), by)
        return changed

    async def _card_changed(
        self, session: AsyncSession, changed: Alert, *, pressed_on: tuple[int, int] | None, now: datetime
    ) -> None:
        """The staff chat's card of a changed alert (another finding's card, when shown there) is queued for
        its update, unless it is the message pressed (the press shows it there itself)."""
        lead = changed
        if changed.card_alert_id is not None:
            lead = await alerts.get(session=session, alert_id=changed.card_alert_id) or changed
        card = (lead.card_chat_id, lead.card_message_id)
        if lead.id is not None and lead.card_message_id is not None and card != pressed_on:
            await self._queue_card(session, alert_id=lead.id, patient_id=lead.patient_id, tier=Tier(lead.tier), now=now)

    @staticmethod
    async def _move(
        session: AsyncSession,
        *,
        alert_id: int,
        action: StaffAction,
        by: int,
        now: datetime,
        opened_at: datetime | None = None,
        event_at: datetime | None = None,
    ) -> Alert | None:
        shown = {"opened_at": opened_at, "event_at": event_at}
        if action is StaffAction.ACKNOWLEDGE:
            return await alerts.acknowledge(session=session, alert_id=alert_id, by=by, now=now, **shown)
        if action is StaffAction.SNOOZE:  # not for crisis messages: each must be seen
            until = now + SNOOZE
            return await alerts.snooze(session=session, alert_id=alert_id, by=by, until=until, now=now, **shown)
        if action is StaffAction.RESOLVE:
            return await alerts.resolve(session=session, alert_id=alert_id, by=by, now=now, **shown)
        raise ValueError(action)

    async def crisis_seen(self, session: AsyncSession, *, message_id: int, by: int, now: datetime) -> None:
        """Seen pressed on a crisis message's words (the whole of one too long for its card, under it): a person has
        seen it, and the patient is told so; left open, its card would go on escalating to the admins as unseen. Its
        card is acknowledged as a press there would, and shows it. Not Seen on the words passed on as an ordinary
        message and heard as crisis language only later (a follow-up that came before its crisis): read there, they
        were read without what makes them urgent. In a transaction that kept the patient first."""
        if not await outbox.passed_on_as_urgent(session=session, patient_message_id=message_id):
            return
        for alert in await alerts.open_crisis_of_message(session=session, patient_message_id=message_id):
            assert alert.id is not None
            changed = await alerts.acknowledge(session=session, alert_id=alert.id, by=by, now=now)
            if changed is None:
                continue
            patient = await patients.by_id(session=session, patient_id=changed.patient_id)
            await audit.record(
                session=session,
                actor_id=by,
                action="alert_acknowledge",
                patient_code=patient.code if patient else None,
                detail=f"alert {changed.id} ({changed.rule})",
                now=now,
            )
            await self._card_changed(session, changed, pressed_on=None, now=now)
            log.info("alert %s: acknowledged by staff %s (its message seen)", changed.id, by)

    async def message_seen(self, session: AsyncSession, *, message_id: int, by: int, now: datetime) -> bool:
        """A staff member has seen a patient's message: the patient may be told (once). False when
        someone had marked it seen already. In a transaction that kept the patient first (patients.keep)."""
        if not await patient_messages.mark_seen(session=session, message_id=message_id, by=by, now=now):
            return False
        message = await patient_messages.get(session=session, message_id=message_id)
        patient = await patients.by_id(session=session, patient_id=message.patient_id) if message else None
        if message is None or patient is None or patient.id is None or patient.chat_id is None:
            return True
        if patient.moved_at is not None and message.received_at <= patient.moved_at:
            # Written on the account the record was on before a re-link: the account it is on now never wrote it (and
            # may be in the wrong hands), and "seen" would tell it a message existed, or read as the answer to its own.
            return True
        # Told after a newer crisis message nobody has acknowledged yet, "seen" would read as that one's answer: the
        # patient is told when it is acknowledged (it is marked seen then). One dated the same second counts as newer:
        # Telegram dates to the second, and a long text it split, or a quick second message, shares the first's date.
        newer = await alerts.unacknowledged(session=session, patient_id=patient.id, rule="crisis_text")
        if newer is not None and newer.patient_message_id != message_id and newer.opened_at >= message.received_at:
            return True
        if self.tell_patient_seen:
            await outbox.enqueue(
                session=session,
                kind="patient",
                chat_id=patient.chat_id,
                text=self.catalog.text(patient.language, "care_team.seen"),
                patient_id=patient.id,
                now=now,
            )
        return True

    async def view(self, *, alert_id: int, now: datetime) -> AlertView | None:
        async with self.database.session() as session:
            return await self._view(session, alert_id=alert_id, now=now)

    async def view_history(self, *, alert_id: int, actor_id: int, now: datetime) -> AlertView | None:
        """The alert as `view` reads it, for its patient's recent history: a read of patient data, audited
        as `actor_id`'s in the same transaction."""
        async with self.database.session() as session:
            view = await self._view(session, alert_id=alert_id, now=now)
            if view is not None:
                await audit.record(
                    session=session,
                    actor_id=actor_id,
                    action="view_history",
                    patient_code=view.code,
                    detail=f"alert {alert_id}",
                    now=now,
                )
        return view

    async def _view(self, session: AsyncSession, *, alert_id: int, now: datetime) -> AlertView | None:
        alert = await alerts.get(session=session, alert_id=alert_id)
        if alert is None:
            return None
        patient = await patients.by_id(session=session, patient_id=alert.patient_id)
        if patient is None:
            return None  # erased as the alert was read (a press on its card as the patient erased the diary)
        entries = await checkins.diary_since(
            session=session, patient_id=alert.patient_id, since=now - timedelta(days=30)
        )
        found = await answered_since(session, self.scored, patient_id=alert.patient_id, since=now - HISTORY)
        cycle = (await self.cycles_of(session, patient_id=alert.patient_id, now=now))[-1:]
        given = await infusions.since(session=session, patient_id=alert.patient_id, since=date.min)
        people = [p for p in (alert.acknowledged_by, alert.snoozed_by, alert.resolved_by) if p is not None]
        names = await staff.names(session=session, telegram_user_ids=people)
        others = await alerts.on_card(session=session, card_alert_id=alert_id)
        return AlertView(
            alert=alert,
            code=patient.code,
            details=json.loads(alert.details),
            last_infusion=given[-1] if given else None,
            names=names,
            entries=entries,
            infusions=[d for d, _ in given],
            scores=scored(found),
            cycle=cycle[0] if cycle else None,
            others=others,
        )

    async def card_sent(self, *, alert_id: int, chat_id: int, message_id: int) -> None:
        async with self.database.session() as session:
            await alerts.set_card(session=session, alert_id=alert_id, chat_id=chat_id, message_id=message_id)

    async def record_infusion(self, *, code: str, on: date, kind: str, by: int | None, now: datetime) -> bool | None:
        """True: recorded (and audited as `by`'s in the same transaction); False: already recorded that
        day; None: no such patient."""
        async with self.database.session() as session:
            patient = await patients.by_code(session=session, code=code)
            if patient is None or patient.id is None:
                return None
            recorded = await infusions.record(
                session=session, patient_id=patient.id, given_on=on, kind=kind, now=now, by=by
            )
            if recorded:
                await audit.record(session=session, actor_id=by, action="infusion", patient_code=patient.code, now=now)
            await summary.refresh(session, patient_ids=[patient.id], now=now, config=self.rules.relief_waning)
            waning = await alerts.active(session=session, patient_id=patient.id, rule="relief_waning")
            # A new cycle: what it asked for is done. Not an earlier infusion recorded late (from old letters): the
            # relief wearing off after the later one still waits for staff.
            about = json.loads(waning.details).get("infusion") if waning is not None else None
            newer = about is None or on > date.fromisoformat(str(about))
            if recorded and newer and waning is not None and waning.id is not None:
                await alerts.resolve(session=session, alert_id=waning.id, by=by, now=now)
                tier = Tier(waning.tier)
                card = waning.card_alert_id or waning.id  # it may be shown on another finding's card
                await self._queue_card(session, alert_id=card, patient_id=patient.id, tier=tier, now=now)
            return recorded

    # ------------------------------------------------------------------ infusion cycles

    async def cycles_of(self, session: AsyncSession, *, patient_id: int, now: datetime) -> list[Cycle]:
        """Every infusion cycle of the patient within the last year, oldest first."""
        given = await infusions.since(session=session, patient_id=patient_id, since=(now - summary.CYCLES).date())
        if not given:
            return []
        before = timedelta(days=self.rules.relief_waning.before_days)
        since = datetime.combine(given[0][0], time(), tzinfo=UTC) - before - timedelta(days=1)
        entries = await checkins.entries_since(session=session, patient_id=patient_id, since=since)
        pains = [(e.started_at, int(e.answers["pain"])) for e in entries if e.answers.get("pain", "").isdigit()]
        patient = await patients.by_id(session=session, patient_id=patient_id)
        zone = ZoneInfo(patient.timezone) if patient else self.clinic_zone
        return cycles(local(pains, zone), given, today=now.astimezone(zone).date(), config=self.rules.relief_waning)

    async def patient_cycles(self, *, patient_id: int, now: datetime) -> list[Cycle]:
        async with self.database.session() as session:
            return await self.cycles_of(session, patient_id=patient_id, now=now)

    async def clinic_cycles(self, *, now: datetime, actor_id: int) -> list[tuple[str, Cycle]]:
        """The current cycle of every active patient with an infusion: those below half of their best
        relief first (longest ago first), then by projected day, then those without a measure."""
        found = []
        async with self.database.session() as session:
            for patient_id in await infusions.patients_with(
                session=session, statuses=(PatientStatus.ACTIVE, PatientStatus.UNREACHABLE)
            ):
                patient = await patients.by_id(session=session, patient_id=patient_id)
                current = (await self.cycles_of(session, patient_id=patient_id, now=now))[-1:]
                if patient is not None and current:
                    found.append((patient.code, current[0]))
            await audit.record(session=session, actor_id=actor_id, action="view_cycles", now=now)

        def order(item: tuple[str, Cycle]) -> tuple[int, float, str]:
            code, cycle = item
            if cycle.below_half_since is not None:
                return (0, cycle.below_half_since - cycle.day, code)
            if cycle.projected_half is not None:
                return (1, cycle.projected_half - cycle.day, code)
            return (2, 0, code)

        return sorted(found, key=order)
