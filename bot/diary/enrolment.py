"""Enrolment by one-time invite: tokens are random, single-use, expiring, and stored only as a hash."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from bot.diary.schedule import Rule, format_times, next_slot, parse_days, parse_times
from storage import audit, invites, patients, schedules
from storage.database import Database
from storage.models import Patient

TOKEN_BYTES = 18  # 144 bits; Telegram allows 64 characters of [A-Za-z0-9_-] after /start
PATIENT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def deep_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"


def check_code(code: str) -> str:
    if not PATIENT_CODE.match(code):
        raise ValueError(f"patient code {code!r} must be 1-32 letters, digits, '.', '_' or '-'")
    return code


def check_times(text: str) -> str:
    """'09:00,20:00' -> normalised ('' means the clinic's default times)."""
    return format_times(parse_times(text)) if text else ""


async def create_invite(
    database: Database,
    *,
    code: str,
    timezone: str,
    language: str,
    checkin_times: str,
    now: datetime,
    valid_for: timedelta,
    actor_id: int | None = None,
) -> str:
    """Store a new invite for the patient code and return the token (shown once, never stored)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    async with database.session() as session:
        patient = await patients.get_or_create(
            session=session, code=code, language=language, timezone=timezone, now=now
        )
        assert patient.id is not None
        await invites.create(
            session=session,
            token_hash=hash_token(token),
            patient_id=patient.id,
            language=language,
            timezone=timezone,
            checkin_times=checkin_times,
            now=now,
            expires_at=now + valid_for,
        )
        await audit.record(session=session, actor_id=actor_id, action="invite", patient_code=code, now=now)
    return token


async def invite_is_usable(database: Database, *, token: str, now: datetime) -> bool:
    async with database.session() as session:
        invite = await invites.by_token_hash(session=session, token_hash=hash_token(token))
    return invite is not None and invite.used_at is None and invite.expires_at > now


async def accept_invite(
    database: Database, *, token: str, telegram_user_id: int, chat_id: int, now: datetime, default_times: str
) -> Patient | None:
    """Link the Telegram user to the invited patient; None if the invite cannot be used."""
    async with database.session() as session:
        invite = await invites.by_token_hash(session=session, token_hash=hash_token(token))
        if invite is None or invite.id is None:
            return None
        if await patients.by_telegram_user(session=session, telegram_user_id=telegram_user_id):
            return None
        if not await invites.claim(session=session, invite_id=invite.id, now=now):
            return None
        patient = await session.get(Patient, invite.patient_id)
        assert patient is not None and patient.id is not None
        patient.telegram_user_id = telegram_user_id
        patient.chat_id = chat_id
        patient.language = invite.language
        patient.timezone = invite.timezone
        patient.status = "active"
        patient.consented_at = now
        existing = await schedules.get(session=session, patient_id=patient.id)
        times = invite.checkin_times or (existing.times if existing else default_times)
        days = existing.days if existing else "mon-sun"
        rule = Rule(parse_times(times), parse_days(days), invite.timezone)
        first = next_slot(rule, after=None, previous_fire=None, now=now)
        await schedules.put(
            session=session,
            patient_id=patient.id,
            times=format_times(rule.times),
            days=days,
            timezone=rule.timezone,
            next_local_date=first.local_date,
            next_slot=first.name,
            next_due_at=first.fire_at,
        )
        return patient


class FailedStarts:
    """Wrong invite tokens per Telegram user. After `limit` of them within `window`, /start stops
    looking tokens up for that user until the window has passed: guessing gets nowhere, and a patient
    who mistyped waits minutes. Kept in memory: a restart forgets, which only helps the patient."""

    def __init__(self, *, limit: int = 5, window: timedelta = timedelta(minutes=15)) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[int, list[datetime]] = {}

    def blocked(self, user_id: int, now: datetime) -> bool:
        recent = [at for at in self._failures.get(user_id, []) if at > now - self.window]
        if recent:
            self._failures[user_id] = recent
        else:
            self._failures.pop(user_id, None)
        return len(recent) >= self.limit

    def failed(self, user_id: int, now: datetime) -> None:
        if len(self._failures) > 10_000:  # bounded memory under a flood of different senders
            self._failures = {u: f for u, f in self._failures.items() if f[-1] > now - self.window}
        self._failures.setdefault(user_id, []).append(now)
