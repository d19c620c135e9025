"""Safety screening in the chat: staff ask a patient "Are you having any thoughts of ending your life?" or "Are you
safe tonight?" in a reply, and the patient answers "yes. again last night. worse" or "no". Those words alone say
nothing to the crisis patterns; after the question they are the news. So a staff reply that asks such a question
(the screening sections of prompts/crisis/) is remembered for the patient, in the database, and the patient's
answer after it that is the worrying one (a yes where a yes worries, a no to being safe) is heard as crisis
language: the crisis text, an urgent card of its own naming the question, escalation.

Which of the patient's messages answer it: the first ANSWERS messages they send the care team (not a check-in's
note or typed answer: those answer the check-in's own question) within ANSWER_WINDOW of the question, before staff
ask another question. No Telegram here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.alerts.crisis import Asked, CrisisLanguage
from bot.care_team.text_limits import shorten
from storage import screening
from storage.models import PatientMessage, ScreeningQuestion

# A day: a question asked in the afternoon is often read, and answered, that night or the next morning, when no one
# is in the staff chat to read the answer; that is when the escalation matters most. The other bounds below keep
# a later "yes" about something else from being taken for the answer.
ANSWER_WINDOW = timedelta(hours=24)
# Three messages: a phone sends a sentence in pieces ("honestly?", "yes", "every day now"), and a patient may first
# write "sorry, only just saw this". Beyond that a "yes" is likelier to be about something they wrote since.
ANSWERS = 3
QUESTION_SHOWN = 300  # characters of the question the card shows above the answer
_SENTENCE_ENDS = ".!?\n"
# A question asked: "?" ending a word (not inside a link's address, "page?id=3"), or Spanish's opening "¿".
_ASKS = re.compile(r"[?？](?!\S)|¿")
NO_MESSAGE = (0, 0)  # a reply written where it cannot be edited (the web console)


def the_question(text: str, span: tuple[int, int] | None) -> str:
    """The sentence of a staff member's words that holds the question (from the one before it ends to its own end),
    for the card; the words cut short when it cannot be found."""
    if span is None:
        return shorten(text.strip(), QUESTION_SHOWN)
    start, end = span
    begins = max(text.rfind(mark, 0, start) for mark in _SENTENCE_ENDS) + 1
    ends = min((found for mark in _SENTENCE_ENDS if (found := text.find(mark, end)) >= 0), default=len(text))
    if ends < len(text) and text[ends] != "\n":
        ends += 1  # its "?"
    return shorten(" ".join(text[begins:ends].split()), QUESTION_SHOWN)


@dataclass(frozen=True)
class Screening:
    language: CrisisLanguage

    async def staff_wrote(
        self,
        session: AsyncSession,
        *,
        patient_id: int,
        text: str,
        now: datetime,
        source: tuple[int, int] = NO_MESSAGE,
        edited: bool = False,
    ) -> None:
        """A staff member's reply to the patient (`source`: their message), or their edit of one (`edited`).

        A screening question is remembered, asked now; one asked in several messages before the patient wrote
        ("Are you safe tonight?", "And do you have a plan?") is one question, each answer worrying as to either.
        An edit that asks one counts (the staff member put a question right), as asked at the edit, unless it is
        the question whose worrying answer was heard (a typo put right asks nothing new); an edit that asks none
        leaves it (the patient has the reply as first sent). Another question ("Did you take your pills?") ends
        it: the patient's "yes" after it answers that one."""
        asked = self.language.screening_question(text)
        before = await screening.asked(session=session, patient_id=patient_id)
        if asked is None:
            if before is not None and not edited and _ASKS.search(text):
                await screening.forget(session=session, patient_id=patient_id)
            return
        question = the_question(text, asked.span)
        if before is not None and source != NO_MESSAGE and (before.chat_id, before.message_id) == source:
            if before.answered_at is None:  # the patient had the first version: an answer to either worries
                before.yes_worries |= asked.yes_worries
                before.no_worries |= asked.no_worries
                before.question = question
                await screening.ask(session=session, question=before)
            return
        after = await screening.newest_message(session=session, patient_id=patient_id)
        if before is not None and self._still_asking(before, after, now):
            asked = Asked(before.yes_worries or asked.yes_worries, before.no_worries or asked.no_worries)
            question = shorten(f"{before.question} {question}", QUESTION_SHOWN)
        chat_id, message_id = source
        await screening.ask(
            session=session,
            question=ScreeningQuestion(
                patient_id=patient_id,
                asked_at=now,
                yes_worries=asked.yes_worries,
                no_worries=asked.no_worries,
                question=question,
                after_message_id=after,
                chat_id=chat_id,
                message_id=message_id,
            ),
        )

    @staticmethod
    def _still_asking(question: ScreeningQuestion, newest: int, now: datetime) -> bool:
        """Whether a question still waits for the patient's first word (`newest`: their newest message): a question
        that follows it then is part of it."""
        unanswered = question.answered_at is None and now - question.asked_at <= ANSWER_WINDOW
        return unanswered and newest == question.after_message_id

    async def answer(
        self, session: AsyncSession, *, patient_id: int, text: str, now: datetime, first: PatientMessage | None = None
    ) -> str | None:
        """The question (staff's words) that the patient's words answer the worrying way, or None; then it is
        answered, and nothing more is read as its answer. Called for a message to the care team before it is
        stored, or for an edit of one (`first`, its first version, counted where it came)."""
        question = await screening.asked(session=session, patient_id=patient_id)
        if question is None or question.answered_at is not None or now - question.asked_at > ANSWER_WINDOW:
            return None
        after = question.after_message_id
        if first is not None and (first.id is None or first.id <= after or first.filed_as != "message"):
            return None  # an edit of a message from before the question, or of a note or a typed answer
        before = await screening.messages_between(
            session=session, patient_id=patient_id, after=after, before=first.id if first is not None else None
        )
        if before >= ANSWERS:
            return None
        worrying = Asked(yes_worries=question.yes_worries, no_worries=question.no_worries)
        if self.language.screening_answer(text, worrying) is None:
            return None
        await screening.answered(session=session, patient_id=patient_id, now=now)
        return question.question
