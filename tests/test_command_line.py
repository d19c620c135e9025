"""The command line itself: `python -m bot` as a real process (its exit status 0, and the everyday
commands loading neither Telegram nor the bot), and bulk invites (`invite --csv FILE --out FILE`)."""

from __future__ import annotations

import asyncio
import csv
import gc
import os
import re
import runpy
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from bot.diary import enrolment
from bot.records.invites_csv import write_links
from bot.sandbox import BotApiStandIn, SimulatedUser
from storage import patients
from storage.database import Database
from storage.models import AuditEvent, Invite, Patient
from tests.cli import OURS, Completed, run_cli
from tests.harness import Diary

ROOT = Path(__file__).resolve().parent.parent
# Modules an everyday command has no use for: the Telegram library, the bot's handlers and runner, the
# web console and its templates, the metrics, the scheduler, charts, the alert rules and crisis texts,
# and on a database at head the migration tool. Each takes a noticeable part of a second to import.
HEAVY = re.compile(
    r"\| +(telegram|bot\.app|bot\.runner|bot\.handlers|bot\.console|bot\.delivery|aiohttp|apscheduler|matplotlib"
    r"|PIL|uvloop|jinja2|prometheus_client|alembic|bot\.alerts)(\.|$)",
    re.MULTILINE,
)
FORMULA_START = re.compile(r"[=+\-@\t\r]")  # as in tests/test_csv_safety.py


def imported(stderr: str) -> set[str]:
    """The heavy modules in `python -X importtime` output."""
    return {match.group(1) for match in HEAVY.finditer(stderr)}


def process(*argv: str, database_url: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
    env = clean | {"DATABASE_URL": database_url, "TELEGRAM_BOT_USERNAME": "clinic_diary_bot"}
    return subprocess.run(
        [sys.executable, "-X", "importtime", *argv], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_python_m_bot_exits_0_with_a_link_and_loads_neither_telegram_nor_the_bot(tmp_path: Path) -> None:
    """The command line's one subprocess test of exit status 0 (2: tests/test_hardening.py). Then
    schedule, staff and audit in one more process. The database is migrated first (by a command run
    in this process), as it is once a clinic's diary is installed: none of the four loads the
    migration tool then."""
    url = f"sqlite:///{tmp_path / 'diary.db'}"
    assert run_cli("staff", "list", DATABASE_URL=url).stdout == "no staff yet\n"
    done = process("-m", "bot", "invite", "--code", "P-0001", database_url=url)
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.fullmatch(r"https://t\.me/clinic_diary_bot\?start=[\w-]{22,}\n", done.stdout)
    assert imported(done.stderr) == set()

    three = "from bot.cli import main; main(['schedule', 'P-0001']); main(['staff', 'list']); main(['audit'])"
    done = process("-c", three, database_url=url)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "P-0001 has no schedule yet." in done.stdout and "no staff yet" in done.stdout
    assert "\tcommand line\tinvite\tP-0001\t" in done.stdout
    assert imported(done.stderr) == set()


def test_python_m_bot_freezes_its_objects_before_the_interpreter_ends(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The collector's walk over every object at exit took a third of a short command's time
    (bench/cli_startup.py): `python -m bot` freezes them first, also when the command fails. An
    everyday command runs without the collector: what it makes lives until it ends."""
    for name in [n for n in os.environ if n.startswith(OURS)]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'diary.db'}")
    monkeypatch.setattr("bot.cli.configure_logging", lambda verbose=False: None)  # the test's handlers stay
    before = gc.get_freeze_count()
    try:
        monkeypatch.setattr(sys, "argv", ["bot", "no-such-command"])
        with pytest.raises(SystemExit) as leaving:
            runpy.run_module("bot", run_name="__main__")
        assert leaving.value.code == 2
        assert gc.get_freeze_count() > before and gc.isenabled()

        monkeypatch.setattr(sys, "argv", ["bot", "staff", "list"])
        runpy.run_module("bot", run_name="__main__")
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


# --- Bulk invites ---------------------------------------------------------------------------------


def patients_file(folder: Path, text: str) -> Path:
    path = folder / "patients.csv"
    path.write_text(text, encoding="utf-8")
    return path


def bulk(source: Path, out: Path, database_url: str, *flags: str) -> Completed:
    return run_cli(
        "invite",
        "--csv",
        source,
        "--out",
        out,
        *flags,
        DATABASE_URL=database_url,
        DEFAULT_TIMEZONE="Europe/Berlin",
        DEFAULT_LANGUAGE="en",
        TELEGRAM_BOT_USERNAME="clinic_diary_bot",
    )


async def stored(database_url: str) -> tuple[int, int, int]:
    """Patients, invites and audit rows."""
    database = Database(database_url)
    try:
        async with database.session() as session:
            return (
                (await session.exec(select(func.count()).select_from(Patient))).one(),
                (await session.exec(select(func.count()).select_from(Invite))).one(),
                (await session.exec(select(func.count()).select_from(AuditEvent))).one(),
            )
    finally:
        await database.dispose()


async def test_a_file_of_patients_gets_one_private_link_each_that_enrols_them(
    diary: Diary, database_url: str, tmp_path: Path
) -> None:
    source = patients_file(
        tmp_path,
        "code,zone,language,times,country\n"
        'P-0101,America/Bogota,es,"08:30,19:00",CO\n'
        "P-0102,,,,\n"  # the clinic's zone, language and times; the zone's country
        "\n"  # blank lines are skipped
        "P-0103,Europe/Madrid,en,21:00,\n",
    )
    out = tmp_path / "links.csv"
    before = datetime.now(UTC).replace(microsecond=0)
    done = await asyncio.to_thread(bulk, source, out, database_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"wrote 3 invite links to {out}, readable by you only (0600): send each to its patient only\n"
    )
    assert out.stat().st_mode & 0o777 == 0o600
    assert not out.with_name("links.csv.partial").exists()

    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["code", "link", "expires"]
    assert [row[0] for row in rows[1:]] == ["P-0101", "P-0102", "P-0103"]
    assert not [cell for row in rows for cell in row if FORMULA_START.match(cell)]
    expires = {datetime.fromisoformat(row[2]) for row in rows[1:]}
    assert len(expires) == 1
    assert before + timedelta(days=7) <= expires.pop() <= datetime.now(UTC) + timedelta(days=7)
    tokens = {}
    for code, link, _ in rows[1:]:
        assert link.startswith("https://t.me/clinic_diary_bot?start=")
        tokens[code] = link.split("start=")[1]

    async with diary.database.session() as session:
        invites = {}
        for code, token in tokens.items():
            invite = (await session.exec(select(Invite).where(Invite.token_hash == enrolment.hash_token(token)))).one()
            invites[code] = (invite.timezone, invite.language, invite.checkin_times, invite.country)
        actions = (await session.exec(select(AuditEvent.action, AuditEvent.patient_code))).all()
    assert invites == {
        "P-0101": ("America/Bogota", "es", "08:30,19:00", "CO"),
        "P-0102": ("Europe/Berlin", "en", "", None),
        "P-0103": ("Europe/Madrid", "en", "21:00", None),
    }
    assert sorted(actions) == [("invite", "P-0101"), ("invite", "P-0102"), ("invite", "P-0103")]

    # The link works in the bot like any other: Ana opens hers, agrees, and is P-0101 in Bogotá.
    ana = SimulatedUser(diary.standin, 301, "Ana")
    await ana.send(f"/start {tokens['P-0101']}")
    await ana.press(data=f"cs:y:{tokens['P-0101']}")
    async with diary.database.session() as session:
        patient = await patients.by_telegram_user(session=session, telegram_user_id=301)
    assert patient is not None and (patient.code, patient.timezone, patient.language) == (
        "P-0101",
        "America/Bogota",
        "es",
    )


async def test_bad_rows_are_all_named_and_nothing_is_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'diary.db'}"
    source = patients_file(
        tmp_path,
        "zone,code,language,times\n"  # any column order
        "Europe/Berlin,P-0001,en,\n"
        "Berlin,P-0002,en,\n"
        "Europe/Berlin,p12,xx,25:00\n"
        "UTC,P-0003,es,09:00\n",
    )
    out = tmp_path / "links.csv"
    done = await asyncio.to_thread(bulk, source, out, url)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"error: {source}, row 3: 'Berlin' is not an IANA time zone: did you mean Europe/Berlin?",
        f"{source}, row 4: 'p12' is not a patient code of this clinic: write it like P-0012; "
        "language 'xx' is not served (served: en, es); "
        "'25:00' is not a time: write local times as HH:MM, comma-separated (09:00,20:00)",
        "nothing was created (a new link for one patient: invite --code CODE)",
    ]
    assert await stored(url) == (0, 0, 0)
    assert await asyncio.to_thread(lambda: list(tmp_path.glob("links.csv*"))) == []


async def test_codes_twice_in_the_file_or_in_the_diary_already_are_named(database_url: str, tmp_path: Path) -> None:
    invited = run_cli("invite", "--code", "P-0002", DATABASE_URL=database_url, TELEGRAM_BOT_USERNAME="b_bot")
    assert invited.returncode == 0, invited.stderr
    out = tmp_path / "links.csv"

    twice = patients_file(tmp_path, "code,zone,language\nP-0001,UTC,en\nP-0003,UTC,en\nP-0001,UTC,es\n")
    done = await asyncio.to_thread(bulk, twice, out, database_url)
    assert done.returncode == 2
    assert done.stderr.splitlines()[:-1] == [f"error: {twice}, row 4: P-0001 is in row 2 too"]

    # Only the database's refusal: checked in the transaction that would have made the invites.
    taken = patients_file(tmp_path, "code,zone,language\nP-0001,UTC,en\nP-0002,UTC,en\n")
    done = await asyncio.to_thread(bulk, taken, out, database_url)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: {taken}, row 3: P-0002 is in the diary already (invited)",
        "nothing was created (a new link for one patient: invite --code CODE)",
    ]

    # With a bad row as well, both are named in one pass.
    both = patients_file(tmp_path, "code,zone,language\nP-0002,UTC,en\nP-0004,Mars/Olympus,en\n")
    done = await asyncio.to_thread(bulk, both, out, database_url)
    assert done.returncode == 2
    assert done.stderr.splitlines()[:2] == [
        f"error: {both}, row 2: P-0002 is in the diary already (invited)",
        f"{both}, row 3: 'Mars/Olympus' is not an IANA time zone (for example Europe/Berlin)",
    ]
    assert await stored(database_url) == (1, 1, 1), "only the single invite made first"
    assert not out.exists()


async def test_an_empty_file_a_wrong_header_and_a_missing_folder_create_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'diary.db'}"
    out = tmp_path / "links.csv"
    empty = patients_file(tmp_path, "")
    done = await asyncio.to_thread(bulk, empty, out, url)
    assert (done.returncode, done.stderr) == (
        2,
        f"error: {empty}: the file is empty; the first row must be: code,zone,language[,times][,country]; "
        "nothing was created\n",
    )
    header_only = patients_file(tmp_path, "code,zone,language\n")
    done = await asyncio.to_thread(bulk, header_only, out, url)
    assert done.stderr == f"error: {header_only}: no patients in the file, only its header; nothing was created\n"

    wrong = patients_file(tmp_path, "code,timezone,language\nP-0001,UTC,en\n")
    done = await asyncio.to_thread(bulk, wrong, out, url)
    assert done.stderr == (
        f"error: {wrong}, row 1: header has missing zone column; expected: code,zone,language[,times][,country]; "
        "nothing was created\n"
    )
    unknown = patients_file(tmp_path, "code,zone,language,name\nP-0001,UTC,en,Ana\n")
    done = await asyncio.to_thread(bulk, unknown, out, url)
    assert "header has unknown name column" in done.stderr, "a name has no place in the diary"

    good = patients_file(tmp_path, "code,zone,language\nP-0001,UTC,en\n")
    done = await asyncio.to_thread(bulk, good, tmp_path / "no such folder" / "links.csv", url)
    assert done.returncode == 2
    assert done.stderr == (
        f"error: {tmp_path / 'no such folder' / 'links.csv'}: cannot write (No such file or directory); "
        "nothing was created\n"
    )
    assert await stored(url) == (0, 0, 0)


def test_flags_for_one_invite_are_refused_with_a_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'diary.db'}"
    source = patients_file(tmp_path, "code,zone,language\nP-0001,UTC,en\n")
    done = bulk(source, tmp_path / "links.csv", url, "--tz", "UTC", "--relink")
    assert (done.returncode, done.stderr) == (
        2,
        "error: --tz, --relink: with --csv each row gives its own (--relink: one patient at a time, with --code)\n",
    )
    done = run_cli("invite", "--csv", source, DATABASE_URL=url)
    assert done.stderr == "error: --csv needs --out, the file to write the links to\n"
    done = run_cli("invite", "--code", "P-0001", "--out", tmp_path / "x.csv", DATABASE_URL=url)
    assert done.stderr == "error: --out goes with --csv; one invite's link is printed\n"
    done = run_cli("invite", "--code", "P-0001", "--csv", source, DATABASE_URL=url)
    assert done.returncode == 2 and "not allowed with argument" in done.stderr


def test_links_that_a_spreadsheet_would_run_are_written_behind_a_quote(tmp_path: Path) -> None:
    """Codes and links cannot begin so today (the code format, https://), but the file is written as
    the exports are, whatever a clinic's code format becomes."""
    path = tmp_path / "links.csv"
    write_links(
        path, [("=HYPERLINK(1)", "@SUM(A1)"), ("P-1", "https://t.me/x")], expires=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert path.read_text(encoding="utf-8").splitlines() == [
        "code,link,expires",
        "'=HYPERLINK(1),'@SUM(A1),2026-01-01T00:00:00+00:00",
        "P-1,https://t.me/x,2026-01-01T00:00:00+00:00",
    ]
    assert path.stat().st_mode & 0o777 == 0o600


async def test_invite_asks_telegram_for_the_bots_name_when_it_is_not_set(tmp_path: Path) -> None:
    """Without TELEGRAM_BOT_USERNAME the link names the bot getMe returns; when Telegram cannot be
    reached, the command says so (without the token, which is part of the address) and makes nothing."""
    standin = BotApiStandIn(files_dir=tmp_path / "files")
    await standin.start()
    url = f"sqlite:///{tmp_path / 'diary.db'}"
    try:
        env = {"TELEGRAM_BOT_TOKEN": standin.token, "TELEGRAM_API_BASE_URL": standin.url, "DATABASE_URL": url}
        done = await asyncio.to_thread(run_cli, "invite", "--code", "P-0001", **env)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("https://t.me/crps_diary_bot?start=")
        assert [call.method for call in standin.calls] == ["getMe"]
    finally:
        await standin.stop()
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"
    done = await asyncio.to_thread(run_cli, "invite", "--code", "P-0002", **(env | {"TELEGRAM_API_BASE_URL": nowhere}))
    assert (done.returncode, done.stderr) == (
        2,
        f"error: cannot reach Telegram at {nowhere} (ConnectError); try again\n",
    )
    assert standin.token not in done.stderr
    assert await stored(url) == (1, 1, 1), "P-0001's invite only"


async def test_invite_relink_keeps_the_patients_zone_language_and_country_unless_given(
    database_url: str, tmp_path: Path
) -> None:
    """`invite --code P-0007 --relink` for a new phone: the clinic's defaults had replaced the patient's
    own zone, language and country. A zone given anew takes its own country."""
    env = {"DATABASE_URL": database_url, "TELEGRAM_BOT_USERNAME": "b_bot"}
    invite = ("invite", "--code", "P-0007")
    made = []
    for words in (
        ("--tz", "America/Bogota", "--lang", "es", "--country", "CO"),
        ("--relink",),
        ("--relink", "--tz", "Europe/Madrid"),
    ):
        done = await asyncio.to_thread(run_cli, *invite, *words, **env)
        assert done.returncode == 0, done.stderr
        database = Database(database_url)
        try:
            if not made:  # the patient enrols: the record takes the invite's zone, language and country
                token = done.stdout.strip().split("start=")[1]
                now = datetime.now(UTC)
                assert await enrolment.accept_invite(
                    database, token=token, telegram_user_id=301, chat_id=301, now=now, default_times="09:00"
                )
            async with database.session() as session:
                newest = (await session.exec(select(Invite).order_by(col(Invite.id).desc()))).first()
        finally:
            await database.dispose()
        assert newest is not None
        made.append((newest.relink, newest.timezone, newest.language, newest.country))
    assert made == [
        (False, "America/Bogota", "es", "CO"),
        (True, "America/Bogota", "es", "CO"),
        (True, "Europe/Madrid", "es", None),
    ]


async def test_staff_remove_says_whose_links_it_withdrew(tmp_path: Path) -> None:
    """`staff remove` withdraws the open links the person asked for, as /staff remove does, and names the
    codes to make new ones for (tests/test_access_attacks.py has the Telegram side)."""
    url = f"sqlite:///{tmp_path / 'diary.db'}"
    env = {"DATABASE_URL": url, "TELEGRAM_BOT_USERNAME": "b_bot"}
    for words in (("staff", "add", "800", "staff"), ("staff", "add", "801", "staff")):
        assert (await asyncio.to_thread(run_cli, *words, **env)).returncode == 0
    database = Database(url)
    try:
        for code in ("P-0002", "P-0001"):
            await enrolment.create_invite(
                database,
                code=code,
                timezone="Europe/Berlin",
                language="en",
                checkin_times="",
                now=datetime.now(UTC),
                valid_for=timedelta(days=7),
                actor_id=800,
            )
    finally:
        await database.dispose()
    done = await asyncio.to_thread(run_cli, "staff", "remove", "800", **env)
    assert (done.returncode, done.stdout) == (
        0,
        "800 is no longer staff\nthe links they asked for were withdrawn: make new ones for P-0001, P-0002\n",
    )
    done = await asyncio.to_thread(run_cli, "staff", "remove", "801", **env)
    assert done.stdout == "801 is no longer staff\n", "nothing to say of links nobody removed asked for"
