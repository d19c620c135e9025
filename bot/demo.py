"""`python -m bot demo`: the real bot against the loopback stand-in, on a fresh SQLite file.

Simulated patients enrol through invite links and answer check-ins by pressing buttons; the rules
raise alerts in the staff chat, where a clinician acts on them and replies; a question, a voice note
and crisis messages reach staff. The transcript of every side is printed, and the charts the bot sent
are written to data/demo/files/. At the end Dr Ruiz asks the bot for a link to the web console, which is
served on loopback beside the bot; with --keep everything stays up until Ctrl-C, so the link can be opened.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import signal
from contextlib import suppress
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import monotonic
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.alerts import escalation
from bot.alerts.desk import AlertDesk
from bot.config import Settings, load_settings
from bot.diary import enrolment
from bot.diary.questionnaire import Questionnaire
from bot.diary.scheduler import Scheduler
from bot.runner import serve
from bot.sandbox import BotApiStandIn, SimulatedUser
from bot.sandbox.picture import message_picture
from bot.sandbox.server import ChatMessage, Event, free_port
from storage import checkins, patients
from storage.database import Database
from storage.models import OutboxMessage
from storage.statuses import OWED

DEMO_DIR = Path("data/demo")
EVA_INFUSION_AGO = timedelta(days=56)
STAFF_CHAT = -1001
ADMIN = 2001


class DemoClock:
    """The bot's clock, which the demo moves forward to play past days' check-ins."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)
        self._running_since: float | None = None

    def __call__(self) -> datetime:
        if self._running_since is None:
            return self.now
        return self.now + timedelta(seconds=monotonic() - self._running_since)

    def run_on(self) -> None:
        """From now on, follow the wall clock (the demo is kept running): sign-in links and sessions expire
        as they would in a clinic, and check-ins come due."""
        self._running_since = monotonic()


async def _invite(settings: Settings, code: str, timezone: str, language: str, now: datetime) -> str:
    database = Database(settings.database_url)
    try:
        return await enrolment.create_invite(
            database,
            code=code,
            timezone=timezone,
            language=language,
            checkin_times="09:00",
            now=now,
            valid_for=timedelta(days=7),
        )
    finally:
        await database.dispose()


def _eva_history(today: date) -> list[tuple[datetime, date, dict[str, str]]]:
    """Eva's diary before she moved to the bot, one check-in a day at 09:00 in Berlin: pain near 7, a
    ketamine infusion 8 weeks ago that took it to 2-3, and since then a slow climb back."""
    infusion = today - EVA_INFUSION_AGO
    pains: list[tuple[date, int]] = []
    for back in range(100, 0, -1):
        day = today - timedelta(days=back)
        since = (day - infusion).days
        if since < 0:
            pain = 7 + (back % 3 == 0) - (back % 5 == 0)
        elif since < 30:
            pain = 2 + (back % 2)
        else:  # three points back in four weeks
            pain = min(5, 3 + (since - 30) // 9)
        pains.append((day, pain))
    zone = ZoneInfo("Europe/Berlin")
    return [
        (
            datetime.combine(day, time(9), tzinfo=zone).astimezone(UTC),
            day,
            {"pain": str(pain), "skin_color": "same", "skin_temperature": "same", "swelling": "none", "mood": "3"},
        )
        for day, pain in pains
    ]


async def _import_history(settings: Settings, code: str, entries: list[tuple[datetime, date, dict[str, str]]]) -> None:
    """What `python -m bot import` does with a clinic's earlier records."""
    database = Database(settings.database_url)
    try:
        async with database.session() as session:
            patient = await patients.by_code(session=session, code=code)
            assert patient is not None and patient.id is not None
            await checkins.import_entries(
                session=session, patient_id=patient.id, questionnaire="daily", entries=entries
            )
    finally:
        await database.dispose()


async def _escalate(settings: Settings, clock: DemoClock) -> None:
    """What the bot's interval job does for urgent alerts nobody has acknowledged, run now."""
    database = Database(settings.database_url)
    try:
        await escalation.escalate(AlertDesk.for_settings(database, settings), now=clock())
    finally:
        await database.dispose()


async def _tick(settings: Settings, clock: DemoClock) -> datetime | None:
    """What the bot's interval job does, run now so the demo need not wait: due slots become check-ins.
    Returns when the next slot is due."""
    database = Database(settings.database_url)
    try:
        scheduler = Scheduler.for_settings(database, settings, Questionnaire.load("daily"))
        await scheduler.dispatch_due(now=clock())
        return await scheduler.earliest_due()
    finally:
        await database.dispose()


async def _new_checkin(user: SimulatedUser, before: int) -> None:
    """Wait until the user has more than `before` messages from the bot, the newest a check-in."""
    await user.wait_for(lambda: len(user.messages) > before and user.last.buttons[0][1].startswith("ck:a:"))


async def _answer(user: SimulatedUser, answers: list[str]) -> None:
    """Press the answers, then Skip the note."""
    for label in answers:
        await user.press(label)
    await user.press(user.last_with_buttons().buttons[-1][0])


async def _sent(settings: Settings, clock: DemoClock) -> None:
    """Until the bot has sent every message that is due (a questionnaire offered after a check-in)."""
    database = Database(settings.database_url)
    try:
        while True:
            async with database.session() as session:
                owed = await session.exec(
                    select(OutboxMessage.id).where(
                        col(OutboxMessage.status).in_(OWED), OutboxMessage.not_before <= clock()
                    )
                )
                if owed.first() is None:
                    return
            await asyncio.sleep(0.05)
    finally:
        await database.dispose()


async def _questionnaire_offered(user: SimulatedUser, settings: Settings, clock: DemoClock) -> ChatMessage | None:
    """The questionnaire offered after the check-in just completed, if one was due."""
    await _sent(settings, clock)
    last = user.last
    return last if any(data.startswith("ck:t:") for _, data in last.buttons) and "·" in (last.text or "") else None


async def _press_all(user: SimulatedUser, message: ChatMessage, labels: list[str]) -> None:
    """Press the labels in turn on one message, edited in place."""
    for label in labels:
        await user.press(label, message=user.server.messages[user.id][message.message_id])


def _ben_answers(offer: ChatMessage) -> list[str]:
    """Ben's answers to whichever questionnaire came round: mood, pain interference or CRPS signs."""
    labels = [label for label, _ in offer.buttons]
    if "Several days" in labels:
        return ["Several days", "Not at all"]
    if "Yes" in labels:
        return ["Yes", "Yes", "No", "No", "Yes", "No", "No", "Yes", "No"]
    return ["6", "6", "7"]


def _print_events(events: list[Event], names: dict[int, str], shown: set[str]) -> None:
    for event in events:
        name = names.get(event.chat_id, str(event.chat_id))
        if event.actor == "user":
            verb = {"press": "presses", "text": "writes ", "edit": "edits  "}.get(event.kind, "sends  ")
            print(f"  {name:>6} {verb} {event.text!r}")
            continue
        prefix = {
            "send": "sends",
            "edit": "edits",
            "photo": "sends chart",
            "toast": "pops up",
            "copy": "copies",
        }.get(event.kind, event.kind)
        lines = event.text.splitlines() or [""]
        if event.text in shown and len(lines) > 2:
            lines = [lines[0], "(as above)"]
        shown.add(event.text)
        print(f"  {'bot':>6} {prefix:<7} → {name}: {lines[0]}")
        for line in lines[1:]:
            print(f"  {'':>6} {'':<7}   {line}")
        if event.buttons:
            print(f"  {'':>6} {'':<7}   buttons: " + " ".join(f"[{b}]" for b in event.buttons))


async def run_demo(directory: Path = DEMO_DIR, *, keep: bool = False) -> None:
    """Play the demo; with `keep`, leave the bot, the stand-in and the console running until SIGINT or
    SIGTERM (Ctrl-C), printing what the bot sends meanwhile."""
    await asyncio.to_thread(shutil.rmtree, directory, ignore_errors=True)
    clock = DemoClock()
    # Messages are dated by the demo's clock, which the bot also reads: each counts at its own time.
    standin = BotApiStandIn(files_dir=directory / "files", clock=clock)
    root = await standin.start()
    port = free_port()
    settings = load_settings(
        telegram_bot_token=standin.token,
        telegram_api_base_url=root,
        database_url=f"sqlite:///{directory / 'diary.db'}",
        default_language="en",
        default_timezone="Europe/Berlin",
        # The demo moves its clock and runs the scheduler's tick itself (see _tick).
        schedule_tick_seconds=60,
        staff_chat_id=STAFF_CHAT,
        admin_telegram_ids=str(ADMIN),
        # The web console, beside the bot on loopback (plain http is allowed only there).
        console_url=f"http://127.0.0.1:{port}/console",
        console_listen=f"127.0.0.1:{port}",
    )
    stop, ready = asyncio.Event(), asyncio.Event()
    bot_task = asyncio.create_task(serve(settings, stop=stop, ready=ready, clock=clock, poll_timeout=1))
    try:
        await asyncio.wait_for(ready.wait(), 30)
        names = await _play(standin, settings, clock, directory, keep=keep)
        if keep:
            await _keep_running(standin, clock, names)
    finally:
        stop.set()
        await bot_task
        await standin.stop()


async def _keep_running(standin: BotApiStandIn, clock: DemoClock, names: dict[int, str]) -> None:
    """Until Ctrl-C (or SIGTERM), on the wall clock, printing what the bot sends: a press in the console
    shows here as the staff chat's card being edited."""
    clock.run_on()
    interrupted = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, interrupted.set)
    shown: set[str] = set()
    mark = len(standin.transcript)
    try:
        while not interrupted.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(interrupted.wait(), 0.5)
            _print_events(standin.transcript[mark:], names, shown)
            mark = len(standin.transcript)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    print("\nStopped.")


async def _play(
    standin: BotApiStandIn, settings: Settings, clock: DemoClock, directory: Path, *, keep: bool
) -> dict[int, str]:
    """The demo's script; returns the names of the chats, for printing what happens afterwards."""
    print(f"Bot API stand-in on {standin.url}; the real bot polls it; database {directory / 'diary.db'}\n")

    ben = SimulatedUser(standin, 1001, "Ben", "en")
    ana = SimulatedUser(standin, 1002, "Ana", "es")
    carl = SimulatedUser(standin, 1003, "Carl", "en")
    dee = SimulatedUser(standin, 1004, "Dee", "en")
    ruiz = SimulatedUser(standin, ADMIN, "Dr Ruiz", "en")
    names = {u.id: u.first_name for u in (ben, ana, carl, dee, ruiz)} | {STAFF_CHAT: "staff chat"}
    shown: set[str] = set()
    start = clock.now - timedelta(days=14)
    clock.now = start
    tokens = {
        code: await _invite(settings, code, tz, lang, clock.now)
        for code, tz, lang in [
            ("P-0012", "Europe/Berlin", "en"),
            ("P-0013", "Europe/Madrid", "es"),
            ("P-0014", "Europe/Berlin", "en"),
        ]
    }
    print("Staff created invites: python -m bot invite --code P-0012 --tz Europe/Berlin --lang en  (and two more)\n")

    def chapter(title: str) -> int:
        print(f"── {title} " + "─" * max(0, 70 - len(title)))
        return len(standin.transcript)

    mark = chapter("Ben opens his invite link, reads the consent screen and agrees")
    await ben.send(f"/start {tokens['P-0012']}")
    await ben.press("I agree")
    _print_events(standin.transcript[mark:], names, shown)

    mark = chapter("Ben's first check-in: he changes his pain answer with Back, then adds a note")
    await ben.send("/checkin")
    for label in ["7", "Redder", "Warmer"]:
        await ben.press(label)
    await ben.press("◀ Back")
    await ben.press("Colder")
    for label in ["A little", "3 Okay"]:
        await ben.press(label)
    await ben.send("Hand burning since the night.")
    await ben.wait_for(lambda: ben.last.text == "Thank you, your note is saved.")
    _print_events(standin.transcript[mark:], names, shown)

    mark = chapter("A mood questionnaire is due (PHQ-2, every 14 days); a positive screen goes on to the PHQ-9")
    offer = await _questionnaire_offered(ben, settings, clock)
    assert offer is not None
    await _press_all(ben, offer, ["More than half the days", "Several days"])
    await _press_all(ben, offer, ["Several days"] * 3 + ["More than half the days"] + ["Not at all"] * 3)
    _print_events(standin.transcript[mark:], names, shown)

    mark = chapter("Ana enrols in Spanish and skips two questions")
    await ana.send(f"/start {tokens['P-0013']}")
    await ana.press("Estoy de acuerdo")
    await ana.send("/checkin")
    await ana.press("4")
    await ana.press("Saltar ▶")
    await ana.press("Igual")
    await ana.press("No está hinchada")
    await ana.press("4 Bueno")
    await ana.press("Saltar ▶")
    offer = await _questionnaire_offered(ana, settings, clock)
    assert offer is not None
    await ana.press("Esta vez no", message=offer)  # declined: offered again in 14 days
    _print_events(standin.transcript[mark:], names, shown)

    mark = chapter("Someone without an invite writes; Dee declines consent")
    await carl.send("hello?")
    await dee.send(f"/start {tokens['P-0014']}")
    await dee.press("No, thank you")
    _print_events(standin.transcript[mark:], names, shown)

    mark = chapter("09:00 next morning in Berlin and Madrid: scheduled check-ins arrive; Ana snoozes hers")
    due = await _tick(settings, clock)
    assert due is not None
    clock.now = due + timedelta(seconds=20)
    seen = {user: len(user.messages) for user in (ben, ana)}
    await _tick(settings, clock)
    await _new_checkin(ben, seen[ben])
    await _new_checkin(ana, seen[ana])
    await ana.press("Dentro de 1 h")
    await _answer(ben, ["5", "The same", "The same", "Not swollen", "4 Good"])
    seen[ana] = len(ana.messages)
    clock.now += timedelta(hours=1, seconds=5)
    await _new_checkin(ana, seen[ana])
    await _answer(ana, ["3", "Igual", "Igual", "No está hinchada", "3 Regular"])
    _print_events(standin.transcript[mark:], names, shown)

    mark = chapter("The weekly pain interference questionnaire (PEG: three 0-10 questions) follows the check-in")
    offer = await _questionnaire_offered(ben, settings, clock)
    assert offer is not None and "Pain and daily life" in (offer.text or "")
    await _press_all(ben, offer, ["6", "5", "7"])
    offer = await _questionnaire_offered(ana, settings, clock)
    if offer is not None:
        await ana.press("Esta vez no", message=offer)
    _print_events(standin.transcript[mark:], names, shown)

    mark = chapter("Two more weeks of scheduled check-ins, answered by pressing buttons (transcript omitted)")
    rng = random.Random(12)
    first = mark
    for day in range(1, 14):
        due = await _tick(settings, clock)
        assert due is not None
        clock.now = due + timedelta(minutes=rng.uniform(0, 30))
        seen = {user: len(user.messages) for user in (ben, ana)}
        await _tick(settings, clock)
        await _new_checkin(ben, seen[ben])
        await _new_checkin(ana, seen[ana])
        # Ben is steady for ten days; then his hand turns red and the pain climbs.
        flare = day >= 10
        pain = 8 + (day - 10) // 2 if flare else max(0, min(10, round(4 + rng.gauss(0, 0.8))))
        colour = "Redder" if flare else "The same"
        mood = "2 Low" if flare else rng.choice(["3 Okay", "4 Good"])
        await _answer(ben, [str(pain), colour, "The same", "Not swollen", mood])
        await _answer(ana, [str(max(0, pain - 2)), "Igual", "Igual", "Un poco", "3 Regular"])
        # The questionnaires come round on their cadences: Ben answers them, Ana declines them.
        offer = await _questionnaire_offered(ben, settings, clock)
        if offer is not None:
            await _press_all(ben, offer, _ben_answers(offer))
        offer = await _questionnaire_offered(ana, settings, clock)
        if offer is not None:
            await ana.press("Esta vez no", message=offer)
    print(f"  {len(standin.transcript) - first} messages, edits and presses")
    print("  meanwhile the rules found something and the staff chat received:")
    await ruiz.wait_for(lambda: any(m.photo for m in standin.chat(STAFF_CHAT)))
    _print_events([e for e in standin.transcript if e.chat_id == STAFF_CHAT and e.kind == "photo"], names, shown)
    print()

    mark = chapter("Dr Ruiz (staff) acknowledges the card; someone else in the group cannot")
    card = next(m for m in standin.chat(STAFF_CHAT) if m.photo)
    await carl.press("Acknowledge", message=card)
    await ruiz.press("Acknowledge", message=card)
    await ruiz.send(
        "/infusion P-0012 " + (clock.now - timedelta(days=60)).date().isoformat() + " ketamine", chat_id=STAFF_CHAT
    )
    _print_events(standin.transcript[mark:], names, shown)

    mark = chapter("Eva's earlier diary is imported; 8 weeks after her ketamine infusion, her relief wears off")
    eva = SimulatedUser(standin, 1005, "Eva", "en")
    names[eva.id] = eva.first_name
    token = await _invite(settings, "P-0015", "Europe/Berlin", "en", clock.now)
    await eva.send(f"/start {token}")
    await eva.press("I agree")
    today = clock.now.astimezone(ZoneInfo("Europe/Berlin")).date()
    await _import_history(settings, "P-0015", _eva_history(today))
    infusion = (today - EVA_INFUSION_AGO).isoformat()
    await ruiz.send(f"/infusion P-0015 {infusion} ketamine", chat_id=STAFF_CHAT)
    cards = sum(1 for m in standin.chat(STAFF_CHAT) if m.photo)
    await eva.send("/checkin")
    await _answer(eva, ["8", "The same", "The same", "Not swollen", "3 Okay"])
    await ruiz.wait_for(lambda: sum(1 for m in standin.chat(STAFF_CHAT) if m.photo) > cards)
    card = [m for m in standin.chat(STAFF_CHAT) if m.photo][-1]
    picture = directory / "card-P-0015.png"
    await asyncio.to_thread(picture.write_bytes, message_picture(card))
    print(f"  (the card as staff see it: {picture})")
    await ruiz.send("/cycles", chat_id=STAFF_CHAT)
    await ruiz.wait_for(lambda: (standin.chat(STAFF_CHAT)[-1].text or "").startswith("Infusion cycles"))
    _print_events(standin.transcript[mark:], names, shown)

    mark = chapter("Ben asks a question and sends a voice note; both reach the staff chat")
    await ben.send("Can I take more ibuprofen tonight?")
    answered = ben.expect_reply()
    ben.send_voice(duration=12)
    await answered
    await ruiz.wait_for(lambda: any(m.kind == "voice" for m in standin.chat(STAFF_CHAT)))
    _print_events(standin.transcript[mark:], names, shown)

    mark = chapter("Dr Ruiz replies to Ben from the staff chat")
    question = next(m for m in standin.chat(STAFF_CHAT) if "ibuprofen" in (m.text or ""))
    await ruiz.press("Reply", message=question)
    prompt = standin.chat(STAFF_CHAT)[-1]
    await ruiz.send(
        "Please don't take more tonight; we will call you in the morning.", chat_id=STAFF_CHAT, reply_to=prompt
    )
    await ben.wait_for(lambda: (ben.last.text or "").startswith("Your care team:"))
    _print_events(standin.transcript[mark:], names, shown)

    mark = chapter("Ben writes something worrying: the crisis text at once, an urgent card for staff")
    cards = sum(1 for m in standin.chat(STAFF_CHAT) if m.photo)
    await ben.send("i cant go on like this, i want to end it all")
    await ruiz.wait_for(lambda: sum(1 for m in standin.chat(STAFF_CHAT) if m.photo) > cards)
    _print_events(standin.transcript[mark:], names, shown)

    mark = chapter("Nobody acknowledges the urgent card for 16 minutes: it goes to the admin directly")
    clock.now += timedelta(minutes=16)
    await _escalate(settings, clock)
    await ruiz.wait_for(lambda: bool(ruiz.messages))
    await ruiz.press("Acknowledge", message=ruiz.last)
    await ben.wait_for(lambda: ben.last.text == "Your care team has seen your message.")
    _print_events(standin.transcript[mark:], names, shown)

    mark = chapter("An hour later Ben writes again: a new urgent card, escalating on its own clock")
    clock.now += timedelta(hours=1)
    cards = sum(1 for m in standin.chat(STAFF_CHAT) if m.photo)
    escalations = len(ruiz.messages)
    await ben.send("sorry, I still wish I was dead")
    await ruiz.wait_for(lambda: sum(1 for m in standin.chat(STAFF_CHAT) if m.photo) > cards)
    clock.now += timedelta(minutes=16)
    await _escalate(settings, clock)
    await ruiz.wait_for(lambda: len(ruiz.messages) > escalations)
    await ruiz.press("Acknowledge", message=ruiz.last)
    await ben.wait_for(lambda: ben.last.text == "Your care team has seen your message.")
    _print_events(standin.transcript[mark:], names, shown)

    mark = chapter("Ben asks for his history and a copy of his diary")
    await ben.send("/history")
    await ben.wait_for(lambda: ben.last.photo is not None)
    await ben.send("/export")
    await ben.wait_for(lambda: ben.last.document_name == "questionnaires.csv")
    await ben.wait_for(lambda: ben.last.document is not None)
    _print_events(standin.transcript[mark:], names, shown)

    mark = chapter("Dr Ruiz looks at the patient list; a patient asks for a staff command")
    await ruiz.send("/patients", chat_id=STAFF_CHAT)
    await ruiz.wait_for(lambda: (standin.chat(STAFF_CHAT)[-1].text or "").startswith("Patients"))
    await ana.send("/patients")
    _print_events(standin.transcript[mark:], names, shown)

    charts = [m.saved_to for chat in standin.messages.values() for m in chat.values() if m.saved_to]
    print("\nCharts and files the bot sent were written to:")
    for path in charts:
        print(f"  {path}")
    written = await _report(settings, clock, directory, "P-0015")
    print(f"\nEva's visit report, 90 days (python -m bot report P-0015 --out ...): {written}")

    mark = chapter("Dr Ruiz asks for a link to the web console; the bot answers in his direct chat")
    answer = await ruiz.send("/console")
    assert answer is not None and answer.text is not None and settings.console_url is not None
    link = next(word for word in answer.text.split() if word.startswith(settings.console_url))
    _print_events(standin.transcript[mark:], names, shown)
    print(f"\nDr Ruiz's sign-in link to the web console (he is an admin), working while the demo runs:\n  {link}")
    if keep:
        print("The demo keeps running (the bot, the stand-in and the console): press Ctrl-C to stop.")
    else:
        print("It stops working now: `python -m bot demo --keep` keeps the demo running until Ctrl-C.")
        print("\nDemo finished.")
    return names


async def _report(settings: Settings, clock: DemoClock, directory: Path, code: str) -> Path:
    """The visit report of a patient with an infusion, as the command line writes it."""
    from bot.records import report

    out = directory / f"report-{code}.pdf"
    database = Database(settings.database_url)
    try:
        await report.to_file(database, settings, code=code, days=report.DEFAULT_DAYS, out=out, now=clock())
    finally:
        await database.dispose()
    return out
