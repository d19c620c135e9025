"""How often each questionnaire beside the daily diary is offered: the clinic's cadences (INSTRUMENTS,
e.g. `phq2,interference=7,crps=28`) and each patient's own, which admins set with
`/questionnaires P-0012 phq2=14d interference=7d crps=off` or `python -m bot questionnaires`. No Telegram."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from bot.diary.questionnaire import Questionnaires
from bot.diary.schedule_rules import InputError
from bot.diary.scheduler import UnknownPatient
from storage import audit, cadences, patients
from storage.database import Database

MAX_DAYS = 365
_WORD = re.compile(r"(?P<name>[a-z0-9_]+)=(?:(?P<days>\d{1,3})d?|(?P<off>off)|(?P<clinic>clinic))", re.IGNORECASE)


def parse(words: Iterable[str], questionnaires: Questionnaires) -> dict[str, int | None]:
    """`phq2=14d` (every 14 days), `crps=off` (never for this patient), `phq2=clinic` (the clinic's
    cadence again). InputError names the first word that is wrong."""
    offered = sorted(q.id for q in questionnaires.values() if q.every_days)
    chosen: dict[str, int | None] = {}
    for word in words:
        found = _WORD.fullmatch(word.strip())
        if found is None:
            raise InputError("cadence_word", word=word[:40])
        name = found["name"].lower()
        if name not in offered:
            raise InputError("cadence_unknown", word=name[:40], known=", ".join(offered))
        if found["off"]:
            chosen[name] = 0
        elif found["clinic"]:
            chosen[name] = None
        else:
            days = int(found["days"])
            if not 1 <= days <= MAX_DAYS:
                raise InputError("cadence_days", word=word[:40], most=MAX_DAYS)
            chosen[name] = days
    if not chosen:
        raise InputError("cadence_word", word="")
    return chosen


def effective(clinic: Mapping[str, int], own: Mapping[str, int]) -> dict[str, int]:
    """Days between offers of each questionnaire offered to this patient: their own cadence where an
    admin set one (0: not offered), else the clinic's."""
    merged = dict(clinic) | dict(own)
    return {name: days for name, days in merged.items() if days > 0}


def describe(
    clinic: Mapping[str, int], own: Mapping[str, int], questionnaires: Questionnaires
) -> list[tuple[str, int, bool]]:
    """Each questionnaire offered by itself: its id, days between offers (0: not offered) and whether
    that is the patient's own cadence (else the clinic's)."""
    offered = [q.id for q in questionnaires.values() if q.every_days]
    return [(name, own.get(name, clinic.get(name, 0)), name in own) for name in offered]


async def show(database: Database, *, code: str) -> dict[str, int]:
    async with database.session() as session:
        patient = await patients.by_code(session=session, code=code)
        if patient is None or patient.id is None:
            raise UnknownPatient(code)
        return await cadences.of_patient(session=session, patient_id=patient.id)


async def set_cadences(
    database: Database, *, code: str, chosen: dict[str, int | None], actor_id: int | None, now: datetime
) -> dict[str, int]:
    """Store the patient's own cadences and the audit event in one transaction; returns them all."""
    async with database.session() as session:
        patient = await patients.by_code(session=session, code=code)
        # Kept before a row of theirs is replaced, in the order an erasure takes them (storage.patients.keep).
        if patient is None or patient.id is None or not await patients.keep(session=session, patient_id=patient.id):
            raise UnknownPatient(code)
        await cadences.set_for_patient(session=session, patient_id=patient.id, cadences=chosen)
        detail = " ".join(f"{name}={'clinic' if days is None else days}" for name, days in chosen.items())
        await audit.record(
            session=session, actor_id=actor_id, action="questionnaires", patient_code=code, detail=detail, now=now
        )
        return await cadences.of_patient(session=session, patient_id=patient.id)
