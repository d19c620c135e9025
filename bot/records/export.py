"""Diaries out of the database: the diary CSV (as import reads it) or a FHIR R4 Bundle.

Opening an export writes its audit event first, so no export goes unrecorded. The CSV, for the command
line and a patient's /export alike, is written by bot.records.diary_csv, which puts a quote in front of
any code or note a spreadsheet would run as a formula (import takes it off again); the FHIR Bundle is
JSON and holds the text as it is.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.alerts.desk import points_from
from bot.diary.questionnaire import Questionnaire
from bot.diary.scheduling import UnknownPatient
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


@dataclass(frozen=True)
class PatientDiary:
    code: str
    entries: list[Entry]  # answered check-ins, oldest first


class Export:
    """One export: which patients it covers, recorded in the audit log when it is opened. Diaries are
    read and written one patient at a time, so memory stays that of the largest diary, not the clinic's."""

    def __init__(self, database: Database, patients: list[tuple[int, str]]) -> None:
        self.database = database
        self.patients = patients

    @classmethod
    async def open(
        cls, database: Database, *, code: str | None, actor_id: int | None, what: str, now: datetime
    ) -> Export:
        """One patient (or everyone, code None); `what` says in the audit log what it was for."""
        async with database.session() as session:
            if code is None:
                found = await patients.all_patients(session=session)
            else:
                patient = await patients.by_code(session=session, code=code)
                if patient is None:
                    raise UnknownPatient(code)
                found = [patient]
            await audit.record(
                session=session, actor_id=actor_id, action="export", patient_code=code, detail=what, now=now
            )
        return cls(database, [(p.id, p.code) for p in found if p.id is not None])

    async def diaries(self) -> AsyncIterator[PatientDiary]:
        for patient_id, code in self.patients:
            async with self.database.session() as session:
                entries = await checkins.entries_since(session=session, patient_id=patient_id, since=FAR_PAST)
            yield PatientDiary(code, entries)

    async def write_csv(self, handle: TextIO) -> int:
        """The diary CSV; returns how many check-ins it holds."""
        count = 0
        header = True
        async for diary in self.diaries():
            write_points_to(handle, [(diary.code, points_from(diary.entries))], header=header)
            header = False
            count += len(diary.entries)
        if header:
            write_points_to(handle, [])
        return count

    async def write_fhir(self, handle: TextIO, questionnaire: Questionnaire, *, now: datetime) -> int:
        """A FHIR R4 `collection` Bundle, written entry by entry; returns how many check-ins it holds."""
        handle.write(f'{{"resourceType": "Bundle", "type": "collection", "timestamp": "{now.isoformat()}", "entry": [')
        count = 0
        separator = "\n"
        async for diary in self.diaries():
            for entry in fhir_entries(diary, questionnaire):
                handle.write(separator + json.dumps(entry, ensure_ascii=False))
                separator = ",\n"
            count += len(diary.entries)
        handle.write("\n]}\n")
        return count


def _answer(item_type: str, item_id: str, value: str) -> dict[str, Any]:
    if item_type == "scale":
        return {"valueInteger": int(value)}
    if item_type == "choice":
        return {"valueCoding": {"system": f"{ITEM_SYSTEM}:{item_id}", "code": value}}
    return {"valueString": value}


SURVEY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}]}


def fhir_entries(diary: PatientDiary, questionnaire: Questionnaire) -> Iterator[dict[str, Any]]:
    """Per check-in one QuestionnaireResponse and an Observation per scored item (pain coded with
    LOINC 72514-3), each Observation derived from its QuestionnaireResponse."""
    order = {item.id: n for n, item in enumerate(questionnaire.items)}
    items = {item.id: item for item in questionnaire.items}
    subject = {"identifier": {"system": PATIENT_CODE_SYSTEM, "value": diary.code}}
    for entry in diary.entries:
        answered = sorted(
            ((items[i], v) for i, v in entry.answers.items() if i in items and v != ""), key=lambda p: order[p[0].id]
        )
        response_url = f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{diary.code}/{entry.checkin_id}')}"
        authored = entry.started_at.isoformat()
        yield {
            "fullUrl": response_url,
            "resource": {
                "resourceType": "QuestionnaireResponse",
                "questionnaire": f"urn:crps-diary:questionnaire:{questionnaire.id}",
                "status": "completed",
                "subject": subject,
                "authored": authored,
                "item": [
                    {"linkId": item.id, "answer": [_answer(item.type, item.id, value)]} for item, value in answered
                ],
            },
        }
        for item, value in answered:
            if item.type != "scale":
                continue
            coding = [{"system": ITEM_SYSTEM, "code": item.id}]
            if item.loinc:
                coding.insert(0, {"system": LOINC, "code": item.loinc})
            yield {
                "fullUrl": f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{diary.code}/{entry.checkin_id}/{item.id}')}",
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "category": [SURVEY],
                    "code": {"coding": coding, "text": item.id},
                    "subject": subject,
                    "effectiveDateTime": authored,
                    "valueInteger": int(value),
                    "derivedFrom": [{"reference": response_url}],
                },
            }
