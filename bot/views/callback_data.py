"""Callback data: what our buttons carry. It comes back from the client, so it is parsed as untrusted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.alerts.desk import StaffAction
from bot.diary.checkins import Action

# ck:<action>:<check-in id>:<item>:<value>, at most ~50 bytes (Telegram allows 64).
_CHECKIN = re.compile(r"ck:([asbetz]):(\d{1,12}):([a-z_]{0,24}):([a-z0-9_]{0,16})")
_CONSENT = re.compile(r"cs:([yn]):([A-Za-z0-9_-]{16,64})|cs:(n)")
_LANGUAGE = re.compile(r"lg:([a-z]{2,3})")
_TIMEZONE = re.compile(r"tz:([A-Za-z0-9_+\-/]{1,60})")
# al:<action>:<alert id>[:<the version shown>[:<the finding shown>]], the version being when the alert (re)opened
# in microseconds: a button of an earlier card of the same alert no longer acts on it; the finding, when the newest
# finding the card showed was made: a card updated in place since (a new episode, a request made again) shows more
# than the press saw.
_ALERT = re.compile(r"al:([azrh]):(\d{1,12})(?::(\d{1,18})(?::(\d{1,18}))?)?")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# dl:y:<patient id> erases that record; dl:n keeps it. A bare "dl:y" is a Yes sent before it named one.
_DELETE = re.compile(r"dl:(y|n)(?::(\d{1,18}))?")


@dataclass(frozen=True)
class CheckInButton:
    action: Action
    checkin_id: int
    item: str
    value: str


def checkin_button(action: Action, checkin_id: int, item: str = "", value: str = "") -> str:
    return f"ck:{action.value}:{checkin_id}:{item}:{value}"


def parse_checkin(data: object) -> CheckInButton | None:
    match = _CHECKIN.fullmatch(data) if isinstance(data, str) else None
    if match is None:
        return None
    action, checkin_id, item, value = match.groups()
    return CheckInButton(Action(action), int(checkin_id), item, value)


def consent_button(accepted: bool, token: str) -> str:
    """Both buttons carry the invite's token: Accept to use it, Decline to mark it declined."""
    return f"cs:{'y' if accepted else 'n'}:{token}"


def parse_consent(data: object) -> tuple[bool, str | None] | None:
    """(accepted, token) or None for anything else; a bare "cs:n" is a decline from an older screen."""
    match = _CONSENT.fullmatch(data) if isinstance(data, str) else None
    if match is None:
        return None
    if match.group(3):
        return False, None
    return match.group(1) == "y", match.group(2)


def language_button(code: str) -> str:
    return f"lg:{code}"


def parse_language(data: object) -> str | None:
    match = _LANGUAGE.fullmatch(data) if isinstance(data, str) else None
    return match.group(1) if match else None


def is_checkin(data: object) -> bool:
    return parse_checkin(data) is not None


def is_consent(data: object) -> bool:
    return parse_consent(data) is not None


def is_language(data: object) -> bool:
    return parse_language(data) is not None


def timezone_button(zone: str) -> str:
    return f"tz:{zone}"


def parse_timezone(data: object) -> str | None:
    match = _TIMEZONE.fullmatch(data) if isinstance(data, str) else None
    return match.group(1) if match else None


def is_timezone(data: object) -> bool:
    return parse_timezone(data) is not None


def alert_button(
    action: StaffAction, alert_id: int, opened_at: datetime | None = None, event_at: datetime | None = None
) -> str:
    """A card's button; with `opened_at`, it acts only on the alert as it was when that card was made
    (an alert opened again for a new finding has a new card, and the old one's buttons are stale); with
    `event_at` too, only while the card still shows its newest finding (not once updated in place)."""
    if opened_at is None:
        return f"al:{action.value}:{alert_id}"
    data = f"al:{action.value}:{alert_id}:{_micro(opened_at)}"
    return data if event_at is None else f"{data}:{_micro(event_at)}"


def _micro(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(microseconds=1)


def parse_alert(data: object) -> tuple[StaffAction, int, datetime | None, datetime | None] | None:
    """(action, alert id, when the alert shown had opened, when its newest finding shown was made; either None on
    buttons sent before cards had it)."""
    match = _ALERT.fullmatch(data) if isinstance(data, str) else None
    if match is None:
        return None
    opened = _EPOCH + timedelta(microseconds=int(match.group(3))) if match.group(3) else None
    found = _EPOCH + timedelta(microseconds=int(match.group(4))) if match.group(4) else None
    return StaffAction(match.group(1)), int(match.group(2)), opened, found


def is_alert(data: object) -> bool:
    return parse_alert(data) is not None


def delete_button(confirmed: bool, patient_id: int) -> str:
    """Yes names the record it was asked for: a Yes left in the chat must not erase a record made later."""
    return f"dl:y:{patient_id}" if confirmed else "dl:n"


@dataclass(frozen=True)
class DeleteButton:
    confirmed: bool
    patient_id: int | None  # the record a Yes erases; None on No, and on a Yes sent before it named one


def parse_delete(data: object) -> DeleteButton | None:
    """Erase or keep; None: not an erasure button."""
    match = _DELETE.fullmatch(data) if isinstance(data, str) else None
    if match is None or (match.group(1) == "n" and match.group(2)):
        return None
    return DeleteButton(match.group(1) == "y", int(match.group(2)) if match.group(2) else None)


def is_delete(data: object) -> bool:
    return parse_delete(data) is not None


_REPLY = re.compile(r"rp:(\d{1,12})")
_SEEN = re.compile(r"ms:(\d{1,12})")
CONTACT_ME = "cm"


def reply_button(patient_id: int) -> str:
    """Staff: write to this patient."""
    return f"rp:{patient_id}"


def parse_reply(data: object) -> int | None:
    match = _REPLY.fullmatch(data) if isinstance(data, str) else None
    return int(match.group(1)) if match else None


def is_reply(data: object) -> bool:
    return parse_reply(data) is not None


def seen_button(patient_message_id: int) -> str:
    """Staff: this patient's message has been seen."""
    return f"ms:{patient_message_id}"


def parse_seen(data: object) -> int | None:
    match = _SEEN.fullmatch(data) if isinstance(data, str) else None
    return int(match.group(1)) if match else None


def is_seen(data: object) -> bool:
    return parse_seen(data) is not None


def is_contact_me(data: object) -> bool:
    """A patient's "Please contact me"."""
    return data == CONTACT_ME
