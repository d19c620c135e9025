"""Free text as both databases can keep it.

Patients' words arrive from Telegram as any Python string. PostgreSQL refuses two kinds of character
that SQLite would take or that the driver fails on: U+0000 (PostgreSQL text cannot hold it) and lone
UTF-16 surrogates such as "\\ud800" (no UTF-8 encoding exists for them, so neither driver can send them).
A refused note used to fail the whole update, so the patient's next message was taken as the note.
Every free-text column cleans its value on the way in, the same way on both databases, so what is
stored and read back does not depend on the backend. What patients and staff write is also cleaned
where it enters the domain (bot/care_team), so that what is read for crisis language, counted against
Telegram's limits and passed on is exactly what is stored.
"""

from __future__ import annotations

from sqlalchemy import Dialect, String, Text, TypeDecorator

REPLACEMENT = "\ufffd"


def clean(value: str) -> str:
    """`value` without NUL, and with each character UTF-8 cannot encode replaced by U+FFFD."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if value.isascii():  # the usual case, and a flag look-up in CPython, not a scan
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # Surrogates are the only code points UTF-8 refuses. Going through UTF-16 joins a high and a
        # low surrogate that belong together back into their character, and turns lone ones into U+FFFD.
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return value


class CleanText(TypeDecorator[str]):
    """TEXT that stores `clean(value)`. The schema sees plain TEXT (`impl`), so migrations compare equal."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else clean(value)


class CleanString(TypeDecorator[str]):
    """VARCHAR(n) that stores `clean(value)`: short text people type, such as an infusion's kind or a
    staff member's name as Telegram shows it."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else clean(value)
