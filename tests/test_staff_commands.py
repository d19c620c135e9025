"""Staff and admins in Telegram: invites, the patient list, one patient's diary, discharge, the team,
command menus, and the audit log of it all. The real bot over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from bot.sandbox import SimulatedUser
from bot.sandbox.server import BotApiStandIn
from storage import audit, staff
from tests.harness import SQLITE_ONLY, Diary
from tests.test_alerts import complete_checkin, with_history


async def a_member(diary: Diary, user_id: int = 800, role: str = "staff") -> SimulatedUser:
    member = SimulatedUser(diary.standin, user_id, "Sam")
    async with diary.database.session() as session:
        await staff.add(session=session, telegram_user_id=member.id, role=role, now=diary.clock())
    return member


async def actions(diary: Diary) -> list[tuple[int | None, str, str | None]]:
    async with diary.database.session() as session:
        return [(e.actor_id, e.action, e.patient_code) for e in await audit.since(session=session)]


@SQLITE_ONLY
async def test_staff_invite_a_patient_who_enrols_with_the_link(diary: Diary) -> None:
    sam = await a_member(diary)
    reply = await sam.send("/invite P-0042 America/Chicago es 08:30,19:00")
    assert reply is not None and reply.text is not None
    assert reply.text.startswith("Invite for P-0042, valid until 28.11.2026")
    link = reply.text.split()[-1]
    assert link.startswith("https://t.me/crps_diary_bot?start=")
    token = link.split("=", 1)[1]

    reply = await sam.send("/invites")
    assert reply is not None and reply.text is not None and "P-0042 – expires 28.11.2026" in reply.text

    ana = SimulatedUser(diary.standin, 333, "Ana", language_code="es")
    await ana.send(f"/start {token}")
    await ana.press(data=f"cs:y:{token}")
    schedule = await diary.schedule("P-0042")
    assert (schedule.times, schedule.timezone) == ("08:30,19:00", "America/Chicago")

    reply = await sam.send("/invite P-0042")
    assert reply is not None and (reply.text or "").startswith("P-0042 is already enrolled.")
    reply = await sam.send("/invites")
    assert reply is not None and reply.text == "There are no open invites."
    reply = await sam.send("/invite")
    assert reply is not None and reply.text is not None and reply.text.startswith("Write /invite P-0012")
    reply = await sam.send("/invite P-0043 Mars/Olympus")
    assert reply is not None and reply.text is not None and reply.text.startswith("'Mars/Olympus' is not an IANA")
    assert "Write /invite P-0012" in reply.text
    assert (800, "invite", "P-0042") in await actions(diary)


@SQLITE_ONLY
async def test_a_revoked_invite_no_longer_works(diary: Diary) -> None:
    sam = await a_member(diary)
    reply = await sam.send("/invite P-0050")
    assert reply is not None and reply.text is not None
    token = reply.text.split("=")[-1]
    reply = await sam.send("/revoke P-0050")
    assert reply is not None and reply.text == "The open invite for P-0050 no longer works."
    reply = await sam.send("/revoke P-0050")
    assert reply is not None and reply.text == "P-0050 has no open invite."
    reply = await sam.send("/revoke P-9999")
    assert reply is not None and reply.text == "There is no patient with the code P-9999."
    ben = SimulatedUser(diary.standin, 334, "Ben")
    reply = await ben.send(f"/start {token}")
    assert reply is not None and reply.text is not None and "expired or has already been used" in reply.text
    assert (800, "revoke_invite", "P-0050") in await actions(diary)


@SQLITE_ONLY
async def test_patients_patient_and_discharge(diary: Diary) -> None:
    sam = await a_member(diary)
    ben, cleo = SimulatedUser(diary.standin, 301, "Ben"), SimulatedUser(diary.standin, 302, "Cleo")
    await diary.enrol(ben, "P-0001")
    await diary.enrol(cleo, "P-0002")
    await diary.invite("P-0003")
    await with_history(diary, "P-0001", [4, 5, 6])
    await complete_checkin(ben, "7")
    await cleo.send("/pause 7")

    reply = await sam.send("/patients")
    assert reply is not None and reply.text is not None
    lines = reply.text.splitlines()
    assert lines[0] == "Patients (3):"
    assert lines[1] == "P-0001 – active, last check-in 21.11.2026 09:00"
    assert lines[2] == "P-0002 – paused, last check-in never"
    assert lines[3] == "P-0003 – invited, last check-in never"

    reply = await sam.send("/patient P-0001")
    assert reply is not None and reply.text is not None
    assert reply.text.startswith("P-0001 – active, last 14 days")
    assert reply.text.splitlines()[-1] == "21.11.2026 09:00  7  same  same  none  4"
    assert len(reply.text.splitlines()) == 5, "three earlier check-ins and today's"
    await sam.wait_for(lambda: bool(sam.messages[-1].photo))
    assert sam.messages[-1].photo is not None and sam.messages[-1].photo.startswith(b"\x89PNG")
    assert "Ben" not in reply.text

    reply = await sam.send("/discharge P-0001")
    assert reply is not None and reply.text == "P-0001 is discharged: no more check-ins. The record is kept."
    schedule = await diary.schedule("P-0001")
    assert schedule.next_due_at is None
    reply = await ben.send("/checkin")
    assert reply is not None and reply.text is not None and reply.text.startswith("Your diary check-ins have ended")
    reply = await ben.send("/resume")
    assert reply is not None and reply.text is not None and reply.text.startswith("Your diary check-ins have ended")
    reply = await ben.send("/history")
    assert reply is not None and reply.photo is not None, "the record and the patient's rights to it stay"
    reply = await sam.send("/discharge P-0001")
    assert reply is not None and reply.text == "P-0001 was already discharged."
    discharged = (await diary.schedule("P-0001")).patient_id
    before = [c.id for c in await diary.checkins() if c.patient_id == discharged]
    diary.clock.advance(days=2)
    await diary.dispatch()
    assert [c.id for c in await diary.checkins() if c.patient_id == discharged] == before

    recorded = await actions(diary)
    assert (800, "list_patients", None) in recorded
    assert (800, "view_patient", "P-0001") in recorded
    assert (800, "discharge", "P-0001") in recorded


@SQLITE_ONLY
async def test_admins_manage_the_team_and_each_role_gets_its_menu(diary: Diary) -> None:
    ada = SimulatedUser(diary.standin, 900, "Ada")
    menus = diary.standin.commands
    admin_menu = menus[BotApiStandIn.commands_key({"type": "chat", "chat_id": 900})]
    assert [c["command"] for c in admin_menu][:2] == ["patients", "patient"] and "staff" in str(admin_menu)
    patient_menu = [c["command"] for c in menus[BotApiStandIn.commands_key()]]
    assert "export" in patient_menu and "delete" in patient_menu and "patients" not in patient_menu
    group_menu = [c["command"] for c in menus[BotApiStandIn.commands_key({"type": "chat", "chat_id": -100500})]]
    assert "patients" in group_menu and "staff" not in group_menu

    reply = await ada.send("/staff add 555 staff")
    assert reply is not None and reply.text == "555 is now staff."
    staff_menu = [c["command"] for c in menus[BotApiStandIn.commands_key({"type": "chat", "chat_id": 555})]]
    assert "patients" in staff_menu and "staff" not in staff_menu and "checkin" not in staff_menu
    newcomer = SimulatedUser(diary.standin, 555, "Noor")
    reply = await newcomer.send("/patients")
    assert reply is not None and reply.text == "There are no patients yet."

    reply = await ada.send("/staff")
    assert reply is not None and reply.text is not None
    assert "555 – staff" in reply.text and "900 – admin" in reply.text
    reply = await ada.send("/staff remove 900")
    assert reply is not None and reply.text == "The last admin cannot be removed."
    reply = await ada.send("/staff add 555 boss")
    assert reply is not None and reply.text is not None and reply.text.startswith("Write /staff")
    reply = await ada.send("/staff remove 555")
    assert reply is not None and reply.text == "555 is no longer staff."
    assert BotApiStandIn.commands_key({"type": "chat", "chat_id": 555}) not in menus
    reply = await newcomer.send("/patients")
    assert reply is not None and reply.text is not None and "invite" in reply.text, "a stranger again"
    recorded = await actions(diary)
    assert (900, "staff_add", None) in recorded and (900, "staff_remove", None) in recorded

    # Ada is in ADMIN_TELEGRAM_IDS, which makes her admin at every start: whoever removes her is told.
    await ada.send("/staff add 556 admin")
    reply = await ada.send("/staff remove 900")
    assert reply is not None and reply.text == (
        "900 is no longer staff.\n900 is also in ADMIN_TELEGRAM_IDS, which makes them admin again at the next "
        "start: take them out of it too."
    )


@SQLITE_ONLY
async def test_wrong_invite_tokens_are_rate_limited_per_user(diary: Diary) -> None:
    token = await diary.invite("P-0060")
    guesser = SimulatedUser(diary.standin, 444, "Guess")
    for attempt in range(5):
        reply = await guesser.send(f"/start wrongtoken{attempt:08d}xyz")
        assert reply is not None and reply.text is not None and "expired or has already been used" in reply.text
    reply = await guesser.send(f"/start {token}")
    assert reply is not None and reply.text is not None and reply.text.startswith("Too many links")
    other = SimulatedUser(diary.standin, 445, "Other")
    reply = await other.send("/start wrongtoken-other-user")
    assert reply is not None and reply.text is not None and "expired" in reply.text, "limits are per user"
    diary.clock.advance(minutes=16)
    reply = await guesser.send(f"/start {token}")
    assert reply is not None and reply.text is not None and reply.text.startswith("Welcome to your CRPS")
