"""What staff and admins type is checked before anything is stored, and a refusal names the word that is
wrong and how to write it, in the sender's language. Each finding has its test, through the real bot
over the stand-in (SQLite: nothing here depends on the database engine)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from sqlmodel import select

from bot.cli import main
from bot.diary import enrolment, places
from bot.diary.schedule_rules import ScheduleError, parse_quiet_hours, parse_rule, parse_zone
from bot.prompts import Catalog
from bot.sandbox import SimulatedUser
from storage import patients, staff
from storage.models import Infusion
from tests.harness import Diary, running_diary

STAFF_CHAT = -100500
# Large cities that share a name across time zones: /timezone asks which one is meant.
AMBIGUOUS_ON_PURPOSE = [
    "birmingham",
    "cartagena",
    "cordoba",
    "la paz",
    "newcastle",
    "san jose",
    "san juan",
    "santa cruz",
    "valencia",
]


@pytest.fixture
async def diary(tmp_path: Path) -> AsyncIterator[Diary]:
    async with running_diary(f"sqlite:///{tmp_path / 'diary.db'}", tmp_path / "files") as running:
        yield running


async def a_member(diary: Diary, user_id: int = 800, *, language_code: str = "en") -> SimulatedUser:
    member = SimulatedUser(diary.standin, user_id, "Sam", language_code=language_code)
    async with diary.database.session() as session:
        await staff.add(session=session, telegram_user_id=member.id, role="staff", now=diary.clock())
    return member


async def said(user: SimulatedUser, text: str, *, chat_id: int | None = None) -> str:
    reply = await user.send(text, chat_id=chat_id)
    assert reply is not None and reply.text is not None, text
    return reply.text


async def infusions(diary: Diary) -> list[date]:
    async with diary.database.session() as session:
        return [row.given_on for row in (await session.exec(select(Infusion).order_by(Infusion.given_on))).all()]


def command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str
) -> str:
    """`python -m bot <args>` in this process, expected to refuse: what it printed to stderr."""
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("DEFAULT_TIMEZONE", "Europe/Berlin")
    with pytest.raises(SystemExit) as stopped:
        main(list(args))
    assert stopped.value.code == 2
    return capsys.readouterr().err.strip()


# 1. /infusion P-0012 2030-01-01 was accepted, and the card then said "-1137 days ago".


async def test_infusion_dates_in_the_future_or_implausibly_old_are_refused(diary: Diary) -> None:
    sam = await a_member(diary)
    await diary.enrol(SimulatedUser(diary.standin, 301, "Ben"), "P-0012")
    text = await said(sam, "/infusion P-0012 2030-01-01", chat_id=STAFF_CHAT)
    assert text.startswith(
        "2030-01-01 is in the future (today is 2026-11-21 in the clinic's time zone): "
        "record an infusion once it has been given.\nWrite /infusion P-0012"
    )
    text = await said(sam, "/infusion P-0012 2006-11-03 ketamine")
    assert text.startswith("2006-11-03 is more than 5 years ago: please check the year.")
    text = await said(sam, "/infusion P-0012 2026-02-30")
    assert text.startswith("'2026-02-30' is not a date: write it as YYYY-MM-DD, for example 2026-11-03.")
    text = await said(sam, "/infusion P-0012 20261103")
    assert text.startswith("'20261103' is not a date"), "one spelling, the one the usage line shows"
    text = await said(sam, "/infusion P-0012 2026-11-03 " + "k" * 65)
    assert text.startswith("The kind of infusion can be at most 64 characters")
    assert await infusions(diary) == []

    # "Today" is the clinic's (Europe/Berlin): 23:30 UTC on the 21st is already the 22nd there.
    diary.clock.now = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)
    assert await said(sam, "/infusion P-0012 2026-11-22") == "Infusion recorded for P-0012 on 2026-11-22."
    text = await said(sam, "/infusion P-0012 2026-11-23")
    assert text.startswith("2026-11-23 is in the future (today is 2026-11-22 in the clinic's time zone)")
    assert await said(sam, "/infusion P-0012 2021-11-23") == "Infusion recorded for P-0012 on 2021-11-23."
    assert await infusions(diary) == [date(2021, 11, 23), date(2026, 11, 22)]


# 2. /invite p12 was accepted: a second record for a patient whom the clinic calls P-0012.


async def test_invite_refuses_codes_outside_the_clinics_format(diary: Diary) -> None:
    sam = await a_member(diary)
    text = await said(sam, "/invite p12")
    assert text.startswith("'p12' is not a patient code of this clinic: write it like P-0012.\nWrite /invite P-0012")
    text = await said(sam, "/invite p-0012 Europe/Berlin")
    assert text.startswith("'p-0012' is not a patient code of this clinic: write it like P-0012.")
    text = await said(sam, "/invite ../../etc/passwd")
    assert text.startswith("'../../etc/passwd' is not a patient code")
    assert (await said(sam, "/invite P-0012")).startswith("Invite for P-0012")
    async with diary.database.session() as session:
        assert await patients.by_code(session=session, code="p12") is None
        assert await patients.by_code(session=session, code="p-0012") is None
    # The command line's invite checks through the same function when it passes the clinic's format.
    with pytest.raises(ValueError, match="'p12' is not a patient code of this clinic: write it like P-0012"):
        enrolment.check_code("p12", code_format=diary.settings.patient_code_format)
    assert enrolment.check_code("P-0012", code_format=diary.settings.patient_code_format) == "P-0012"


async def test_a_clinic_with_its_own_code_format_is_shown_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'diary.db'}"
    async with running_diary(url, tmp_path / "files", patient_code_format="CRPS[0-9]{3}") as diary:
        sam = await a_member(diary)
        text = await said(sam, "/invite P-0012")
        assert text.startswith("'P-0012' is not a patient code of this clinic: codes here match CRPS[0-9]{3}.")
        text = await said(sam, "/invite crps001")
        assert text.startswith("'crps001' is not a patient code of this clinic: write it like CRPS001.")
        assert (await said(sam, "/invite CRPS001")).startswith("Invite for CRPS001")


# 3. /invite P-0020 Europe/Berln got only the usage line.


async def test_a_misspelt_time_zone_is_named_with_the_nearest_zone(
    diary: Diary, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sam = await a_member(diary)
    text = await said(sam, "/invite P-0020 Europe/Berln")
    assert text.startswith("'Europe/Berln' is not an IANA time zone: did you mean Europe/Berlin?\nWrite /invite")
    text = await said(sam, "/invite P-0020 Bogotá")
    assert text.startswith("'Bogotá' is not an IANA time zone: did you mean America/Bogota?")
    text = await said(sam, "/invite P-0020 europe/madrid")
    assert text.startswith("'europe/madrid' is not an IANA time zone: did you mean Europe/Madrid?")
    text = await said(sam, "/invite P-0020 Córdoba")
    assert text.startswith(
        "'Córdoba' is a place in more than one time zone: write one of America/Argentina/Cordoba, Europe/Madrid."
    )
    text = await said(sam, "/invite P-0020 Mars/Olympus")
    assert text.startswith("'Mars/Olympus' is not an IANA time zone (for example Europe/Berlin)\nWrite /invite")
    text = await said(sam, "/invite P-0020 fr")
    assert text.startswith("'fr' is not a language of this diary: write one of en, es.")
    assert (await said(sam, "/invite P-0022 es-MX America/Mexico_City")).startswith("Invite for P-0022")
    text = await said(sam, "/invite P-0020 XX")
    assert text.startswith("'XX' is not a two-letter country code")
    text = await said(sam, "/invite P-0020 Europe/Berlin America/Chicago")
    assert text.startswith("'America/Chicago': Europe/Berlin was given already.")

    ada = SimulatedUser(diary.standin, 900, "Ada")
    ben = SimulatedUser(diary.standin, 302, "Ben")
    await diary.enrol(ben, "P-0021")
    text = await said(ada, "/schedule P-0021 09:00 mon-sun Europe/Berln")
    assert text.startswith("'Europe/Berln' is not an IANA time zone: did you mean Europe/Berlin?\nWrite /schedule")
    assert (await diary.schedule("P-0021")).times == "03:00", "nothing changed"

    await ben.send("/timezone Europe/Berln")
    assert ben.last.text == (
        'I could not find a time zone for "Europe/Berln". Did you mean Europe/Berlin? '
        "Press it below, or try a large city nearby."
    )
    await ben.press("Europe/Berlin")
    assert (ben.last.text or "").startswith("Your time zone is now Europe/Berlin.")

    with pytest.raises(ScheduleError) as refused:
        parse_rule("09:00", "mon-sun", "America/New_Yrok")
    assert str(refused.value) == "'America/New_Yrok' is not an IANA time zone: did you mean America/New_York?"
    printed = command_line(monkeypatch, capsys, tmp_path, "schedule", "P-0021", "09:00", "mon-sun", "Europe/Berln")
    assert printed == "error: 'Europe/Berln' is not an IANA time zone: did you mean Europe/Berlin?"


async def test_a_misspelt_time_zone_is_never_taken_for_the_servers_own_or_for_factory(
    diary: Diary, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The zone "localtime" is whatever the server is set to (a link the system's time zone database keeps
    beside the real ones) and "Factory" is the database's "zone not yet set": neither is a patient's."""
    sam = await a_member(diary)
    for word in ("localtime", "Factory"):
        text = await said(sam, f"/invite P-0020 {word}")
        assert text.startswith(f"'{word}' is not an IANA time zone"), text
        with pytest.raises(ScheduleError):
            parse_rule("09:00", "mon-sun", word)
    assert parse_zone("UTC") == "UTC" and parse_zone("Europe/Berlin") == "Europe/Berlin"
    printed = command_line(monkeypatch, capsys, tmp_path, "invite", "--code", "P-0020", "--tz", "localtime")
    assert printed.startswith("error: 'localtime' is not an IANA time zone")


# 4. /schedule P-0012 09:00 20:00 mon-sun Europe/Berlin said "'20:00' is not a day", and quiet hours
#    written 22-07 got a hint about check-in times.


async def test_times_written_with_spaces_are_told_to_join_them_with_a_comma(
    diary: Diary, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ada = SimulatedUser(diary.standin, 900, "Ada")
    await diary.enrol(SimulatedUser(diary.standin, 303, "Ben"), "P-0012")
    joined = "'20:00' is a second check-in time: join the times with a comma, without spaces (09:00,20:00)"
    for spaced, second in [("09:00 20:00", "20:00"), ("09:00, 20:00", "20:00"), ("09:00 ,20:00", ",20:00")]:
        text = await said(ada, f"/schedule P-0012 {spaced} mon-sun Europe/Berlin")
        assert text.startswith(joined.replace("'20:00'", f"'{second}'") + "\nWrite /schedule"), spaced
    text = await said(ada, "/schedule P-0012 09:00 13:00,20:00 mon-sun Europe/Berlin 22:00-07:00")
    assert text.startswith("'13:00,20:00' is a second check-in time: join the times with a comma, without spaces")
    assert "(09:00,13:00,20:00)" in text
    assert (await diary.schedule("P-0012")).times == "03:00", "nothing changed"

    sam = await a_member(diary)
    assert (await said(sam, "/invite P-0030 09:00 20:00")).startswith(joined)

    printed = command_line(
        monkeypatch, capsys, tmp_path, "schedule", "P-0012", "09:00", "20:00", "mon-sun", "Europe/Berlin"
    )
    assert printed == (
        "error: '20:00' is a time, not a day: join check-in times with a comma, without spaces (09:00,20:00)"
    )


async def test_hour_only_quiet_hours_are_accepted(diary: Diary) -> None:
    ada = SimulatedUser(diary.standin, 900, "Ada")
    await diary.enrol(SimulatedUser(diary.standin, 304, "Ben"), "P-0012")
    text = await said(ada, "/schedule P-0012 09:00 mon-sun Europe/Berlin 22-07")
    assert "Quiet hours: 22:00-07:00\n" in text
    assert (await diary.schedule("P-0012")).quiet_hours == "22:00-07:00", "stored as the usual spelling"
    text = await said(ada, "/schedule P-0012 09:00 mon-sun Europe/Berlin 23:30-6")
    assert "Quiet hours: 23:30-06:00\n" in text
    text = await said(ada, "/schedule P-0012 09:00 mon-sun Europe/Berlin 22-22")
    assert text.startswith("'22-22' begins and ends at the same time: write a span such as 22:00-07:00.")
    text = await said(ada, "/schedule P-0012 09:00 mon-sun Europe/Berlin 22-25")
    assert text.startswith("'22-25' is not a span of hours: write quiet hours as 22:00-07:00, or 22-07.")
    assert "check-in" not in text.splitlines()[0], "no hint about check-in times"
    assert parse_quiet_hours("22-7") == (time(22), time(7))
    assert parse_quiet_hours("22:00-07:00") == (time(22), time(7))


# 5. /timezone Bogotá, /timezone Ciudad de México and /timezone Barcelona were refused.


async def test_timezone_accepts_accents_and_city_names_in_each_language(diary: Diary) -> None:
    ana = SimulatedUser(diary.standin, 305, "Ana", language_code="es")
    await diary.enrol(ana, "P-0040", language="es")
    for typed, zone in [
        ("Bogotá", "America/Bogota"),
        ("Ciudad de México", "America/Mexico_City"),
        ("Barcelona", "Europe/Madrid"),
        ("Múnich", "Europe/Berlin"),
        ("Nueva York", "America/New_York"),
        ("Londres", "Europe/London"),
        ("Las Palmas de Gran Canaria", "Atlantic/Canary"),
        ("medellin", "America/Bogota"),
    ]:
        text = await said(ana, f"/timezone {typed}")
        assert text.startswith(f"Su zona horaria ahora es {zone}."), typed
    ben = SimulatedUser(diary.standin, 306, "Ben")
    await diary.enrol(ben, "P-0041")
    for typed, zone in [
        ("Munich", "Europe/Berlin"),
        ("MÜNCHEN", "Europe/Berlin"),
        ("mexico city", "America/Mexico_City"),
        ("BOGOTA", "America/Bogota"),
        ("St. John's", "America/St_Johns"),
        ("Berlin, Germany", "Europe/Berlin"),
        ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
    ]:
        text = await said(ben, f"/timezone {typed}")
        assert text.startswith(f"Your time zone is now {zone}."), typed

    # A name that is a city in two time zones is a choice, never a guess.
    await ben.send("/timezone Córdoba")
    assert ben.last.text == '"Córdoba" is in more than one time zone. Choose yours below.'
    await ben.press("America/Argentina/Cordoba")
    assert (ben.last.text or "").startswith("Your time zone is now America/Argentina/Cordoba.")
    # A misspelling is offered, never taken.
    await ana.send("/timezone Bogta")
    assert ana.last.text == (
        'No encuentro una zona horaria para "Bogta". ¿Quería decir Bogotá (America/Bogota)? '
        "Púlsela abajo, o pruebe con una ciudad grande cercana."
    )
    assert (await diary.schedule("P-0040")).timezone == "America/Bogota"
    text = await said(ana, "/timezone Mordor")
    assert text.startswith('No encuentro una zona horaria para "Mordor".')


def test_every_place_is_in_a_real_time_zone() -> None:
    known = places.zone_names()
    table = places.place_table()
    assert len(table) > 1000
    for place in table.values():
        assert set(place.zones) <= known, place
    assert places.find_zones("Múnich") == places.find_zones("munchen") == ("Europe/Berlin",)
    assert places.find_zones("America/Mexico_City") == ("America/Mexico_City",)
    assert places.find_zones("EST") == (), "an abbreviation without daylight saving time is not a place"
    ambiguous = sorted(name for name, place in table.items() if len(place.zones) > 1)
    assert ambiguous == sorted(AMBIGUOUS_ON_PURPOSE), "a name in two zones must be meant (and is asked about)"


# 6. Admin and staff error messages were in the clinic's language, not the sender's.


async def test_admin_and_staff_errors_come_in_the_senders_language(diary: Diary) -> None:
    sam = await a_member(diary, language_code="es-419")
    ben = SimulatedUser(diary.standin, 307, "Ben")
    await diary.enrol(ben, "P-0012")
    text = await said(sam, "/invite p12")
    assert text.startswith("'p12' no es un código de paciente de esta clínica: escríbalo como P-0012.\nEscriba /invite")
    text = await said(sam, "/infusion P-0012 2030-01-01", chat_id=STAFF_CHAT)
    assert text.startswith("2030-01-01 está en el futuro")
    assert (await said(sam, "/infusion")).startswith("Escriba /infusion P-0012")
    assert await said(sam, "/infusion P-0012 2026-11-03") == "Infusión registrada para P-0012 el 2026-11-03."
    assert (await said(sam, "/invite P-0050")).startswith("Invitación para P-0050")

    ada = SimulatedUser(diary.standin, 900, "Ada", language_code="es")
    text = await said(ada, "/schedule P-0012 09:00 mon-sun Europe/Berln")
    assert text.startswith(
        "'Europe/Berln' no es una zona horaria IANA: ¿quería decir Europe/Berlin?\nEscriba /schedule"
    )
    assert (await said(ada, "/staff add 555 boss")).startswith("Escriba /staff")
    assert (await said(ada, "/staff add 555 staff")) == "555 ahora es personal."

    # The person who typed reads their language; the staff chat stays in the clinic's.
    english = await a_member(diary, 801)
    assert (await said(english, "/invite p12")).startswith("'p12' is not a patient code of this clinic")
    await ben.send("When is my next appointment?")
    await diary.wait_until(lambda: any("Message from P-0012" in (m.text or "") for m in diary.standin.chat(STAFF_CHAT)))


def test_every_refusal_the_code_raises_has_its_words() -> None:
    """InputError("not_a_date", ...) speaks from input.not_a_date in every catalog."""
    catalog = Catalog.load("en")
    root = Path(__file__).resolve().parent.parent / "bot"
    raised = {
        key
        for path in root.rglob("*.py")
        for key in re.findall(r'(?:InputError|ScheduleError)\(\s*"([a-z_]+)"', path.read_text(encoding="utf-8"))
    }
    assert {"not_a_code", "not_a_date", "zone_suggestion", "times_spaced", "quiet_empty"} <= raised
    for language in catalog.languages:
        assert {key for key in raised if not catalog.has(language, f"input.{key}")} == set(), language
