"""Diaries out of the database: the diary CSV (as import reads it) or a FHIR R4 Bundle.

Reading diaries for export writes an audit event in the same transaction, so no export goes unrecorded.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.alerts.desk import points_from
from bot.diary.questionnaire import Questionnaire
from bot.records.diary_csv import write_points_to
from storage import audit, checkins, patients
from storage.checkins import Entry
from storage.database import Database

# Our own identifiers: the clinic's pseudonymous code and our item ids. Nothing here names a person.
PATIENT_CODE_SYSTEM = "urn:crps-diary:patient-code"
ITEM_SYSTEM = "urn:crps-diary:item"
LOINC = "http://loinc.org"
FAR_PAST = datetime(1970, 1, 1, tzinfo=UTC)
# Export ids are derived from the check-in, so exporting twice gives the same resource ids.
_NAMESPACE = uuid.UUID("6f1c2a4e-8a57-4d7e-9a35-0d2c1f6b5e10")


class UnknownPatient(LookupError):
    pass


@dataclass(frozen=True)
class PatientDiary:
    code: str
    entries: list[Entry]  # answered check-ins, oldest first


async def collect(
    database: Database, *, code: str | None, actor_id: int | None, what: str, now: datetime
) -> list[PatientDiary]:
    """One patient's diary (or every patient's, code None); `what` says in the audit log what it was for."""
    async with database.session() as session:
        if code is None:
            found = await patients.all_patients(session=session)
        else:
            patient = await patients.by_code(session=session, code=code)
            if patient is None:
                raise UnknownPatient(code)
            found = [patient]
        diaries = []
        for patient in found:
            assert patient.id is not None
            entries = await checkins.entries_since(session=session, patient_id=patient.id, since=FAR_PAST)
            diaries.append(PatientDiary(patient.code, entries))
        await audit.record(session=session, actor_id=actor_id, action="export", patient_code=code, detail=what, now=now)
    return diaries


def to_csv(diaries: list[PatientDiary]) -> str:
    out = io.StringIO()
    write_points_to(out, ((d.code, points_from(d.entries)) for d in diaries))
    return out.getvalue()


def _answer(item_type: str, item_id: str, value: str) -> dict[str, Any]:
    if item_type == "scale":
        return {"valueInteger": int(value)}
    if item_type == "choice":
        return {"valueCoding": {"system": f"{ITEM_SYSTEM}:{item_id}", "code": value}}
    return {"valueString": value}


def to_fhir(diaries: list[PatientDiary], questionnaire: Questionnaire, *, now: datetime) -> dict[str, Any]:
    """A `collection` Bundle: per check-in one QuestionnaireResponse and an Observation per scored item
    (pain coded with LOINC 72514-3), each Observation derived from its QuestionnaireResponse."""
    items = {item.id: item for item in questionnaire.items}
    entries: list[dict[str, Any]] = []
    for diary in diaries:
        subject = {"identifier": {"system": PATIENT_CODE_SYSTEM, "value": diary.code}}
        for entry in diary.entries:
            answered = [(items[i], v) for i, v in entry.answers.items() if i in items and v != ""]
            answered.sort(key=lambda pair: questionnaire.items.index(pair[0]))
            response_url = f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{diary.code}/{entry.checkin_id}')}"
            authored = entry.started_at.isoformat()
            response = {
                "resourceType": "QuestionnaireResponse",
                "questionnaire": f"urn:crps-diary:questionnaire:{questionnaire.id}",
                "status": "completed",
                "subject": subject,
                "authored": authored,
                "item": [
                    {"linkId": item.id, "answer": [_answer(item.type, item.id, value)]} for item, value in answered
                ],
            }
            entries.append({"fullUrl": response_url, "resource": response})
            for item, value in answered:
                if item.type != "scale":
                    continue
                coding = [{"system": ITEM_SYSTEM, "code": item.id}]
                if item.loinc:
                    coding.insert(0, {"system": LOINC, "code": item.loinc})
                observation = {
                    "resourceType": "Observation",
                    "status": "final",
                    "category": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                    "code": "survey",
                                }
                            ]
                        }
                    ],
                    "code": {"coding": coding, "text": item.id},
                    "subject": subject,
                    "effectiveDateTime": authored,
                    "valueInteger": int(value),
                    "derivedFrom": [{"reference": response_url}],
                }
                url = f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{diary.code}/{entry.checkin_id}/{item.id}')}"
                entries.append({"fullUrl": url, "resource": observation})
    return {"resourceType": "Bundle", "type": "collection", "timestamp": now.isoformat(), "entry": entries}
