"""Diaries out of the database: the diary CSV (as import reads it) or a FHIR R4 Bundle.

Opening an export writes its audit event first, so no export goes unrecorded. The CSV, for the command
line and a patient's /export alike, is written by bot.records.diary_csv, which puts a quote in front of
any code or note a spreadsheet would run as a formula (import takes it off again); the FHIR Bundle is
JSON and holds the text as it is.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.alerts.desk import points_from
from bot.diary.questionnaire import DAILY, Item, Questionnaire, Questionnaires
from bot.diary.scheduler import UnknownPatient
from bot.records.diary_csv import write_points_to
from bot.records.questionnaires_csv import write_header, write_questionnaire_rows
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
    zone: ZoneInfo  # the patient's own: the CSV's times are theirs, so a replay counts their days
    entries: list[Entry]  # answered check-ins, oldest first
    # Answered instruments by questionnaire id (PHQ-2, PHQ-9, ...), oldest first; empty unless asked for.
    instruments: dict[str, list[Entry]]


class Export:
    """One export: which patients it covers, recorded in the audit log when it is opened. Diaries are
    read and written one patient at a time, so memory stays that of the largest diary, not the clinic's."""

    def __init__(self, database: Database, patients: list[tuple[int, str, str]]) -> None:
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
        return cls(database, [(p.id, p.code, p.timezone) for p in found if p.id is not None])

    async def diaries(self, instruments: Iterable[str] = ()) -> AsyncIterator[PatientDiary]:
        for patient_id, code, zone in self.patients:
            async with self.database.session() as session:
                entries = await checkins.entries_since(session=session, patient_id=patient_id, since=FAR_PAST)
                answered = {
                    name: await checkins.entries_since(
                        session=session, patient_id=patient_id, since=FAR_PAST, questionnaire=name
                    )
                    for name in instruments
                }
            yield PatientDiary(code, ZoneInfo(zone), entries, answered)

    async def write_csv(self, handle: TextIO) -> int:
        """The diary CSV; returns how many check-ins it holds."""
        count = 0
        header = True
        async for diary in self.diaries():
            write_points_to(handle, [(diary.code, points_from(diary.entries, diary.zone))], header=header)
            header = False
            count += len(diary.entries)
        if header:
            write_points_to(handle, [])
        return count

    async def write_questionnaires(self, handle: TextIO, questionnaires: Questionnaires) -> int:
        """The questionnaires CSV (every instrument but the daily diary); returns how many rows it holds."""
        instruments = [q for q in questionnaires.values() if q.id != DAILY]
        write_header(handle)
        count = 0
        async for diary in self.diaries([q.id for q in instruments]):
            answered = sorted(
                ((e.started_at.astimezone(diary.zone), q.id, e) for q in instruments for e in diary.instruments[q.id]),
                key=lambda f: f[:2],
            )
            for at, name, entry in answered:  # in the order they were answered
                count += write_questionnaire_rows(handle, diary.code, questionnaires[name], [(at, entry.answers)])
        return count

    async def write_fhir(self, handle: TextIO, questionnaires: Questionnaires, *, now: datetime) -> int:
        """A FHIR R4 `collection` Bundle, written entry by entry; returns how many check-ins and completed
        questionnaires it holds."""
        handle.write(f'{{"resourceType": "Bundle", "type": "collection", "timestamp": "{now.isoformat()}", "entry": [')
        count = 0
        separator = "\n"
        instruments = [q for q in questionnaires.values() if q.id != DAILY]
        async for diary in self.diaries([q.id for q in instruments]):
            found = [(questionnaires.daily, diary.entries)]
            found += [(q, diary.instruments[q.id]) for q in instruments]
            for questionnaire, entries in found:
                for entry in fhir_entries(diary.code, entries, questionnaire):
                    handle.write(separator + json.dumps(entry, ensure_ascii=False))
                    separator = ",\n"
                count += len(entries)
        handle.write("\n]}\n")
        return count


def _answer(item: Item, value: str) -> dict[str, Any]:
    if item.type == "scale":
        return {"valueInteger": int(value)}
    if item.type == "choice":
        if item.loinc_answers and value in item.options:
            return {"valueCoding": {"system": LOINC, "code": item.loinc_answers[item.options.index(value)]}}
        return {"valueCoding": {"system": f"{ITEM_SYSTEM}:{item.id}", "code": value}}
    return {"valueString": value}


SURVEY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}]}


def _code(ours: str, loinc: str | None) -> dict[str, Any]:
    coding = [{"system": ITEM_SYSTEM, "code": ours}]
    if loinc:
        coding.insert(0, {"system": LOINC, "code": loinc})
    return {"coding": coding, "text": ours}


def _value(number: float) -> dict[str, Any]:
    """A whole score as an integer; a mean (PEG) as a Quantity, Observation's only decimal value."""
    if float(number).is_integer():
        return {"valueInteger": int(number)}
    return {"valueQuantity": {"value": number, "system": "http://unitsofmeasure.org", "code": "{score}"}}


def _observation(
    key: str, concept: dict[str, Any], value: dict[str, Any], response: dict[str, Any], response_url: str
) -> dict[str, Any]:
    """An Observation derived from a QuestionnaireResponse: same patient, same time."""
    return {
        "fullUrl": f"urn:uuid:{uuid.uuid5(_NAMESPACE, key)}",
        "resource": {
            "resourceType": "Observation",
            "status": "final",
            "category": [SURVEY],
            "code": concept,
            "subject": response["subject"],
            "effectiveDateTime": response["authored"],
            **value,
            "derivedFrom": [{"reference": response_url}],
        },
    }


def fhir_entries(code: str, entries: list[Entry], questionnaire: Questionnaire) -> Iterator[dict[str, Any]]:
    """Per answered questionnaire one QuestionnaireResponse (linkIds are our item ids; each item's
    LOINC code where one is published) and Observations derived from it: one per 0-10 scale item of the
    daily diary (pain coded with LOINC 72514-3), and for an instrument its score (PHQ-9 total 44261-6,
    PEG mean 91147-9, ...) once every scored item is answered."""
    order = {item.id: n for n, item in enumerate(questionnaire.items)}
    items = {item.id: item for item in questionnaire.items}
    subject = {"identifier": {"system": PATIENT_CODE_SYSTEM, "value": code}}
    daily = questionnaire.id == DAILY
    for entry in entries:
        answered = sorted(
            ((items[i], v) for i, v in entry.answers.items() if i in items and v != ""), key=lambda p: order[p[0].id]
        )
        key = f"{code}/{entry.checkin_id}"
        response_url = f"urn:uuid:{uuid.uuid5(_NAMESPACE, key)}"
        authored = entry.started_at.isoformat()
        complete = len(answered) == len(questionnaire.items) or daily
        response: dict[str, Any] = {
            "resourceType": "QuestionnaireResponse",
            "questionnaire": f"urn:crps-diary:questionnaire:{questionnaire.id}",
            "status": "completed" if complete else "in-progress",
            "subject": subject,
            "authored": authored,
            "item": [],
        }
        for item, value in answered:
            entry_item: dict[str, Any] = {"linkId": item.id, "answer": [_answer(item, value)]}
            if item.loinc:
                entry_item["definition"] = f"http://loinc.org/{item.loinc}"
            response["item"].append(entry_item)
        yield {"fullUrl": response_url, "resource": response}

        if daily:
            for item, value in answered:
                if item.type == "scale":
                    concept = _code(item.id, item.loinc)
                    yield _observation(
                        f"{key}/{item.id}", concept, {"valueInteger": int(value)}, response, response_url
                    )
            continue
        score = questionnaire.score(entry.answers)
        if score is not None and questionnaire.scoring is not None:
            concept = _code(f"{questionnaire.id}_score", questionnaire.scoring.loinc)
            yield _observation(f"{key}/score", concept, _value(score.total), response, response_url)
