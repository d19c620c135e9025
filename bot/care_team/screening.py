"""Safety screening in the chat: staff ask a patient "Are you having any thoughts of ending your life?" or "Are you
safe tonight?" in a reply, and the patient answers "yes. again last night. worse" or "no". Those words alone say
nothing to the crisis patterns; after the question they are the news. So a staff reply that asks such a question
(the screening sections of prompts/crisis/) is remembered for the patient, in the database, and the patient's
answer after it that is the worrying one (a yes where a yes worries, a no to being safe, an "I don't know" to either)
is heard as crisis language: the crisis text, an urgent card of its own naming the question, escalation.

Which of the patient's words answer it: the first ANSWERS messages they send the care team within ANSWER_WINDOW of
the question, until
- staff write to them again after they wrote (any reply: the patient's next "yes" answers that one), or staff ask
  something else before they wrote (a nudge, "Are you there?", or a statement leaves the question waiting);
- a reassuring answer ("no, never", "yes I'm safe"), and REASSURED_FOR after it ("no", then "well... yes
  sometimes", is one answer).
A check-in's note is read too, but only for an answer that says in words what it answers ("no, not safe tonight"):
its "no" may answer the check-in's own "Anything else?". A Telegram reply to the question itself answers it whenever
it comes within QUOTED_WINDOW, also after a worrying answer was heard (each is a crisis message of its own). An
answer is the whole message, short and answer-shaped, or says in words what it answers: "Still waiting for my
prescription" is no "still".

Only what the patient read counts: an edit of a staff reply never reaches them, so it asks nothing. No Telegram here.
"""

from __future__ import annotations

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
# After a reassuring answer, what is typed at once still belongs to it ("no" ... "well... yes sometimes"); later words
# are about other things.
REASSURED_FOR = timedelta(minutes=5)
# A Telegram reply to the question says what it answers: heard after more messages, or another staff reply, too.
QUOTED_WINDOW = timedelta(hours=72)
QUESTION_SHOWN = 300  # characters of the question the card shows above the answer
_SENTENCE_ENDS = ".!?\n"


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


def shown(text: str, asked: Asked) -> str:
    """What the card shows of a reply that asks a screening question: the sentence that asks it; the whole reply when
    it asks something else too ("Did you take your pills? Any thoughts of harming yourself?"), so that staff can
    tell what a "yes" answered."""
    return shorten(" ".join(text.split()), QUESTION_SHOWN) if asked.others else the_question(text, asked.span)


def _followed(question: ScreeningQuestion, waiting: bool, now: datetime) -> bool:
    """Whether a plan, when or how asked now follows up the question ("Do you have a plan?"): it still waits for the
    patient's first word, or its worrying answer came within its day. After a reassuring answer "Do you have any
    plans?" is about the weekend."""
    if now - question.asked_at > ANSWER_WINDOW:
        return False
    unclosed = question.closes_at is None or now < question.closes_at
    return question.answered_at is not None or (waiting and unclosed)


@dataclass(frozen=True)
class Screening:
    language: CrisisLanguage

    async def staff_wrote(
        self, session: AsyncSession, *, patient_id: int, text: str, now: datetime, sent: tuple[int, int]
    ) -> None:
        """A staff member's reply to the patient, queued as the outbox messages `sent` (the first's id, the last's).

        A screening question is remembered, asked now; one asked in several replies before the patient wrote ("Are
        you safe tonight?", "And do you have a plan?") is one question, each answer worrying as to either. Any other
        reply after the patient wrote ends the one before (their next "yes" answers that reply); before they wrote,
        another question ends it, a nudge ("Are you there?") or a statement does not."""
        before = await screening.asked(session=session, patient_id=patient_id)
        newest = await screening.newest_message(session=session, patient_id=patient_id)
        waiting = before is not None and newest == before.after_message_id  # the patient has not written since
        asked = self.language.staff_question(text, following=before is not None and _followed(before, waiting, now))
        if asked.screening:
            question = ScreeningQuestion(
                patient_id=patient_id,
                asked_at=now,
                yes_worries=asked.yes_worries,
                no_worries=asked.no_worries,
                question=shown(text, asked),
                after_message_id=newest,
                first_outbox_id=sent[0],
                last_outbox_id=sent[1],
            )
            await screening.ask(session=session, question=question, waiting_since=now - ANSWER_WINDOW)
        elif before is not None and (asked.others or not waiting):
            await screening.close(session=session, question=before, at=now)

    async def answer(
        self,
        session: AsyncSession,
        *,
        patient_id: int,
        text: str,
        now: datetime,
        first: PatientMessage | None = None,
        note: bool = False,
        replying_to: tuple[int, int] | None = None,
        record: bool = True,
    ) -> str | None:
        """The question (as the card shows it) that the patient's words answer the worrying way, or None; then it is
        answered, and nothing more is read as its answer. Called for a message to the care team before it is stored
        (`note`: a check-in's note), or for an edit of one (`first`, its first version, counted where it came).
        `replying_to`: the (chat, message) of the diary's message the words are a Telegram reply to. `record` False:
        only asked (a command's words, read before they are kept: bot/handlers/gate.py), nothing taken as answered
        or closed."""
        question = await screening.asked(session=session, patient_id=patient_id)
        if question is None:
            return None
        quoted = (
            replying_to is not None
            and now - question.asked_at <= QUOTED_WINDOW
            and await screening.brought(
                session=session, question=question, chat_id=replying_to[0], message_id=replying_to[1]
            )
        )
        # Answered, a "yes" typed since may be about anything; one replied to the question itself answers it again:
        # said again, later ("still not safe", the next morning), it is news, not the answer staff have acknowledged.
        if question.answered_at is not None and not quoted:
            return None
        if not quoted and not await self._in_window(session, question, now, first):
            return None
        asked = Asked(yes_worries=question.yes_worries, no_worries=question.no_worries)
        if self.language.screening_answer(text, asked, explicit=note and not quoted) is not None:
            if record and question.answered_at is None:
                await screening.answered(session=session, question=question, now=now)
            return question.question
        if record and first is None and not note and self.language.screening_reassures(text, asked):
            await screening.close(session=session, question=question, at=now + REASSURED_FOR)
        return None

    @staticmethod
    async def _in_window(
        session: AsyncSession, question: ScreeningQuestion, now: datetime, first: PatientMessage | None
    ) -> bool:
        """Whether words written now (or an edit of `first`) come where the question's answer may: within its day,
        before it closed, among the first ANSWERS messages after it."""
        after = question.after_message_id
        if now - question.asked_at > ANSWER_WINDOW:
            return False
        if first is not None and (first.id is None or first.id <= after or first.filed_as != "message"):
            return False  # an edit of a message from before the question, or of a note or a typed answer
        # An edit puts right what was written while the question was open ("no" made "yes"): counted where it came.
        written = now if first is None else first.received_at
        if question.closes_at is not None and written >= question.closes_at:
            return False
        before = await screening.messages_between(
            session=session, patient_id=question.patient_id, after=after, before=first.id if first is not None else None
        )
        return before < ANSWERS
