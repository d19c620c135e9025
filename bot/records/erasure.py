"""A patient's right to erasure: everything about them goes, one audit event says that it happened.

Every table that holds something about a patient refers to the patient row with ON DELETE CASCADE,
so deleting that row deletes the rest in the same transaction. The audit log keeps its events (someone
did read or export) but loses the patient's code. Processed inbox rows hold no content (bot/delivery/inbox.py)
and delivered staff texts are dropped when sent (storage/outbox.py).
"""

from __future__ import annotations

from datetime import datetime

from storage import audit, patients
from storage.database import Database


async def erase(database: Database, *, patient_id: int, now: datetime) -> bool:
    """False when there was no such patient (already erased)."""
    async with database.session() as session:
        patient = await patients.by_id(session=session, patient_id=patient_id)
        if patient is None:
            return False
        code = patient.code
        await patients.erase(session=session, patient_id=patient_id)
        await audit.forget_patient(session=session, code=code)
        await audit.record(session=session, actor_id=None, action="erasure", detail="at the patient's request", now=now)
    return True
