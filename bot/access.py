"""Who may do what: one table for every command and button, read by the sender gate, the command menus
and the role-matrix test. Staff roles live in the database (StaffMember); a patient is whoever accepted
an invite; everyone else is a stranger."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    PATIENT = "patient"
    STRANGER = "stranger"


EVERYONE = frozenset(Role)
PATIENTS = frozenset({Role.PATIENT})
CLINIC = frozenset({Role.STAFF, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})

# In menu order. /start carries invite tokens, so it is open to everyone (the token is the check).
PATIENT_COMMANDS = (
    "checkin",
    "history",
    "callme",
    "pause",
    "resume",
    "timezone",
    "language",
    "export",
    "delete",
    "help",
)
# The patient's commands that read the words typed after them ("/pause 7", "/callme about my infusion").
# After any other, words are the patient's words to their care team ("/help my hand is purple").
PATIENT_COMMANDS_WITH_WORDS = frozenset({"callme", "pause", "timezone"})
# Of those, the one that passes its words on to staff ("/callme about my infusion"): words the patient quoted with
# it from another chat go with them, as part of the request (a message of their own would be a second record of
# the one update, which the request then took for handled before).
PATIENT_COMMANDS_TO_STAFF = frozenset({"callme"})
STAFF_COMMANDS = (
    "patients",
    "patient",
    "report",
    "cycles",
    "console",
    "invite",
    "relink",
    "invites",
    "revoke",
    "discharge",
    "infusion",
    "help",
)
ADMIN_COMMANDS = ("staff", "schedule", "questionnaires", "staffchat")  # /staffchat: sent in the group itself

COMMANDS: dict[str, frozenset[Role]] = {
    "start": EVERYONE,
    "help": PATIENTS | CLINIC,
    **{name: PATIENTS for name in PATIENT_COMMANDS if name != "help"},
    **{name: CLINIC for name in STAFF_COMMANDS if name != "help"},
    **{name: ADMINS for name in ADMIN_COMMANDS},
}

# A discharged patient keeps their record and their rights to it, and nothing that restarts check-ins.
DISCHARGED_COMMANDS = frozenset({"start", "help", "history", "callme", "language", "export", "delete"})
DISCHARGED_BUTTONS = frozenset({"lg", "dl", "cm", "cs"})  # "cs": consent to a re-link (readmission)

# Buttons by the prefix of their callback data (views/callback_data.py).
BUTTONS: dict[str, frozenset[Role]] = {
    "cs": EVERYONE,  # consent, carries the invite token
    "ck": PATIENTS,  # check-in answers
    "lg": PATIENTS,  # language
    "tz": PATIENTS,  # time zone
    "dl": PATIENTS,  # erasure confirmation
    "cm": PATIENTS,  # "Please contact me"
    "al": CLINIC,  # alert card actions
    "rp": CLINIC,  # reply to a patient
    "ms": CLINIC,  # a patient's message was seen
}


def roles_of(*, staff_role: str | None, is_patient: bool) -> frozenset[Role]:
    roles = set()
    if staff_role in (Role.STAFF, Role.ADMIN):
        roles.add(Role(staff_role))
    if is_patient:
        roles.add(Role.PATIENT)
    return frozenset(roles) or frozenset({Role.STRANGER})


def command_allowed(roles: frozenset[Role], command: str) -> bool:
    return bool(COMMANDS.get(command, PATIENTS) & roles)  # an unknown command is the patient's "unknown"


def button_allowed(roles: frozenset[Role], data: str) -> bool:
    return bool(BUTTONS.get(data.split(":", 1)[0], PATIENTS) & roles)


def discharged_may(command: str | None, data: str | None) -> bool:
    """Whether a discharged patient may still do this (staff commands are not theirs to lose)."""
    if command is not None:
        return COMMANDS.get(command) != PATIENTS or command in DISCHARGED_COMMANDS
    if data is not None:
        prefix = data.split(":", 1)[0]
        return BUTTONS.get(prefix) != PATIENTS or prefix in DISCHARGED_BUTTONS
    return True  # messages still reach the care team


def is_clinic_work(command: str | None, data: str | None) -> bool:
    """Commands and buttons staff use in the staff group (/help included: the group's menu lists it)."""
    if command is not None:
        return command != "start" and bool(COMMANDS.get(command, frozenset()) & CLINIC)
    return data is not None and BUTTONS.get(data.split(":", 1)[0]) == CLINIC


def menu(role: Role) -> tuple[str, ...]:
    """The commands a role's menu shows."""
    if role is Role.ADMIN:
        return STAFF_COMMANDS[:-1] + ADMIN_COMMANDS + ("help",)
    if role is Role.STAFF:
        return STAFF_COMMANDS
    return PATIENT_COMMANDS


# The web console's pages and actions (bot/console/), by the name their route is registered under. The
# same roles as the commands that show or do the same in Telegram: the team list is /staff's.
CONSOLE: dict[str, frozenset[Role]] = {
    "alerts": CLINIC,  # the alert queue, its cards and charts
    "alert_action": CLINIC,  # acknowledge, snooze, resolve: the card's buttons
    "patients": CLINIC,  # the patient panel (/patients)
    "patient": CLINIC,  # one patient's record (/patient)
    "reply": CLINIC,  # a reply to a patient, from a card or the record (the "rp" Reply button)
    "report": CLINIC,  # one patient's visit report (/report)
    "export": CLINIC,  # one patient's diary as CSV or FHIR: what /patient and /report show staff
    "export_all": ADMINS,  # every patient's diary: until now only the command line's (`export`)
    "team": ADMINS,  # who is staff (/staff)
    "schedule": CLINIC,  # a patient's schedule and questionnaire cadences, to read
    "schedule_edit": ADMINS,  # ... and to change (/schedule)
    "cadences_edit": ADMINS,  # (/questionnaires)
    "rules": ADMINS,  # the rules what-if (the rules file decides who is alerted: the admins' call)
    "rules_replay": ADMINS,
    "rules_save": ADMINS,
}


def console_allowed(roles: frozenset[Role], page: str) -> bool:
    return bool(CONSOLE.get(page, frozenset()) & roles)  # a page missing from the table is nobody's
