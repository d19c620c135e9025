"""Every command and every button, by each role and by a stranger: allowed or refused.

The expected table is written out here on its own, not read from bot/access.py, so a change to who may
do what has to be made in both places on purpose. "Refused" is what the sender gate decided (it logs
each refusal by update); every interaction must also get an answer, allowed or not.
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import pytest
from telegram.ext import CommandHandler

from bot import access
from bot.app import build_application
from bot.config import load_settings
from bot.sandbox import SimulatedUser
from bot.sandbox.server import ChatMessage
from storage import staff
from storage.database import Database
from tests.harness import SQLITE_ONLY, Diary

PATIENT_ONLY = {"checkin", "history", "pause", "resume", "timezone", "language", "export", "delete", "callme"}
STAFF_ONLY = {
    "invite",
    "relink",
    "invites",
    "revoke",
    "patients",
    "patient",
    "report",
    "cycles",
    "discharge",
    "infusion",
    "console",
}
ADMIN_ONLY = {"staff", "schedule", "questionnaires", "staffchat"}
ALLOWED = {
    "admin": {"start", "help"} | STAFF_ONLY | ADMIN_ONLY,
    "staff": {"start", "help"} | STAFF_ONLY,
    "patient": {"start", "help"} | PATIENT_ONLY,
    "stranger": {"start"},
}
BUTTONS = {  # data a real button of each kind carries (ids that do not exist: only the gate matters)
    "cs:n": {"admin", "staff", "patient", "stranger"},
    "ck:a:999999:pain:5": {"patient"},
    "lg:en": {"patient"},
    "tz:Europe/Berlin": {"patient"},
    "dl:n": {"patient"},
    "al:a:999999": {"admin", "staff"},
}
COMMANDS = sorted(set().union(*ALLOWED.values()) | PATIENT_ONLY | STAFF_ONLY | ADMIN_ONLY)


def refused_updates(caplog: pytest.LogCaptureFixture) -> set[int]:
    """The updates the sender gate refused (it logs each refusal with the update's number)."""
    found = set()
    for record in caplog.records:
        if record.name == "bot.handlers.gate" and (
            match := re.search(r"^refused .*\(update (\d+)\)$", record.getMessage())
        ):
            found.add(int(match.group(1)))
    return found


async def people(diary: Diary) -> dict[str, SimulatedUser]:
    admin = SimulatedUser(diary.standin, 900, "Ada")  # ADMIN_TELEGRAM_IDS in the test settings
    member = SimulatedUser(diary.standin, 800, "Sam")
    patient = SimulatedUser(diary.standin, 301, "Ben")
    stranger = SimulatedUser(diary.standin, 801, "Guest")
    async with diary.database.session() as session:
        await staff.add(session=session, telegram_user_id=member.id, role="staff", now=diary.clock())
    await diary.enrol(patient)
    return {"admin": admin, "staff": member, "patient": patient, "stranger": stranger}


async def test_every_command_and_button_by_every_role(diary: Diary, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.handlers.gate")
    users = await people(diary)
    standin = diary.standin
    sent: dict[tuple[str, str], int] = {}  # (role, command or button) -> update number

    async def walk(role: str, user: SimulatedUser) -> None:
        """One role's walk through everything; the roles walk at once (Telegram paces each chat)."""
        for command in COMMANDS:
            reply = standin.wait_chat(user.chat_id)
            standin.user_message(user.json, f"/{command}")
            sent[(role, f"/{command}")] = standin.last_update_id  # no await in between: this update's
            await asyncio.wait_for(reply, 30)  # every command gets an answer, allowed or not
        anchor = ChatMessage(1, user.chat_id, True, 0, text="any message of ours")
        for data in BUTTONS:
            query_id = standin.callback_query(user.json, anchor, data, data)
            sent[(role, data)] = standin.last_update_id
            await asyncio.wait_for(standin.wait_answer(query_id), 30)  # every press is answered

    await asyncio.gather(*(walk(role, user) for role, user in users.items()))
    refused = refused_updates(caplog)
    seen = {key: update_id not in refused for key, update_id in sent.items()}
    expected = {(role, f"/{c}"): c in ALLOWED[role] for role in users for c in COMMANDS}
    expected |= {(role, data): role in roles for role in users for data, roles in BUTTONS.items()}
    assert seen.keys() == expected.keys()
    wrong = sorted(
        f"{who} {what}: {'allowed' if seen[who, what] else 'refused'}"
        for who, what in expected
        if seen[who, what] != expected[who, what]
    )
    assert not wrong, wrong


@SQLITE_ONLY
async def test_refusals_say_little_and_are_in_the_right_words(diary: Diary) -> None:
    users = await people(diary)
    reply = await users["patient"].send("/patients")
    assert reply is not None and reply.text is not None and reply.text.startswith("Sorry, I did not understand")
    reply = await users["stranger"].send("/patients")
    assert reply is not None and reply.text is not None and "invite" in reply.text
    reply = await users["staff"].send("/staff add 5 admin")
    assert reply is not None and reply.text == "That command is for clinic admins."
    reply = await users["staff"].send("/checkin")
    assert reply is not None and reply.text is not None and "/patients" in reply.text, "staff are shown their commands"
    press = await users["patient"].press(data="al:r:1", message=ChatMessage(1, 301, True, 0))
    assert press.answer == "Only registered clinic staff can act on alerts."


async def test_in_the_staff_group_only_staff_work_is_answered(diary: Diary) -> None:
    users = await people(diary)
    group = diary.settings.staff_chat_id
    assert group is not None
    reply = await users["staff"].send("/patients", chat_id=group)
    assert reply is not None and reply.text is not None and reply.text.startswith("Patients (1)")
    reply = await users["stranger"].send("/patients", chat_id=group)
    assert reply is not None and reply.text == "Only registered clinic staff can act on alerts."

    def bot_messages() -> int:
        return sum(1 for m in diary.standin.chat(group) if m.from_bot)

    before = bot_messages()
    await users["staff"].send("/checkin", chat_id=group, wait=False)
    await users["staff"].send("lunch anyone?", chat_id=group, wait=False)
    reply = await users["staff"].send("/invites", chat_id=group)
    assert reply is not None and reply.text == "There are no open invites."
    assert bot_messages() == before + 1, "only the staff command was answered"


def test_every_command_the_bot_answers_has_a_row_in_the_access_table(tmp_path: Path) -> None:
    """A command missing from bot/access.py would count as a patient's unknown command, and pass the gate
    for every patient: each command handler the application registers must be in the table."""
    settings = load_settings(_env_file=None, telegram_bot_token="1:test", database_url=f"sqlite:///{tmp_path}/d.db")
    application = build_application(settings, Database(settings.database_url))
    registered = {
        command
        for handlers in application.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }
    assert "relink" in registered and registered <= set(access.COMMANDS), registered - set(access.COMMANDS)
    assert set(access.COMMANDS) == set(COMMANDS), "this file's table names every command of bot/access.py"
