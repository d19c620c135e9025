"""A patient's check-in schedule and questionnaire cadences in the console: every staff member sees them
(audited as a read of the record), admins change them with the same words and checks as /schedule and
/questionnaires, audited in the same transaction as the change.

Nothing needs telling after a change: the schedule's next slot and the cadences are rows in the
database, and the bot's scheduler tick reads them every SCHEDULE_TICK_SECONDS, whether the console runs
inside the bot (`run` with CONSOLE_LISTEN) or alone (`python -m bot console`), as after /schedule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aiohttp import web

from bot.console import auth
from bot.diary import cadences
from bot.diary.schedule_rules import (
    InputError,
    format_days,
    format_quiet_hours,
    format_times,
    parse_quiet_hours,
    parse_rule,
)
from bot.diary.scheduler import Scheduler, UnknownPatient
from bot.views.schedule import slot_lines

if TYPE_CHECKING:
    from bot.console.app import Console

DONE = {"schedule": "Schedule saved.", "questionnaires": "Questionnaire cadences saved."}


class SchedulePages:
    def __init__(self, console: Console) -> None:
        self.console = console
        # The scheduler keeps nothing in memory: this one and the bot's read and write the same rows.
        self.scheduler = Scheduler.for_settings(console.database, console.settings, console.questionnaires.daily)

    def add_routes(self, app: web.Application) -> None:
        c, p = self.console, self.console.prefix
        app.router.add_get(f"{p}/patients/{{code}}/schedule", c._guard("schedule", self._page))
        app.router.add_post(f"{p}/patients/{{code}}/schedule", c._guard("schedule_edit", self._set_schedule))
        app.router.add_post(f"{p}/patients/{{code}}/questionnaires", c._guard("cadences_edit", self._set_cadences))

    async def _page(self, request: web.Request, staffer: auth.Staffer) -> web.StreamResponse:
        code = request.match_info["code"]
        done = DONE.get(request.query.get("done", ""))
        return await self._show(staffer, code, notice=done)

    async def _show(
        self,
        staffer: auth.Staffer,
        code: str,
        *,
        status: int = 200,
        notice: str | None = None,
        schedule_error: str | None = None,
        cadence_error: str | None = None,
        typed: Mapping[str, str] | None = None,
    ) -> web.Response:
        """The page, audited as a read of the record; after a refused change, with what was typed."""
        console, now = self.console, self.console.clock()
        try:
            shown = await self.scheduler.show(code=code, now=now, viewer=staffer.telegram_user_id)
            own = await cadences.show(console.database, code=code)
        except UnknownPatient:
            return console._message(
                staffer, 404, "Unknown patient", console.cards.t("staff.unknown_patient", code=code)
            )
        fields = {"times": "", "days": "", "timezone": "", "quiet": ""}
        schedule = None
        if shown is not None:
            rule, quiet, slots = shown
            schedule = {"rule": rule.describe(), "quiet": quiet, "slots": slot_lines(slots, rule.timezone).splitlines()}
            fields = {
                "times": format_times(rule.times),
                "days": format_days(rule.days),
                "timezone": rule.timezone,
                "quiet": quiet or "",
            }
        clinic = console.settings.instrument_cadences
        lines = cadences.describe(clinic, own, console.questionnaires)
        offered = [
            {
                "name": name,
                "days": days,
                "own": whose,
                "clinic": clinic.get(name, 0),
                "value": (str(days) if days else "off") if whose else "clinic",
            }
            for name, days, whose in lines
        ]
        if typed is not None:
            fields |= {k: v for k, v in typed.items() if k in fields}
            for line in offered:
                line["value"] = typed.get(f"cadence-{line['name']}", line["value"])
        return console._render(
            "schedule.html",
            staffer,
            status=status,
            code=code,
            schedule=schedule,
            clinic_quiet=console.settings.quiet_hours,
            fields=fields,
            offered=offered,
            notice=notice,
            schedule_error=schedule_error,
            cadence_error=cadence_error,
        )

    async def _set_schedule(self, request: web.Request, staffer: auth.Staffer) -> web.StreamResponse:
        code = request.match_info["code"]
        form = await request.post()
        typed = {name: str(form.get(name, "")).strip() for name in ("times", "days", "timezone", "quiet")}
        try:
            rule = parse_rule(typed["times"], typed["days"], typed["timezone"])
            quiet = format_quiet_hours(parse_quiet_hours(typed["quiet"])) if typed["quiet"] else None
            await self.scheduler.set_schedule(
                code=code, rule=rule, now=self.console.clock(), actor_id=staffer.telegram_user_id, quiet_hours=quiet
            )
        except UnknownPatient:
            raise web.HTTPNotFound from None
        except InputError as error:
            why = self.console.cards.t(error.key, **error.values)
            return await self._show(staffer, code, status=400, schedule_error=why, typed=typed)
        raise web.HTTPSeeOther(self.console.url(f"/patients/{code}/schedule", done="schedule"))

    async def _set_cadences(self, request: web.Request, staffer: auth.Staffer) -> web.StreamResponse:
        """One field per questionnaire, each taken as /questionnaires takes `name=value`: days, off or clinic."""
        code = request.match_info["code"]
        form = await request.post()
        typed = {k: str(v).strip() for k, v in form.items() if k.startswith("cadence-")}
        words = [f"{k.removeprefix('cadence-')}={v or 'clinic'}" for k, v in typed.items()]
        try:
            chosen = cadences.parse(words, self.console.questionnaires)
            await cadences.set_cadences(
                self.console.database,
                code=code,
                chosen=chosen,
                actor_id=staffer.telegram_user_id,
                now=self.console.clock(),
            )
        except UnknownPatient:
            raise web.HTTPNotFound from None
        except InputError as error:
            why = self.console.cards.t(error.key, **error.values)
            return await self._show(staffer, code, status=400, cadence_error=why, typed=typed)
        raise web.HTTPSeeOther(self.console.url(f"/patients/{code}/schedule", done="questionnaires"))
