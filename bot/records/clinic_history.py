"""The clinic's own history from the database, as the rules read it: every patient's daily diary (missed
check-ins included), infusions and questionnaire scores. The console's rules what-if replays it; it is
the same reading the alert desk does for one patient after a check-in, done for everyone.

Reading it is one audit row about every patient (patient code empty), as an export of everyone is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.alerts.desk import points_from
from bot.alerts.trends import Infusion, Point, Scored
from bot.diary.questionnaire import Questionnaires
from storage import audit, checkins, infusions, patients
from storage.database import Database

# Patients per query: few queries for a clinic, and, between them, the event loop (the bot's, when the
# console runs inside it) gets its turn: turning a whole clinic's rows into diaries takes seconds.
BATCH = 20


@dataclass(frozen=True)
class ClinicHistory:
    diaries: dict[str, list[Point]]  # by patient code, oldest first; only patients with check-ins
    infusions: dict[str, list[Infusion]]
    scores: dict[str, list[Scored]]  # scored questionnaires (the PHQ-9 for low_mood), oldest first


async def read(
    database: Database,
    questionnaires: Questionnaires,
    *,
    since: datetime,
    actor_id: int | None,
    action: str,
    detail: str,
    now: datetime,
) -> ClinicHistory:
    """Everything since `since`, audited as `action` by `actor_id` in the same transaction."""
    daily = questionnaires.daily
    scored = [q for q in questionnaires.values() if q.scoring is not None]
    history = ClinicHistory({}, {}, {})
    async with database.session() as session:
        everyone = await patients.all_patients(session=session)
        codes = {p.id: p.code for p in everyone if p.id is not None}
        # Each diary in its patient's zone, as the alert desk reads it: a run's days are the patient's own.
        zones = {p.id: ZoneInfo(p.timezone) for p in everyone if p.id is not None}
        ids = sorted(codes)
        for batch in (ids[start : start + BATCH] for start in range(0, len(ids), BATCH)):
            diaries = await checkins.entries_of_patients(
                session=session,
                patient_ids=batch,
                since=since,
                questionnaire=daily.id,
                items=[i.id for i in daily.items],
                missed=True,
            )
            history.diaries.update({codes[i]: points_from(entries, zones[i]) for i, entries in diaries.items()})
            for questionnaire in scored:
                answered = await checkins.entries_of_patients(
                    session=session,
                    patient_ids=batch,
                    since=since,
                    questionnaire=questionnaire.id,
                    items=[i.id for i in questionnaire.items],
                )
                for patient_id, entries in answered.items():
                    scores = history.scores.setdefault(codes[patient_id], [])
                    for entry in entries:
                        score = questionnaire.score(entry.answers)
                        if score is not None:
                            scores.append(Scored(entry.started_at, questionnaire.id, score.total))
        given = await infusions.of_everyone(session=session, since=since.date())
        history.infusions.update({codes[i]: [Infusion(day, kind) for day, kind in days] for i, days in given.items()})
        await audit.record(session=session, actor_id=actor_id, action=action, detail=detail, now=now)
    for own in history.scores.values():
        own.sort(key=lambda s: s.at)
    return history
