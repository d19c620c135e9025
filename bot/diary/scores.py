"""Questionnaire scores as staff and the rules read them: each completed instrument scored by its
published rules, and each newest score beside the one before it. No Telegram here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.alerts.trends import Scored
from bot.diary.questionnaire import Questionnaire, Score
from storage import checkins


@dataclass(frozen=True)
class Answered:
    """One questionnaire the patient answered; `score` is None when an item was skipped."""

    questionnaire: str
    at: datetime
    score: Score | None


async def answered_since(
    session: AsyncSession, questionnaires: Iterable[Questionnaire], *, patient_id: int, since: datetime
) -> list[Answered]:
    """Every scored questionnaire answered since `since`, oldest first."""
    found = []
    for questionnaire in questionnaires:
        if questionnaire.scoring is None:
            continue
        answered = await checkins.entries_since(
            session=session, patient_id=patient_id, since=since, questionnaire=questionnaire.id
        )
        found += [Answered(questionnaire.id, e.started_at, questionnaire.score(e.answers)) for e in answered]
    return sorted(found, key=lambda answered: answered.at)


def scored(answered: Iterable[Answered]) -> list[Scored]:
    """The complete ones, as the rules and charts take them."""
    return [Scored(a.at, a.questionnaire, a.score.total) for a in answered if a.score is not None]


@dataclass(frozen=True)
class Change:
    """A score and the one before it of the same questionnaire (None: the first)."""

    now: Scored
    before: Scored | None

    @property
    def difference(self) -> float | None:
        return None if self.before is None else round(self.now.total - self.before.total, 1)


def changes(scores: Sequence[Scored]) -> list[Change]:
    """Each score with the one before it, in the order given (oldest first)."""
    last: dict[str, Scored] = {}
    found = []
    for score in scores:
        found.append(Change(score, last.get(score.questionnaire)))
        last[score.questionnaire] = score
    return found


def newest(scores: Sequence[Scored], *, since: datetime | None = None) -> list[Change]:
    """Per questionnaire, its newest score with the one before (only those at or after `since`)."""
    latest = {change.now.questionnaire: change for change in changes(scores)}
    return [c for c in latest.values() if since is None or c.now.at >= since]
