"""Query functions for enrolment invites (looked up by the hash of their token, never the token)."""

from datetime import datetime

from sqlalchemy import and_, delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEvent, Invite, Patient


async def create(
    *,
    session: AsyncSession,
    token_hash: str,
    patient_id: int,
    language: str,
    timezone: str,
    checkin_times: str,
    now: datetime,
    expires_at: datetime,
    country: str | None = None,
    relink: bool = False,
) -> Invite:
    invite = Invite(
        country=country,
        relink=relink,
        token_hash=token_hash,
        patient_id=patient_id,
        language=language,
        timezone=timezone,
        checkin_times=checkin_times,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(invite)
    await session.flush()
    return invite


async def by_token_hash(*, session: AsyncSession, token_hash: str) -> Invite | None:
    result = await session.exec(select(Invite).where(Invite.token_hash == token_hash))
    return result.first()


async def claim(*, session: AsyncSession, invite_id: int, now: datetime) -> bool:
    """Mark the invite used; False when another request used it first."""
    result = await session.exec(
        update(Invite)
        .where(col(Invite.id) == invite_id, col(Invite.used_at).is_(None), col(Invite.expires_at) > now)
        .values(used_at=now)
    )
    return bool(result.rowcount == 1)


async def decline(*, session: AsyncSession, invite_id: int, now: datetime, withdraw: bool) -> None:
    """Consent was declined with this invite; `withdraw`: the link stops working."""
    values: dict[str, object] = {"declined_at": now}
    if withdraw:
        values["expires_at"] = now
    await session.exec(update(Invite).where(col(Invite.id) == invite_id).values(**values))


async def open_invites(*, session: AsyncSession, now: datetime) -> list[tuple[str, datetime, datetime]]:
    """(patient code, created, expires) of invites not used and not expired, oldest first."""
    result = await session.exec(
        select(Patient.code, Invite.created_at, Invite.expires_at)
        .join(Patient, col(Patient.id) == col(Invite.patient_id))
        .where(col(Invite.used_at).is_(None), col(Invite.expires_at) > now, col(Invite.declined_at).is_(None))
        .order_by(col(Invite.created_at))
    )
    return [(code, created, expires) for code, created, expires in result.all()]


async def revoke(*, session: AsyncSession, patient_id: int) -> int:
    """Delete the patient's unused invites; how many there were."""
    result = await session.exec(
        delete(Invite).where(col(Invite.patient_id) == patient_id, col(Invite.used_at).is_(None))
    )
    return int(result.rowcount)


async def withdraw_open(*, session: AsyncSession, token_hashes: list[str], now: datetime) -> list[tuple[str, bool]]:
    """Delete the open links (not used, not expired) with these token hashes; (patient code, re-link) of each."""
    found = (
        await session.exec(
            select(Invite.id, Patient.code, Invite.relink)
            .join(Patient, col(Patient.id) == col(Invite.patient_id))
            .where(
                col(Invite.token_hash).in_(token_hashes),
                col(Invite.used_at).is_(None),
                col(Invite.expires_at) > now,
            )
        )
    ).all()
    if found:
        await session.exec(delete(Invite).where(col(Invite.id).in_([invite_id for invite_id, _, _ in found])))
    return sorted((code, relink) for _, code, relink in found)


async def withdraw_made_by(*, session: AsyncSession, telegram_user_id: int, now: datetime) -> list[str]:
    """Delete the open links (not used, not expired) this person asked for; the codes they were for.
    Who asked for a link is what the audit says: its "invite" or "relink_invite" event, written in the
    transaction that made the link and at the same moment."""
    made = (
        select(Invite.id, Patient.code)
        .join(Patient, col(Patient.id) == col(Invite.patient_id))
        .join(
            AuditEvent,
            and_(
                col(AuditEvent.patient_code) == col(Patient.code),
                col(AuditEvent.at) == col(Invite.created_at),
                col(AuditEvent.action).in_(("invite", "relink_invite")),
                col(AuditEvent.actor_id) == telegram_user_id,
            ),
        )
        .where(col(Invite.used_at).is_(None), col(Invite.expires_at) > now)
    )
    found = dict((await session.exec(made)).all())
    if found:
        await session.exec(delete(Invite).where(col(Invite.id).in_(list(found))))
    return sorted(set(found.values()))
