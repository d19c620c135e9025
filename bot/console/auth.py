"""Signing in to the web console through the bot, without passwords.

A staff member sends /console; the bot makes a random link token (only its SHA-256 is stored) bound to
their Telegram id and their role at that moment, valid for ten minutes and usable once. Opening it
(and pressing Sign in: a GET never signs in, so a link preview cannot use the link up) starts a session:
a random session id in an HttpOnly cookie, stored as its SHA-256. Every request re-reads the person's
role from the staff table, and removing someone from staff ends their sessions and unused links at once
(bot/team.py: adding them back later revives neither); a session left alone for twelve hours ends. Each
session has a CSRF token derived from its id, which every form carries and every POST must return.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.access import Role
from bot.diary.enrolment import hash_token, token_pattern, tokens_in, visible
from storage import audit, console, outbox, staff
from storage.database import Database

log = logging.getLogger(__name__)

LINK_VALID = timedelta(minutes=10)
IDLE = timedelta(hours=12)
TOKEN_BYTES = 24  # 192 bits, URL-safe
_TOKEN_LENGTH = len(secrets.token_urlsafe(TOKEN_BYTES))
# Expired links and idle sessions are deleted after this long (the audit log keeps who signed in when).
KEEP_EXPIRED = timedelta(days=1)


@dataclass(frozen=True)
class Staffer:
    """Who is signed in, as the staff table says now."""

    telegram_user_id: int
    role: Role
    name: str
    session_id: str

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset({self.role})

    @property
    def csrf(self) -> str:
        return csrf_token(self.session_id)


def csrf_token(session_id: str) -> str:
    """A per-session token for forms: a hash of the session id under a label, so it reveals nothing of the
    id, and the database (which keeps another hash of the id) cannot produce it."""
    return hashlib.sha256(b"console-csrf\0" + session_id.encode()).hexdigest()


def csrf_ok(session_id: str, given: str) -> bool:
    return hmac.compare_digest(csrf_token(session_id).encode(), given.encode())


def link_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/signin/{token}"


async def issue_link(database: Database, *, telegram_user_id: int, role: str, now: datetime) -> str:
    """A new single-use token for this staff member (audited; the token itself is nowhere kept)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    async with database.session() as session:
        await console.forget_links(session=session, before=now - KEEP_EXPIRED)
        await console.add_link(
            session=session,
            token_hash=hash_token(token),
            telegram_user_id=telegram_user_id,
            role=role,
            now=now,
            expires_at=now + LINK_VALID,
        )
        await audit.record(session=session, actor_id=telegram_user_id, action="console_link", now=now)
    return token


# The token of a sign-in link, also one that is not mixed as enrolment.tokens_in expects of a token on its own.
_SIGNIN = re.compile(rf"/signin/({token_pattern(16)})")


def has_signin_link(words: str, console_url: str | None) -> bool:
    """Whether `words` hold a sign-in link to this diary's web console (at `console_url`), working or not: not any
    address with "/signin/" in it (a hospital portal's)."""
    return console_url is not None and link_url(console_url, "") in words


async def withdraw_posted(
    database: Database,
    *,
    words: str,
    chat_id: int,
    actor_id: int | None,
    now: datetime,
    staff_text: str | None,
    seen: str,
) -> bool:
    """Sign-in links posted in the staff group (a nurse asking why hers shows a button): anyone in it, someone
    removed from staff among them, could open one first and sign in as its owner. Each one not yet used stops
    working, audited, and the chat is told `staff_text` (how to get a new one), in the outbox with the withdrawal
    (None: the caller tells it); `seen`, where, for the audit. False when none was in `words`."""
    # No longer than a token: what was typed right after the link is not part of it ("…/signin/…_", an italic's "_").
    tokens = set(tokens_in(words)) | {visible(token)[:_TOKEN_LENGTH] for token in _SIGNIN.findall(words)}
    if not tokens:
        return False
    async with database.session() as session:
        owners = await console.withdraw_links(
            session=session, token_hashes=[hash_token(token) for token in tokens], now=now
        )
        for owner in owners:
            await audit.record(
                session=session,
                actor_id=actor_id,
                action="console_link_withdrawn",
                detail=f"{seen}; the link of {owner}",
                now=now,
            )
        if owners and staff_text is not None:
            await outbox.enqueue(session=session, kind="staff", chat_id=chat_id, text=staff_text, now=now)
    return bool(owners)


async def sign_in(database: Database, *, token: str, now: datetime) -> str | None:
    """A new session id for the link's owner; None when the link is unknown, expired or used, or its
    owner is no longer staff with the role the link was made for (ask for a new link)."""
    if not token or len(token) > 128:
        return None
    async with database.session() as session:
        link = await console.claim_link(session=session, token_hash=hash_token(token), now=now)
        if link is None:
            return None
        if await staff.role(session=session, telegram_user_id=link.telegram_user_id) != link.role:
            log.info("console link of %s refused: their role changed since it was made", link.telegram_user_id)
            return None
        session_id = secrets.token_urlsafe(TOKEN_BYTES)
        await console.forget_idle(session=session, idle_since=now - IDLE - KEEP_EXPIRED)
        await console.add_session(
            session=session, session_hash=hash_token(session_id), telegram_user_id=link.telegram_user_id, now=now
        )
        await audit.record(session=session, actor_id=link.telegram_user_id, action="console_sign_in", now=now)
    log.info("staff %s signed in to the console", link.telegram_user_id)
    return session_id


async def current(database: Database, *, session_id: str, now: datetime) -> Staffer | None:
    """The signed-in staff member, their session kept alive; None when the session ended, idled out, or
    its owner is no longer staff (their sessions then end)."""
    if not session_id or len(session_id) > 128:
        return None
    async with database.session() as session:
        user_id = await console.touch_session(
            session=session, session_hash=hash_token(session_id), now=now, idle_since=now - IDLE
        )
        if user_id is None:
            return None
        role = await staff.role(session=session, telegram_user_id=user_id)
        if role not in (Role.STAFF, Role.ADMIN):
            await console.end_sessions_of(session=session, telegram_user_id=user_id)
            return None
        name = (await staff.names(session=session, telegram_user_ids=[user_id])).get(user_id, "")
    return Staffer(user_id, Role(role), name, session_id)


async def sign_out(database: Database, *, staffer: Staffer, now: datetime) -> None:
    async with database.session() as session:
        await console.end_session(session=session, session_hash=hash_token(staffer.session_id))
        await audit.record(session=session, actor_id=staffer.telegram_user_id, action="console_sign_out", now=now)
