"""How an alert looks in Telegram: the card's caption, its buttons and its chart. Staff only."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.alerts import wording
from bot.alerts.cycles import Cycle, describe
from bot.alerts.desk import RULE_ORDER, AlertView, StaffAction
from bot.alerts.trends import Scored
from bot.care_team.text_limits import CAPTION_LIMIT, TEXT_LIMIT, shorten, split, units
from bot.diary import chart
from bot.diary.questionnaire import Questionnaires
from bot.diary.roster import RecentDiary
from bot.diary.scores import newest, scored
from bot.prompts import Catalog
from bot.views.callback_data import alert_button, reply_button, seen_button
from storage.checkins import Entry
from storage.models import PER_MESSAGE_RULES, Alert
from storage.statuses import AlertStatus

STAFF_HISTORY = timedelta(days=14)
# Notes written since this long before a finding's first check-in are shown on its card.
NOTES_BEFORE = timedelta(days=1)
ITEMS = ("pain", "skin_color", "skin_temperature", "swelling", "mood")


class CardRenderer:
    """Cards in the clinic's language and time zone."""

    def __init__(self, catalog: Catalog, questionnaires: Questionnaires, *, clinic_timezone: str) -> None:
        self.catalog = catalog
        self.questionnaires = questionnaires
        self.language = catalog.default_language
        self.zone = ZoneInfo(clinic_timezone)

    def t(self, key: str, **values: object) -> str:
        return self.catalog.text(self.language, key, **values)

    def when(self, at: datetime) -> str:
        return at.astimezone(self.zone).strftime("%d.%m.%Y %H:%M")

    def day(self, at: datetime) -> str:
        return at.astimezone(self.zone).strftime("%d.%m")

    def caption(self, view: AlertView, *, now: datetime) -> str:
        """The card's text: what fired, in words with the day each change began (every rule the same
        check-in raised), the infusion's cycle, who did what, then the patient's notes from the
        check-ins it is about, as many as fit Telegram's 1024-unit caption."""
        alert = view.alert
        if alert.rule in PER_MESSAGE_RULES:
            found = [self.t(f"alerts.rule.{alert.rule}"), self.t(f"alerts.details.{alert.rule}", **view.details)]
        else:
            shown = sorted([alert, *view.others], key=lambda a: RULE_ORDER.index(a.rule))
            found = [self.finding(a, own_state=a is not alert and alert.resolved_at is None) for a in shown]
        if view.cycle is not None and view.cycle.measured:
            infusion = describe(self.t, view.cycle) + "."
        elif view.last_infusion is None:
            infusion = self.t("alerts.no_infusion")
        else:
            day, kind = view.last_infusion
            days = (now.astimezone(self.zone).date() - day).days
            infusion = self.t("alerts.infusion", date=day.isoformat(), kind=f" ({kind})" if kind else "", days=days)
        lines = [
            self.t(
                "alerts.card",
                tier=self.t(f"alerts.tier.{alert.tier}"),
                code=view.code,
                lines="\n".join(found),
                infusion=infusion,
                opened=self.when(alert.opened_at),
            )
        ]
        if alert.rule not in PER_MESSAGE_RULES:
            lines += self.score_lines(view.scores)
        lines += self.done_lines(view)
        text = shorten("\n".join(lines), CAPTION_LIMIT)
        if alert.rule in PER_MESSAGE_RULES:
            return text
        return text + self._notes(view, room=CAPTION_LIMIT - units(text))

    def done_lines(self, view: AlertView) -> list[str]:
        """Who acknowledged, snoozed and resolved the alert, and when, oldest first."""
        alert, lines = view.alert, []

        def who(user_id: int | None) -> str:
            return (view.names.get(user_id) if user_id is not None else None) or self.t("alerts.someone")

        if alert.acknowledged_at is not None:
            lines.append(
                self.t("alerts.acknowledged", who=who(alert.acknowledged_by), when=self.when(alert.acknowledged_at))
            )
        if alert.status == AlertStatus.SNOOZED and alert.snoozed_until is not None:
            lines.append(self.t("alerts.snoozed", who=who(alert.snoozed_by), until=self.when(alert.snoozed_until)))
        if alert.resolved_at is not None:
            lines.append(self.t("alerts.resolved", who=who(alert.resolved_by), when=self.when(alert.resolved_at)))
        return lines

    def finding(self, alert: Alert, *, own_state: bool = False) -> str:
        """ "Pain 7-8 since Tue 14 Nov (usual 4, last 28 days)"; with `own_state`, a line resolved apart
        from the card's lead (a relief alert closed by the next infusion) says so."""
        line = wording.finding(self.t, alert.rule, json.loads(alert.details), self.zone)
        if own_state and alert.resolved_at is not None:
            line += " " + self.t("alerts.line_resolved", when=self.when(alert.resolved_at))
        return line

    def _notes(self, view: AlertView, *, room: int) -> str:
        """The newest notes first, the last one that fits shortened; nothing when none fits."""
        since = view.alert.event_at - NOTES_BEFORE
        notes = [
            (e.started_at, e.answers["note"]) for e in view.entries if e.answers.get("note") and e.started_at >= since
        ]
        shown = ""
        for at, note in reversed(notes):
            line = "\n" + self.t("alerts.note", when=self.when(at), note="")
            left = room - units(shown) - units(line)
            if left < 20:
                break
            shown += line + shorten(note, left)
        return shown

    def keyboard(self, view: AlertView, *, stale: bool = False) -> InlineKeyboardMarkup:
        """What staff may still do. An alert about one message (a crisis, a request to be contacted)
        cannot be snoozed: each one must be seen. A `stale` card (the alert has a newer one) keeps only
        History and Reply. The buttons carry when the alert opened, so that they act on this card's
        alert only, not on a new finding that opened it again, and when its newest finding was made: a press on
        the card as it read before it was updated in place acts on nothing it did not show."""
        assert view.alert.id is not None
        status = view.alert.status
        allowed: dict[str, list[StaffAction]] = {
            AlertStatus.OPEN: [StaffAction.ACKNOWLEDGE, StaffAction.SNOOZE, StaffAction.RESOLVE],
            AlertStatus.ACKNOWLEDGED: [StaffAction.SNOOZE, StaffAction.RESOLVE],
            AlertStatus.SNOOZED: [StaffAction.RESOLVE],
        }
        actions = [] if stale else allowed.get(status, [])
        if view.alert.rule in PER_MESSAGE_RULES:
            actions = [a for a in actions if a is not StaffAction.SNOOZE]
        names = {
            StaffAction.ACKNOWLEDGE: "acknowledge",
            StaffAction.SNOOZE: "snooze",
            StaffAction.RESOLVE: "resolve",
            StaffAction.HISTORY: "history",
        }
        buttons = [
            InlineKeyboardButton(
                self.t(f"alerts.buttons.{names[a]}"),
                callback_data=alert_button(a, view.alert.id, view.alert.opened_at, view.alert.event_at),
            )
            for a in [*actions, StaffAction.HISTORY]
        ]
        buttons.append(self._reply(view.alert.patient_id))
        return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])

    def _reply(self, patient_id: int) -> InlineKeyboardButton:
        return InlineKeyboardButton(self.t("alerts.buttons.reply"), callback_data=reply_button(patient_id))

    def message_keyboard(
        self, *, patient_id: int, patient_message_id: int, seen_by: str | None = None
    ) -> InlineKeyboardMarkup:
        """Under a patient's message in a staff chat: Reply, and Seen (showing who once pressed)."""
        seen = self.t("alerts.buttons.seen_by", who=seen_by) if seen_by else self.t("alerts.buttons.seen")
        return InlineKeyboardMarkup(
            [[self._reply(patient_id), InlineKeyboardButton(seen, callback_data=seen_button(patient_message_id))]]
        )

    async def chart(self, view: AlertView, *, now: datetime) -> bytes:
        pain = [json.loads(a.details) for a in view.others if a.rule == "pain_worsening"]
        details = view.details if view.alert.rule == "pain_worsening" or not pain else pain[0]
        usual, rise = details.get("baseline"), details.get("rise")
        return await self.diary_chart(
            view.code,
            view.entries,
            now=now,
            usual=float(usual) if isinstance(usual, int | float) else None,
            rise=float(rise) if isinstance(rise, int | float) else None,
            infusions=view.infusions,
            scores=view.scores,
            cycles=[view.cycle] if view.cycle is not None else [],
        )

    async def record_chart(self, diary: RecentDiary, *, now: datetime, cycles: Sequence[Cycle]) -> bytes:
        """A patient's record as staff chart it (/patient, the console's record page)."""
        return await self.diary_chart(
            diary.code,
            diary.entries,
            now=now,
            infusions=diary.infusions,
            scores=scored(diary.answered),
            cycles=cycles,
        )

    async def diary_chart(
        self,
        code: str,
        entries: list[Entry],
        *,
        now: datetime,
        usual: float | None = None,
        rise: float | None = None,
        infusions: Sequence[date] = (),
        scores: Sequence[Scored] = (),
        cycles: Sequence[Cycle] = (),
    ) -> bytes:
        """Pain, mood, signs and the questionnaires' scores of the last 30 days, with infusion days and
        the relief each brought."""
        start = now - chart.WINDOW
        relief = [(chart.midday(c.infusion, self.zone), wording.relief(self.t, c)) for c in cycles if c.measured]
        data = chart.chart_data(
            entries,
            title=self.t("alerts.chart_title", code=code, start=self.day(start), end=self.day(now)),
            now=now,
            infusions=[chart.midday(d, self.zone) for d in infusions],
            relief=relief,
            usual=usual,
            rise=rise,
            instruments=chart.instruments(scores, self.questionnaires, lambda q: self.t(f"staff.instrument.{q}")),
        )
        labels = chart.chart_labels(self.t, self.questionnaires.daily)
        # Rendering takes tens of milliseconds of CPU: off the event loop.
        return await asyncio.to_thread(chart.render_png, data, labels, timezone=str(self.zone))

    def score_lines(self, scores: Sequence[Scored]) -> list[str]:
        """Each questionnaire's newest score with its date, and the one before it: "PHQ-9 12 on 14.11
        (before: 6 on 31.10)"."""
        lines = []
        for change in newest(scores):
            name, score, before = self.t(f"staff.instrument.{change.now.questionnaire}"), change.now, change.before
            line = self.t("alerts.score", name=name, total=f"{score.total:g}", date=self.day(score.at))
            if before is not None:
                line += " " + self.t("alerts.score_before", total=f"{before.total:g}", date=self.day(before.at))
            lines.append(line)
        return lines

    def diary_lines(self, entries: list[Entry]) -> str:
        """One line per check-in: time, pain, colour, temperature, swelling, mood (codes, as exported),
        then the note in full."""
        lines = []
        for e in entries:
            if not e.answers:  # a missed check-in: the chart shows the gap
                continue
            line = f"{self.when(e.started_at)}  " + "  ".join(e.answers.get(item, "-") for item in ITEMS)
            if e.answers.get("note"):
                line += "  " + self.t("alerts.note_inline", note=e.answers["note"])
            lines.append(line)
        return "\n".join(lines)

    def history_texts(self, view: AlertView, *, now: datetime) -> list[str]:
        """The last 14 days in numbers and notes, in as many messages as it takes."""
        recent = [e for e in view.entries if e.answers and e.started_at >= now - STAFF_HISTORY]
        if not recent:
            return [self.t("alerts.history_empty", code=view.code)]
        return split(self.t("alerts.history", code=view.code, lines=self.diary_lines(recent)), TEXT_LIMIT)
