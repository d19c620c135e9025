"""The clinicians' web console over HTTP (aiohttp, server-rendered Jinja2 pages, no JavaScript needed).

Served under the path of CONSOLE_URL (e.g. https://clinic.example/console behind the reverse proxy that
also forwards the webhook), by `run` when CONSOLE_LISTEN is set or alone by `python -m bot console`, on
the bot's database. Who may see and do what is bot/access.py's CONSOLE table; every request re-checks
the signed-in person against the staff table (bot/console/auth.py). Pages are thin: they read through
bot/console/panel.py, the alert desk and the diary roster, and act through the alert desk, which
audits and queues the Telegram card's update as a press on the card would.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web
from markupsafe import Markup
from multidict import MultiDictProxy

from bot.access import Role, console_allowed
from bot.alerts.cycles import describe
from bot.alerts.desk import AlertDesk, AlertView, StaffAction
from bot.app import crisis_language
from bot.care_team.replies import Replies
from bot.care_team.screening import Screening
from bot.care_team.text_limits import TEXT_LIMIT, units
from bot.config import Settings
from bot.console import auth, panel, schedules, svg, whatif
from bot.diary import chart as diary_chart
from bot.diary.enrolment import PATIENT_CODE
from bot.diary.questionnaire import Questionnaires
from bot.diary.scheduler import UnknownPatient
from bot.prompts import Catalog
from bot.records import report
from bot.records.export import Export
from bot.services import Services
from bot.views.alert_card import ITEMS, CardRenderer
from bot.views.callback_data import parse_alert
from bot.views.scores import score_lines  # the same lines /patient shows
from storage import patients, staff
from storage.database import Database
from storage.statuses import ACTIVE_ALERT_STATUSES, PatientStatus

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
COOKIE = "diary_console"
DONE = {StaffAction.ACKNOWLEDGE: "acknowledge", StaffAction.SNOOZE: "snooze", StaffAction.RESOLVE: "resolve"}
# A reply's notice after its redirect: to a patient who blocked the bot, it may not reach them.
REPLIED = {"replied": "staff.reply_sent", "replied_unreachable": "staff.reply_sent_unreachable"}
# Health data: nothing is cached, nothing is framed, nothing loads from elsewhere, no referrer leaves.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # No address (they hold patient codes) goes to another site; the console's own forms carry their Origin.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

Handler = Callable[[web.Request, auth.Staffer], Awaitable[web.StreamResponse]]


class Console:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        desk: AlertDesk,
        cards: CardRenderer,
        replies: Replies,
        questionnaires: Questionnaires,
        clock: Callable[[], datetime],
        wake: asyncio.Event | None = None,
    ) -> None:
        if settings.console_url is None:
            raise ValueError("CONSOLE_URL is needed to serve the console")
        self.database = database
        self.settings = settings
        self.desk = desk
        self.cards = cards
        self.replies = replies
        self.questionnaires = questionnaires
        self.clock = clock
        self.wake = wake  # the bot's outbox sender, when it runs in this process
        self.prefix = urlsplit(settings.console_url).path.rstrip("/")
        self.secure = settings.console_url.startswith("https://")
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
        )
        self._runner: web.AppRunner | None = None

    @classmethod
    def for_settings(cls, database: Database, settings: Settings, *, clock: Callable[[], datetime]) -> Console:
        """The console on its own (`python -m bot console`): the bot process sends the card updates it queues."""
        catalog = Catalog.load(settings.default_language)
        questionnaires = Questionnaires.load()
        desk = AlertDesk.for_settings(database, settings, catalog, questionnaires)
        return cls(
            database,
            settings,
            desk=desk,
            cards=CardRenderer(catalog, questionnaires, clinic_timezone=settings.default_timezone),
            replies=Replies(
                database,
                catalog=catalog,
                desk=desk,
                staff_names=settings.staff_names_to_patients,
                screening=Screening(crisis_language()),  # compiled once per process, as the bot's
            ),
            questionnaires=questionnaires,
            clock=clock,
        )

    @classmethod
    def beside_bot(cls, database: Database, settings: Settings, services: Services) -> Console:
        """The console in the bot's process (`run` with CONSOLE_LISTEN): a card changed in the browser wakes
        the bot's sender at once."""
        return cls(
            database,
            settings,
            desk=services.desk,
            cards=services.cards,
            replies=services.replies,
            questionnaires=services.checkins.questionnaires,
            clock=services.clock,
            wake=services.outbox_wake,
        )

    # ------------------------------------------------------------------ wiring

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._headers], client_max_size=64 * 1024)
        p = self.prefix
        app.router.add_get(f"{p}/", self._home)
        app.router.add_get(f"{p}/signin/{{token}}", self._signin_page)
        app.router.add_post(f"{p}/signin", self._signin)
        app.router.add_get(f"{p}/signed-out", self._signed_out)
        app.router.add_post(f"{p}/signout", self._guard(None, self._signout))
        app.router.add_get(f"{p}/alerts", self._guard("alerts", self._alerts))
        # An alert's number as the database can hold it (a longer one is no page, not a server error).
        alert = "{alert_id:[0-9]{1,18}}"
        app.router.add_get(f"{p}/alerts/{alert}/chart.png", self._guard("alerts", self._alert_chart))
        app.router.add_post(f"{p}/alerts/{alert}", self._guard("alert_action", self._alert_action))
        app.router.add_get(f"{p}/patients", self._guard("patients", self._patients))
        app.router.add_get(f"{p}/patients/{{code}}", self._guard("patient", self._patient))
        app.router.add_post(f"{p}/patients/{{code}}/reply", self._guard("reply", self._reply))
        app.router.add_get(f"{p}/patients/{{code}}/diary.csv", self._guard("export", self._export))
        app.router.add_get(f"{p}/patients/{{code}}/fhir.json", self._guard("export", self._export))
        app.router.add_get(f"{p}/patients/{{code}}/report.pdf", self._guard("report", self._report))
        app.router.add_get(f"{p}/export/diary.csv", self._guard("export_all", self._export))
        app.router.add_get(f"{p}/export/fhir.json", self._guard("export_all", self._export))
        app.router.add_get(f"{p}/team", self._guard("team", self._team))
        schedules.SchedulePages(self).add_routes(app)  # /patients/CODE/schedule, and its forms
        whatif.RulesPages(self).add_routes(app)  # /rules: the rules what-if
        app.router.add_static(f"{p}/static", HERE / "static", append_version=True)
        return app

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the port (0 picks a free one)."""
        self._runner = web.AppRunner(self.application(), access_log=None)  # URLs hold patient codes
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound = int(self._runner.addresses[0][1])
        log.info("web console listening on %s:%s, at %s", host, bound, self.settings.console_url)
        return bound

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _headers(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            response = self._render("message.html", None, status=404, title="Not found", text="There is no such page.")
        except web.HTTPException as error:  # redirects: raised, with the same headers
            error.headers.update(SECURITY_HEADERS)
            raise
        response.headers.update(SECURITY_HEADERS)
        return response

    def url(self, path: str, **query: object) -> str:
        shown = {k: v for k, v in query.items() if v is not None}
        return f"{self.prefix}{path}" + (f"?{urlencode(shown)}" if shown else "")

    def _render(self, template: str, staffer: auth.Staffer | None, *, status: int = 200, **values: Any) -> web.Response:
        page = self.templates.get_template(template).render(
            lang=self.cards.language,
            url=self.url,
            staffer=staffer,
            is_admin=staffer is not None and staffer.role is Role.ADMIN,
            may=lambda page: staffer is not None and console_allowed(staffer.roles, page),
            nonce=secrets.token_hex(16),  # a reply form's: sending it twice sends the reply once
            css=self.url("/static/console.css"),
            **values,
        )
        return web.Response(text=page, status=status, content_type="text/html", charset="utf-8")

    def _guard(self, page: str | None, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """Signed in, allowed by the access table (`page` None: any staff), and for a POST the session's
        CSRF token in the form; otherwise nothing runs."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            now = self.clock()
            staffer = await auth.current(self.database, session_id=request.cookies.get(COOKIE, ""), now=now)
            if staffer is None:
                if request.method == "GET":
                    raise web.HTTPSeeOther(self.url("/signed-out"))
                return self._render("signed_out.html", None, status=403)
            if page is not None and not console_allowed(staffer.roles, page):
                return self._message(staffer, 403, "Not for your role", "Only admins can open this page.")
            if request.method == "POST":
                form = await _form(request)
                if form is None:
                    return self._unreadable(staffer)
                if not auth.csrf_ok(staffer.session_id, str(form.get("csrf", ""))):
                    log.warning("console POST without the session's CSRF token refused")
                    return self._message(
                        staffer, 403, "Form expired", "This form is out of date. Go back, reload the page, try again."
                    )
            return await handler(request, staffer)

        return guarded

    def _message(self, staffer: auth.Staffer | None, status: int, title: str, text: str) -> web.Response:
        return self._render("message.html", staffer, status=status, title=title, text=text)

    def _unreadable(self, staffer: auth.Staffer | None) -> web.Response:
        return self._message(staffer, 400, "Form not read", "This form could not be read. Reload the page, try again.")

    # ------------------------------------------------------------------ signing in and out

    async def _home(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPSeeOther(self.url("/alerts"))

    async def _signin_page(self, request: web.Request) -> web.StreamResponse:
        # A GET only shows a button: link previews and scanners fetch links, and must not use them up.
        return self._render("signin.html", None, token=request.match_info["token"])

    async def _signin(self, request: web.Request) -> web.StreamResponse:
        if not self._from_here(request):
            # Another site's page posting a staff member's own link would sign the visitor's browser in as
            # that staff member (what the visitor then writes is theirs to read). The link stays unused.
            log.warning("console sign-in posted from another site refused")
            return self._render("signin_refused.html", None, status=403)
        form = await _form(request)
        if form is None:
            return self._unreadable(None)
        session_id = await auth.sign_in(self.database, token=str(form.get("token", "")), now=self.clock())
        if session_id is None:
            return self._render("signin_refused.html", None, status=403)
        response = web.HTTPSeeOther(self.url("/alerts"))
        response.set_cookie(
            COOKIE,
            session_id,
            path=self.prefix or "/",
            httponly=True,
            samesite="Strict",
            secure=self.secure,
        )
        raise response

    def _from_here(self, request: web.Request) -> bool:
        """Whether a browser's POST came from the console's own pages. Browsers say so in Sec-Fetch-Site,
        older ones in Origin (another site can make its own "null"). A client that says neither (not a
        browser) is not refused."""
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None:
            return site in ("same-origin", "none")
        origin = request.headers.get("Origin")
        if origin is None:
            return True
        own = urlsplit(self.settings.console_url) if self.settings.console_url else None
        return origin == (f"{own.scheme}://{own.netloc}" if own else f"{request.scheme}://{request.host}")

    async def _signed_out(self, request: web.Request) -> web.StreamResponse:
        return self._render("signed_out.html", None)

    async def _signout(self, request: web.Request, staffer: auth.Staffer) -> web.StreamResponse:
        await auth.sign_out(self.database, staffer=staffer, now=self.clock())
        response = web.HTTPSeeOther(self.url("/signed-out"))
        response.del_cookie(COOKIE, path=self.prefix or "/")
        raise response

    # ------------------------------------------------------------------ the alert queue

    async def _alerts(self, request: web.Request, staffer: auth.Staffer) -> web.StreamResponse:
        now = self.clock()
        shown = []
        for alert_id in await panel.queue(self.database, actor_id=staffer.telegram_user_id, now=now):
            view = await self.desk.view(alert_id=alert_id, now=now)
            if view is not None:
                shown.append(self._card(view, now))
        return self._render("alerts.html", staffer, cards=shown, notice=self._notice(request))

    def _notice(self, request: web.Request) -> str | None:
        """What the last action did, shown after its redirect."""
        done = request.query.get("done", "")
        code = request.query.get("code", "")
        if done in REPLIED and PATIENT_CODE.fullmatch(code):
            return self.cards.t(REPLIED[done], code=code)
        return self.cards.t(f"alerts.done.{done}") if done in DONE.values() else None

    def _card(self, view: AlertView, now: datetime) -> dict[str, object]:
        """A card as the staff chat shows it: its text, and the buttons it has there that act on it."""
        actions = []
        for row in self.cards.keyboard(view).inline_keyboard:
            for button in row:
                parsed = parse_alert(button.callback_data)
                if parsed is not None and parsed[0] in DONE:
                    # The button's own data names the card's version: a page loaded before the alert
                    # opened again for a new finding must not act on what it never showed.
                    actions.append({"value": parsed[0].value, "label": button.text, "card": button.callback_data})
        alert = view.alert
        return {
            "id": alert.id,
            "code": view.code,
            "tier": alert.tier,
            "tier_label": self.cards.t(f"alerts.tier.{alert.tier}"),
            "status": alert.status,
            "opened": self.cards.when(alert.opened_at),
            "caption": self.cards.caption(view, now=now),
            "actions": actions,
            "reply_label": self.cards.t("alerts.buttons.reply"),
        }

    async def _alert_chart(self, request: web.Request, staffer: auth.Staffer) -> web.StreamResponse:
        now = self.clock()
        alert_id = int(request.match_info["alert_id"])
        view = await self.desk.view(alert_id=alert_id, now=now)
        if view is None:
            raise web.HTTPNotFound
        if view.alert.status not in ACTIVE_ALERT_STATUSES:
            # Not a card of the queue, whose page is its read (view_alert_queue): a closed alert's chart, by
            # its number. A read of that patient's days, audited as the card's History button is.
            view = await self.desk.view_history(alert_id=alert_id, actor_id=staffer.telegram_user_id, now=now)
            if view is None:
                raise web.HTTPNotFound
        return web.Response(body=await self.cards.chart(view, now=now), content_type="image/png")

    async def _alert_action(self, request: web.Request, staffer: auth.Staffer) -> web.StreamResponse:
        """A card's button, pressed in the browser: the same desk call as on Telegram (audited there, and the
        staff chat's card queued for its update with the change, so both show the same)."""
        alert_id, now = int(request.match_info["alert_id"]), self.clock()
        form = await request.post()
        try:
            action = StaffAction(str(form.get("action", "")))
        except ValueError:
            action = StaffAction.HISTORY
        if action not in DONE:
            return self._message(staffer, 400, "Unknown action", "Use the buttons on the alert queue.")
        shown = parse_alert(form.get("card"))  # the card the page showed
        opened_at = shown[2] if shown is not None and shown[1] == alert_id else None
        event_at = shown[3] if shown is not None and shown[1] == alert_id else None
        changed = await self.desk.act(
            alert_id=alert_id,
            action=action,
            by=staffer.telegram_user_id,
            name=staffer.name,
            now=now,
            opened_at=opened_at,
            event_at=event_at,
        )
        if changed is None:
            view = await self.desk.view(alert_id=alert_id, now=now)
            if view is not None and opened_at not in (None, view.alert.opened_at):
                return self._message(staffer, 409, self.cards.t("alerts.stale"), "Reload the queue to see it.")
            if view is not None and event_at not in (None, view.alert.event_at):
                return self._message(staffer, 409, self.cards.t("alerts.changed"), "Reload the queue to see it.")
            return self._message(staffer, 409, self.cards.t("alerts.closed"), "Someone acted on it first.")
        if self.wake is not None:  # the staff chat's card, queued with the change
            self.wake.set()
        raise web.HTTPSeeOther(self.url("/alerts", done=DONE[action]))

    # ------------------------------------------------------------------ patients

    async def _patients(self, request: web.Request, staffer: auth.Staffer) -> web.StreamResponse:
        sort = request.query.get("sort", "alerts")
        sort = sort if sort in panel.SORTS else "alerts"
        status = request.query.get("status") or None
        status = status if status in panel.STATUSES else None
        page = request.query.get("page", "1")
        found = await panel.panel(
            self.database,
            self.desk,
            actor_id=staffer.telegram_user_id,
            now=self.clock(),
            sort=sort,
            status=status,
            page=int(page) if page.isdecimal() else 1,  # isdigit() passes "²", which int() cannot read
        )
        labels = {s: self.cards.t(f"staff.status.{s}") for s in panel.STATUSES}
        return self._render(
            "patients.html",
            staffer,
            rows=panel.table_rows(found.lines, status_label=labels, record_url=self.url("/patients/")),
            found=found,
            sort=sort,
            sorts=panel.SORTS,
            chosen=status,
            statuses=panel.STATUSES,
            status_label=labels,
        )

    async def _patient(self, request: web.Request, staffer: auth.Staffer) -> web.StreamResponse:
        """One patient's record, audited as /patient is: the diary with notes, the chart, scores, infusion
        cycles, messages with the reply box, and who has looked at the record."""
        code, now = request.match_info["code"], self.clock()
        try:
            found = await panel.record(
                self.database,
                code=code,
                actor_id=staffer.telegram_user_id,
                now=now,
                questionnaires=self.questionnaires.values(),
            )
        except UnknownPatient:
            return self._message(staffer, 404, "Unknown patient", self.cards.t("staff.unknown_patient", code=code))
        cycles = await self.desk.patient_cycles(patient_id=found.patient_id, now=now)
        answered = [e for e in found.entries if e.answers]
        chart = self._chart(found, now) if answered else None
        entries = [
            {
                "when": self.cards.when(e.started_at),
                "answers": [e.answers.get(i, "–") for i in ITEMS],
                "note": e.answers.get("note"),
            }
            for e in reversed(answered)
        ]
        return self._render(
            "patient.html",
            staffer,
            code=code,
            patient_status=self.cards.t(f"staff.status.{found.status}"),
            notice=self._notice(request),
            chart=chart,
            items=[self.cards.t(f"items.{i}.label") for i in ITEMS],
            entries=entries,
            cycles=[describe(self.cards.t, c) for c in reversed(cycles)],
            scores=score_lines(self.cards.t, found.answered, ZoneInfo(found.timezone)),
            messages=[self._said(s) for s in reversed(found.messages)],
            reachable=found.reachable,
            report_days=(report.MIN_DAYS, report.MAX_DAYS, report.DEFAULT_DAYS),
            reply_text="",
            trail=[
                {"when": self.cards.when(v.at), "who": v.who, "action": v.action}
                for v in await panel.trail(self.database, code=code)
            ],
        )

    def _chart(self, found: panel.Record, now: datetime) -> Markup:
        """The record's 90 days of pain and mood, drawn from the same data as the Telegram charts."""
        start = now - panel.RECORD
        data = diary_chart.chart_data(
            found.entries,
            title=f"{found.code}: pain and mood at daily check-ins, {self.cards.day(start)} to {self.cards.day(now)}",
            now=now,
            window=panel.RECORD,
            infusions=[diary_chart.midday(d, self.cards.zone) for d in found.infusions],
        )
        labels = diary_chart.chart_labels(self.cards.t, self.questionnaires.daily)
        return svg.render(data, labels, zone=self.cards.zone)

    def _said(self, said: panel.Said) -> dict[str, object]:
        if not said.from_patient:
            return {"when": self.cards.when(said.at), "who": f"Reply by {said.who}", "text": "", "detail": said.length}
        kind = "" if said.kind == "text" else said.kind.replace("_", " ")
        return {
            "when": self.cards.when(said.at),
            "who": "Patient" + (" (crisis words)" if said.crisis else ""),
            "text": said.text,
            "detail": ", ".join(filter(None, [kind, f"seen by {said.who}" if said.who else "not marked seen"])),
        }

    # ------------------------------------------------------------------ replies

    async def _reply(self, request: web.Request, staffer: auth.Staffer) -> web.StreamResponse:
        """A reply to the patient, sent as a reply from the staff chat is (bot/care_team/replies.py): in
        parts when long, audited, then back to where it was written. Bad input keeps the text."""
        code, now = request.match_info["code"], self.clock()
        form = await request.post()
        # A browser sends a text box's line breaks as "\r\n"; Telegram's limit, and the patient's chat, count one.
        text = str(form.get("text", "")).replace("\r\n", "\n")
        back = str(form.get("back", ""))
        problem = None
        if not text.strip():
            problem = "Write the reply first."
        elif units(text) > TEXT_LIMIT:
            problem = f"A reply holds at most {TEXT_LIMIT} characters; this one has {units(text)}. Shorten it."
        elif await self._holds_signin_link(text, staffer, now):
            problem = (
                "A sign-in link to this console never goes to a patient: whoever opens it is signed in as the staff "
                "member it was made for. It no longer works (/console in Telegram sends a new one). Take it out."
            )
        async with self.database.session() as session:
            patient = await patients.by_code(session=session, code=code)
        if patient is None or patient.id is None:
            return self._message(staffer, 404, "Unknown patient", self.cards.t("staff.unknown_patient", code=code))
        if problem is not None:
            return self._render("reply.html", staffer, status=400, code=code, problem=problem, text=text, back=back)
        sent = await self.replies.send(
            patient_id=patient.id,
            staff_user_id=staffer.telegram_user_id,
            staff_name=staffer.name,
            text=text,
            update_id=_reply_key(staffer, str(form.get("nonce", "")), code, text),
            now=now,
        )
        if sent is None:
            return self._message(staffer, 409, "Not sent", f"{code} has no chat with the diary bot to reply in.")
        if self.wake is not None:
            self.wake.set()
        log.info("staff %s replied to patient %s from the console", staffer.telegram_user_id, patient.id)
        # Queued all the same (it goes once the patient unblocks the bot or writes to it; a refusal is owed again
        # then), but staff should reach them another way.
        done = "replied_unreachable" if sent.status == PatientStatus.UNREACHABLE else "replied"
        if back.isdigit():  # from a card on the alert queue
            raise web.HTTPSeeOther(self.url("/alerts", done=done, code=code) + f"#alert-{back}")
        raise web.HTTPSeeOther(self.url(f"/patients/{code}", done=done, code=code) + "#messages")

    async def _holds_signin_link(self, text: str, staffer: auth.Staffer, now: datetime) -> bool:
        """Whether a reply holds a sign-in link to this console, as a reply from Telegram is refused for one
        (handlers/staff_replies.py): one still working stops working (audited), since it was pasted out of where it
        was sent."""
        withdrawn = await auth.withdraw_posted(
            self.database,
            words=text,
            chat_id=staffer.telegram_user_id,
            actor_id=staffer.telegram_user_id,
            now=now,
            staff_text=None,
            seen="written in a console reply to a patient",
        )
        return withdrawn or auth.has_signin_link(text, self.settings.console_url)

    # ------------------------------------------------------------------ exports

    async def _export(self, request: web.Request, staffer: auth.Staffer) -> web.StreamResponse:
        """One patient's diary (or, from the panel, everyone's) as the diary CSV or a FHIR R4 Bundle, the
        command line's export, audited as it is (`export`, "csv (console)")."""
        code, now = request.match_info.get("code"), self.clock()
        fhir = request.path.endswith(".json")
        try:
            export = await Export.open(
                self.database,
                code=code,
                actor_id=staffer.telegram_user_id,
                what=f"{'fhir' if fhir else 'csv'} (console)",
                now=now,
            )
        except UnknownPatient:
            return self._message(staffer, 404, "Unknown patient", self.cards.t("staff.unknown_patient", code=code))
        body = io.StringIO()
        if fhir:
            await export.write_fhir(body, self.questionnaires, now=now)
        else:
            await export.write_csv(body)
        log.info("staff %s exported %s diaries from the console", staffer.telegram_user_id, len(export.patients))
        day = now.astimezone(self.cards.zone).date().isoformat()
        name = f"fhir-{code or 'all'}-{day}.json" if fhir else f"diary-{code or 'all'}-{day}.csv"
        return _download(body.getvalue().encode("utf-8"), name, "application/fhir+json" if fhir else "text/csv")

    async def _report(self, request: web.Request, staffer: auth.Staffer) -> web.StreamResponse:
        """The visit report as /report sends it (in the clinic's language), audited as `report`."""
        code, now = request.match_info["code"], self.clock()
        try:
            days = report.check_days(int(request.query.get("days", report.DEFAULT_DAYS)))
        except ValueError:  # not a number, or out of range (report.BadDays)
            text = f"A report covers {report.MIN_DAYS} to {report.MAX_DAYS} days."
            return self._message(staffer, 400, "Report not made", text)
        timezone = self.settings.default_timezone
        try:
            made = await report.make(
                self.database,
                self.desk,
                self.questionnaires,
                self.cards.t,
                report.Asked(code, days, staffer.telegram_user_id, now, timezone, how="console"),
            )
        except UnknownPatient:
            return self._message(staffer, 404, "Unknown patient", self.cards.t("staff.unknown_patient", code=code))
        log.info("staff %s made a visit report from the console", staffer.telegram_user_id)
        return _download(made.pdf, report.filename(code, now, timezone), "application/pdf")

    async def _team(self, request: web.Request, staffer: auth.Staffer) -> web.StreamResponse:
        async with self.database.session() as session:
            members = await staff.members(session=session)
        return self._render("team.html", staffer, members=members)


async def _form(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | web.FileField] | None:
    """The posted form (read once: handlers after the guard get it again from aiohttp's cache); None when
    its text is not UTF-8, which no browser sends from these pages."""
    try:
        return await request.post()
    except UnicodeDecodeError:
        return None


def _reply_key(staffer: auth.Staffer, nonce: str, code: str, text: str) -> int:
    """The key a reply is sent once under, as Telegram's update id keys a reply from the staff chat: the
    same text to the same patient from the same form (its nonce) is a form sent twice; anything else
    written on a page, even one reached again with Back, goes. Negative, so it never meets an update's id."""
    nonce = nonce or secrets.token_hex(16)  # no nonce: no protection against sending twice, nothing else
    digest = hashlib.sha256("\0".join(["console-reply", staffer.session_id, nonce, code, text]).encode()).digest()
    return -1 - int.from_bytes(digest[:7], "big")


def _download(body: bytes, filename: str, content_type: str) -> web.Response:
    """A file to save, not to show; its name holds only characters safe in a header."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    response = web.Response(body=body, content_type=content_type, charset="utf-8" if "text" in content_type else None)
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    return response
