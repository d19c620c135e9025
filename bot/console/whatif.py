"""The rules what-if (admins): edit or upload a rules file, replay it and the rules in use on the clinic's
own diary, see per rule how many alerts each would have raised, then save it where the bot reads it.

Replay checks the text with the loader the bot uses at start-up (an error names the line and setting,
and the text stays in the form), reads every patient's diary from the database (one audit row, as an
export of everyone) and counts alerts as `python -m bot replay` does, in a thread so that the bot
beside it keeps answering. Save is its own POST: it takes only the text that was replayed, refuses if
the file changed since the page was opened, writes atomically with the old file kept as `.bak`, audits
who and the SHA-256 of the old and new file in the same transaction, and hands the new rules to the
alert desk of this process; a bot in another process takes them at its next tick (rules_file.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from aiohttp import web
from multidict import MultiDictProxy

from bot.alerts import rules_file
from bot.alerts.crisis import CrisisLanguage
from bot.alerts.rules import RULE_NAMES, Rules, RulesError, read_rules
from bot.app import crisis_language
from bot.console import auth
from bot.records import clinic_history
from bot.records.clinic_history import ClinicHistory
from bot.records.replay import replay_diaries
from storage import audit

if TYPE_CHECKING:
    from bot.console.app import Console

log = logging.getLogger(__name__)

# How much of the diary a replay reads: the longer, the surer the counts and the longer it takes (about
# 10 s for 300 patients over a year on one core; README, Web console).
WINDOWS = {"90": 90, "180": 180, "365": 365, "all": None}
DEFAULT_WINDOW = "180"
EVERYTHING = datetime(1970, 1, 1, tzinfo=UTC)
LARGEST_FILE = 48 * 1024  # a rules file is a few kB; the console takes requests of up to 64 kB


@dataclass(frozen=True)
class RuleLine:
    rule: str
    current: int
    proposed: int
    current_per_month: float
    proposed_per_month: float
    tier: str  # under the proposed rules, "off" when disabled there
    tier_before: str

    @property
    def difference(self) -> int:
        return self.proposed - self.current


@dataclass(frozen=True)
class Comparison:
    patients: int
    checkins: int
    patient_months: float
    lines: list[RuleLine]
    total: RuleLine
    seconds: float


def _tier(rules: Rules, rule: str) -> str:
    config = getattr(rules, rule)
    return str(config.tier) if config.enabled else "off"


def compare(history: ClinicHistory, current: Rules, proposed: Rules, phrases: CrisisLanguage) -> Comparison:
    """Alerts per rule under both rule sets, on the same diaries (pure: run it in a thread)."""
    started = time.perf_counter()
    before, _ = replay_diaries(history.diaries, history.infusions, current, phrases, history.scores)
    after, _ = replay_diaries(history.diaries, history.infusions, proposed, phrases, history.scores)
    months = after.patient_months

    def per_month(count: int) -> float:
        return count / months if months else 0.0

    lines = [
        RuleLine(
            rule,
            before.by_rule[rule],
            after.by_rule[rule],
            per_month(before.by_rule[rule]),
            per_month(after.by_rule[rule]),
            _tier(proposed, rule),
            _tier(current, rule),
        )
        for rule in RULE_NAMES
    ]
    total = RuleLine("all rules", before.total, after.total, per_month(before.total), per_month(after.total), "", "")
    return Comparison(after.patients, after.checkins, months, lines, total, time.perf_counter() - started)


def proposed_text(form: MultiDictProxy[str | bytes | bytearray | web.FileField]) -> tuple[str, str]:
    """The rules the admin gave, with the name to call them by in errors: an uploaded file if one was
    chosen, else the text box. ValueError says what is wrong with an upload."""
    upload = form.get("upload")
    if isinstance(upload, web.FileField):
        data = upload.file.read(LARGEST_FILE + 1)
        if data:
            if len(data) > LARGEST_FILE:
                raise ValueError(f"{upload.filename}: larger than {LARGEST_FILE // 1024} kB: is it a rules file?")
            try:
                return rules_file.normalised(data.decode("utf-8-sig")), upload.filename or "the uploaded file"
            except UnicodeDecodeError:
                raise ValueError(f"{upload.filename}: not UTF-8 text: is it a rules file?") from None
    return rules_file.normalised(str(form.get("text", ""))), ""


class RulesPages:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.path = console.settings.rules_file
        self.replaying = asyncio.Lock()  # one replay at a time: it takes a core for seconds
        self.saving = asyncio.Lock()

    def add_routes(self, app: web.Application) -> None:
        c, p = self.console, self.console.prefix
        app.router.add_get(f"{p}/rules", c._guard("rules", self._page))
        app.router.add_post(f"{p}/rules/replay", c._guard("rules_replay", self._replay))
        app.router.add_post(f"{p}/rules/save", c._guard("rules_save", self._save))

    def _render(self, staffer: auth.Staffer, *, status: int = 200, **values: object) -> web.Response:
        shown: dict[str, object] = {
            "path": self.path,
            "windows": list(WINDOWS),
            "window": DEFAULT_WINDOW,
            "notice": None,
            "error": None,
            "comparison": None,
            "replayed": "",
        }
        return self.console._render("whatif.html", staffer, status=status, **(shown | values))

    async def _page(self, request: web.Request, staffer: auth.Staffer) -> web.StreamResponse:
        try:
            text, base = rules_file.current(self.path)
        except (OSError, UnicodeDecodeError) as error:
            log.error("rules file %s cannot be read: %s", self.path, error)
            return self.console._message(staffer, 500, "Rules file", f"The rules file {self.path} cannot be read.")
        notice = "Saved. New check-ins are checked against these rules." if request.query.get("saved") else None
        return self._render(staffer, text=text, base=base, notice=notice)

    async def _replay(self, request: web.Request, staffer: auth.Staffer) -> web.StreamResponse:
        form = await request.post()
        base = str(form.get("base", ""))
        window = str(form.get("window", DEFAULT_WINDOW))
        window = window if window in WINDOWS else DEFAULT_WINDOW
        try:
            text, source = proposed_text(form)
        except ValueError as error:
            return self._render(staffer, status=400, text=str(form.get("text", "")), base=base, error=str(error))
        try:
            proposed = read_rules(text, source=source or self.path.name)
        except RulesError as error:  # the text stays in the box, to be put right
            return self._render(staffer, status=400, text=text, base=base, window=window, error=str(error))
        current, note = self._current_rules()
        now = self.console.clock()
        days = WINDOWS[window]
        since = now - timedelta(days=days) if days is not None else EVERYTHING
        started = time.perf_counter()
        async with self.replaying:
            history = await clinic_history.read(
                self.console.database,
                self.console.questionnaires,
                since=since,
                actor_id=staffer.telegram_user_id,
                action="rules_replay",
                detail=f"every patient's diary since {since.date().isoformat()}",
                now=now,
            )
            phrases = await asyncio.to_thread(crisis_language)
            comparison = await asyncio.to_thread(compare, history, current, proposed, phrases)
        seconds = time.perf_counter() - started
        log.info(
            "rules replayed on %d patients in %.1f s (%.1f s reading)",
            comparison.patients,
            seconds,
            seconds - comparison.seconds,
        )
        return self._render(
            staffer,
            text=text,
            base=base,
            window=window,
            comparison=comparison,
            seconds=seconds,
            replayed=rules_file.fingerprint(text.encode("utf-8")),
            notice=note,
        )

    def _current_rules(self) -> tuple[Rules, str | None]:
        """The rules in the file now; if it no longer loads (edited by hand), the ones this process uses."""
        try:
            return read_rules(rules_file.current(self.path)[0], source=self.path.name), None
        except (OSError, UnicodeDecodeError, RulesError) as error:
            log.error("rules file %s does not load: %s", self.path, error)
            note = f"The rules file does not load ({error}): compared with the rules the bot started with."
            return self.console.desk.rules, note

    async def _save(self, request: web.Request, staffer: auth.Staffer) -> web.StreamResponse:
        form = await request.post()
        base = str(form.get("base", ""))
        text = rules_file.normalised(str(form.get("text", "")))

        def refused(status: int, why: str) -> web.Response:
            return self._render(staffer, status=status, text=text, base=base, error=why)

        if str(form.get("replayed", "")) != rules_file.fingerprint(text.encode("utf-8")):
            return refused(400, "The rules changed after the replay: replay them, then save.")
        if rules_file.fingerprint(text.encode("utf-8")) == base:
            return refused(400, "These are the rules in use: there is nothing to save.")
        now = self.console.clock()
        async with self.saving:
            try:
                async with self.console.database.session() as session:
                    rules, old, new = rules_file.save(self.path, text, expected=base)
                    await audit.record(
                        session=session,
                        actor_id=staffer.telegram_user_id,
                        action="rules_save",
                        detail=f"sha256 {old} -> {new}",
                        now=now,
                    )
            except RulesError as error:
                return refused(400, str(error))
            except rules_file.RulesChanged:
                return refused(409, "Someone saved the rules since you opened this page: open it again.")
            except OSError as error:
                log.error("rules file %s cannot be written: %s", self.path, error)
                return refused(500, f"The rules file cannot be written ({error.strerror}); nothing was saved.")
        self.console.desk.rules = rules  # this process's desk: the bot's own when the console runs inside it
        log.info("rules saved by %s", staffer.telegram_user_id)
        raise web.HTTPSeeOther(self.console.url("/rules", saved=1))
