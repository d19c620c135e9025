"""Safety screening in the chat: a staff reply asks "Are you having any thoughts of ending your life?" or "Are you
safe tonight?", and the patient's worrying answer ("yes. again last night. worse", "no") is heard as crisis
language: the crisis text, an urgent card of its own naming the question, escalation. A reassuring answer, an
answer to an ordinary question, words that only begin like an answer, and one after the window stay ordinary.

First the words (the screening sections of prompts/crisis/, read by bot/alerts/crisis.py), then the real bot over
HTTP against the stand-in: across a restart, an edited reply (which asks nothing), a question in two replies, a
nudge, a reply after the patient wrote, a check-in's note, a Telegram reply, a re-link and a discharge; then two
staff members and the patient at the same moment, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.alerts import escalation
from bot.alerts.crisis import SCREENING_SECTIONS, Asked, CrisisLanguage
from bot.alerts.desk import AlertDesk
from bot.app import crisis_language
from bot.care_team.screening import ANSWER_WINDOW, ANSWERS, REASSURED_FOR, Screening, the_question
from bot.sandbox import SimulatedUser
from bot.sandbox.server import ChatMessage
from storage import migrate, patient_messages
from storage.database import Database
from storage.models import Patient, ScreeningQuestion
from storage.screening import asked as stored_question
from tests.harness import POSTGRESQL_ONLY, SQLITE_ONLY, Diary, running_diary
from tests.test_alerts import STAFF_CHAT, staff_chat
from tests.test_care_team import BERLIN_CRISIS_LINE, a_question_in_the_staff_chat, alerts, cards, crisis
from tests.test_checkin_flow import start_checkin
from tests.test_delivery_faults import restartable

YES = Asked(yes_worries=True, no_worries=False)
NO = Asked(yes_worries=False, no_worries=True)
EITHER = Asked(yes_worries=True, no_worries=True)


@pytest.fixture(scope="module")
def language() -> CrisisLanguage:
    return crisis_language()


# -- the words


@pytest.mark.parametrize(
    ("question", "asked"),
    [
        ("Are you having any thoughts of ending your life?", YES),
        ("Have you thought about harming yourself?", YES),
        ("Hi Ana, I read your note. Are you having thoughts of suicide at the moment?", YES),
        ("Any thoughts of hurting yourself?", YES),
        ("Do you want to die?", YES),
        ("Did you hurt yourself on purpose?", YES),
        ("Are you safe tonight?", NO),
        ("Can you keep yourself safe?", NO),
        ("Do you feel safe at home?", NO),
        ("¿Has pensado en quitarte la vida?", YES),
        ("¿Tienes pensamientos de suicidio?", YES),
        ("¿Estás a salvo esta noche?", NO),
        ("¿Te sientes segura en casa?", NO),
        ("Are you safe tonight? Any thoughts of harming yourself?", EITHER),
        # Asked in other words.
        ("Any suicidal thoughts?", YES),
        ("Suicidal thoughts?", YES),
        ("Thoughts of suicide?", YES),
        ("Do you ever think about ending your life?", YES),
        ("Are you having thoughts of death?", YES),
        ("Are you having thoughts of not wanting to be here?", YES),
        ("Are you going to hurt yourself?", YES),
        ("Are you planning to end your life?", YES),
        ("Have you taken an overdose?", YES),
        ("Did you take too many tablets?", YES),
        ("Have you hurt yourself on purpose?", YES),
        ("Can you keep yourself safe for the next 24 hours?", NO),
        ("Are you safe to be alone?", NO),
        ("Are you safe for now?", NO),
        ("Do you feel safe with yourself?", NO),
        ("¿Alguna idea de suicidio?", YES),
        ("¿Pensamientos de hacerte daño?", YES),
        ("¿Has intentado hacerte daño?", YES),
        ("¿Te has hecho daño a propósito?", YES),
        # Ordinary questions and statements.
        ("Did you take your pills?", None),
        ("Do you have a plan for Friday?", None),
        ("If you have any thoughts of suicide, call 112 at once.", None),
        ("Are you safe to drive after the infusion?", None),
        ("Did you hurt yourself when you fell?", None),
        ("¿Estás seguro de que quieres cancelar la cita?", None),
        ("¿Tienes un plan para el fin de semana?", None),
        ("Yes, one more is fine tonight. We will call tomorrow.", None),
        # A plan, when or how, asked alone: another plan (see the next test for one asked about suicide).
        ("Do you have a plan?", None),
        ("Have you got a plan?", None),
        ("Do you have any plans?", None),
        ("Do you know when?", None),
        ("Do you know how?", None),
        ("Have you decided when?", None),
        ("¿Sabes cuándo?", None),
        ("¿Tienes pensado cómo?", None),
        ("¿Tienes un plan?", None),
        ("Have you got anything for that?", None),
        ("Do you have a way of getting here?", None),
        # Falls and burns are everyday questions in a CRPS clinic; only "on purpose" makes them self-harm.
        ("Have you hurt yourself?", None),
        ("Have you hurt yourself today?", None),
        ("Have you burned yourself?", None),
        ("¿Te has hecho daño hoy?", None),
        ("¿Te has quemado?", None),
        # Safe doing something is another safety.
        ("Are you safe on the stairs?", None),
        ("Are you safe in the shower?", None),
        ("Are you safe at work?", None),
        ("Are you safe to drive?", None),
        ("Do you feel safe using the crutches?", None),
        ("¿Te sientes segura para conducir?", None),
        ("¿Estás a salvo en el trabajo con la mano así?", None),
        # Ending something else.
        ("Do you feel like ending it with him?", None),
        ("¿Estás pensando en acabar con todo el tratamiento?", None),
        # Said, not asked: no question mark in the sentence.
        ("Any thoughts of harming yourself, call 999.", None),
        ("Si tienes ideas de quitarte la vida, llama al 024.", None),
        ("Any thoughts of suicide, ring the crisis line straight away.", None),
        ("I'm glad you are not having thoughts of ending your life.", None),
        ("Good to hear you're safe tonight.", None),
    ],
)
def test_a_question_staff_ask_is_read_by_its_worrying_answer(
    language: CrisisLanguage, question: str, asked: Asked | None
) -> None:
    found = language.screening_question(question)
    if asked is None:
        assert found is None, question
    else:
        assert found is not None, question
        assert (found.yes_worries, found.no_worries) == (asked.yes_worries, asked.no_worries), question


@pytest.mark.parametrize(
    ("question", "asked"),
    [
        ("Do you have a plan?", YES),
        ("Have you got a plan?", YES),
        ("Do you know when?", YES),
        ("Have you decided how?", YES),
        ("¿Sabes cuándo?", YES),
        ("¿Tienes un plan?", YES),
        ("Do you have a plan for Friday?", None),
        ("Do you know when your next appointment is?", None),
        ("¿Tienes pensado cómo llegar?", None),
    ],
)
def test_a_plan_asked_after_a_screening_question_is_one(
    language: CrisisLanguage, question: str, asked: Asked | None
) -> None:
    """ "Do you have a plan?" is a screening question just after one (`following`), or beside words of suicide."""
    found = language.screening_question(question, following=True)
    assert (found is None) is (asked is None), question
    if found is not None:
        assert (found.yes_worries, found.no_worries) == (True, False), question
    assert language.screening_question(question) is None, question
    if asked is not None:
        for context in ("Are you having thoughts of ending your life? ", "You said you think of suicide. "):
            found = language.screening_question(context + question)
            assert found is not None and found.yes_worries, context + question


@pytest.mark.parametrize(
    ("reply", "screening", "others"),
    [
        ("Ben, are you there?", False, False),
        ("Hello?", False, False),
        ("¿Sigues ahí?", False, False),
        ("Did you see my question? Please answer when you can.", False, False),
        ("Thanks Ben. I have moved your appointment to Tuesday at 3.", False, False),
        ("Did you take your pills?", False, True),
        ("Are you safe tonight? Are you there?", True, False),
        ("Did you take your pills? Any thoughts of harming yourself?", True, True),
        ("Any thoughts of harming yourself? And how is the pain?", True, True),
    ],
)
def test_a_reply_asks_something_else_unless_it_only_nudges(
    language: CrisisLanguage, reply: str, screening: bool, others: bool
) -> None:
    """A nudge ("are you there?") or a statement leaves a question unanswered; another question asks something
    else, which the patient's next words may answer."""
    asked = language.staff_question(reply)
    assert (asked.yes_worries or asked.no_worries) is screening, reply
    assert asked.others is others, reply


@pytest.mark.parametrize(
    ("asked", "answer", "worrying"),
    [
        (YES, "yes. again last night. worse", True),
        (YES, "honestly? yes. every day now", True),
        (YES, "sí, otra vez anoche", True),
        (YES, "a tu pregunta: sí", True),
        (YES, "I have", True),
        (YES, "sometimes", True),
        (YES, "a bit", True),
        (YES, "claro que sí", True),
        # A plan or not being safe said alone is left to the question before it: alone it is as often a trip or the ice.
        (YES, "Yes I have a plan", True),
        (YES, "sí, ya tengo un plan", True),
        (YES, "sí, tengo un plan. no me pregunten más", True),
        (YES, "Sí. Tengo claro cómo lo haría", True),
        (YES, "No", False),
        (YES, "no never", False),
        (YES, "not at all", False),
        (YES, "I'm safe", False),
        (YES, "sí, estoy bien", False),
        (YES, "no, I have not", False),
        (YES, "I have my family", False),
        (YES, "a bit tired but no", False),
        (YES, "Not lately", False),
        (YES, "claro que no", False),
        (YES, "si no me llamas te llamo yo", False),
        (YES, "no sé si puedo ir el lunes", False),
        (NO, "no, not really safe", True),
        (NO, "no del todo", True),
        (NO, "No", True),
        (NO, "a tu pregunta: no", True),
        (NO, "I don't know", True),
        (NO, "No not safe", True),
        (NO, "No, I don't feel safe at all", True),
        (NO, "no, no estoy a salvo", True),
        (NO, "no me siento a salvo", True),
        (NO, "no I'm not", True),
        (NO, "yes I'm safe", False),
        (NO, "yes", False),
        (NO, "sí, estoy a salvo", False),
        (NO, "no worries, I'm safe", False),
        (NO, "I think so", False),
        (EITHER, "no", True),
        (EITHER, "yes", True),
        (EITHER, "yes I'm safe, no thoughts", False),
        # An answer is the whole message, short, or says what it answers: not how another message begins.
        (YES, "Still waiting for my prescription", False),
        (YES, "Again the pharmacy didn't have it", False),
        (YES, "Worse today, can I take another?", False),
        (YES, "a bit sore", False),
        (YES, "Sometimes I wonder if the tablets work", False),
        (YES, "Otra vez sin receta", False),
        (YES, "yes, took them this morning", False),
        (YES, "yes thanks", False),
        (YES, "yes will do", False),
        (YES, "I'm safe yes", False),
        (YES, "maybe tomorrow", False),
        (NO, "I can't make Tuesday", False),
        (NO, "I don't know what time the appointment is", False),
        (NO, "no thanks", False),
        (NO, "no gracias", False),
        (NO, "No puedo ir el martes", False),
        (NO, "I wish the pain would stop", False),
        (NO, "Not tonight, I'm busy, can we talk tomorrow?", False),
        (NO, "No me encuentro bien hoy, me duele mucho", False),
        (NO, "nope, safe", False),
        (NO, "no, I'm not suicidal", False),
        (NO, "safe for now", False),
        (EITHER, "no thanks", False),
        # Asked both, a denial with never, "I'm safe", "estoy bien", "tranquila" answers both.
        (EITHER, "No, never. I'm safe", False),
        (EITHER, "Not really, I'm safe", False),
        (EITHER, "no, estoy bien", False),
        (EITHER, "no no, tranquila", False),
        (EITHER, "not at all thank god", False),
        (EITHER, "God no", False),
        (EITHER, "hell no", False),
        (EITHER, "no never", False),
        (EITHER, "I don't know", True),
        (EITHER, "I'm not", True),
        (EITHER, "yes, but I'm safe", True),
        # Said in other words.
        (YES, "yh", True),
        (YES, "the usual", True),
        (YES, "more than before", True),
        (YES, "once or twice", True),
        (YES, "they come and go", True),
        (YES, "well... yes sometimes", True),
        (YES, "la verdad es que sí", True),
        (YES, "bastante", True),
        (YES, "sí, la verdad", True),
        (YES, "sí, hay días", True),
        (YES, "sí, se me pasa por la cabeza", True),
        (YES, "sí, los últimos días", True),
        (YES, "yes, but I'm safe", True),
        (YES, "yeah im ok but i have thought about it", True),
        (YES, "I don't know", True),
        (YES, "no lo sé", True),
        (NO, "I'm not", True),
        (NO, "no lo estoy", True),
        (NO, "para nada", True),
        (NO, "en absoluto", True),
        (NO, "qué va", True),
        (NO, "absolutely not", True),
        (NO, "definitely not", True),
        (NO, "la verdad es que no", True),
        (NO, "I hope so", True),
        (NO, "hopefully", True),
        (NO, "I'll try", True),
        (NO, "hell no", True),
    ],
)
def test_an_answer_worries_only_the_way_its_question_does(
    language: CrisisLanguage, asked: Asked, answer: str, worrying: bool
) -> None:
    assert (language.screening_answer(answer, asked) is not None) is worrying, answer
    assert not language.matches(answer), "nothing the crisis patterns hear alone"


@pytest.mark.parametrize(
    ("asked", "answer", "worrying"),
    [
        (NO, "no, not safe tonight", True),
        (NO, "no estoy a salvo", True),
        (YES, "yes, I have thought about it", True),
        (YES, "sí, se me pasa por la cabeza", True),
        (NO, "no", False),
        (YES, "yes", False),
        (YES, "sometimes", False),
        (NO, "I don't know", False),
    ],
)
def test_a_check_in_note_is_read_only_for_an_answer_that_says_what_it_answers(
    language: CrisisLanguage, asked: Asked, answer: str, worrying: bool
) -> None:
    """A note answers the check-in's own question ("Anything else?"): its "no" says nothing of being safe."""
    assert (language.screening_answer(answer, asked, explicit=True) is not None) is worrying, answer


@pytest.mark.parametrize(
    ("asked", "answer", "reassures"),
    [
        (YES, "No", True),
        (YES, "no never", True),
        (YES, "I'm safe", True),
        (NO, "yes I'm safe", True),
        (NO, "yes", True),
        (EITHER, "No, never. I'm safe", True),
        (EITHER, "no", False),
        (YES, "sorry, only just saw this", False),
        (NO, "Can I take another ibuprofen?", False),
    ],
)
def test_a_reassuring_answer_is_told_apart(
    language: CrisisLanguage, asked: Asked, answer: str, reassures: bool
) -> None:
    assert language.screening_reassures(answer, asked) is reassures, answer


def test_every_screening_pattern_compiles(language: CrisisLanguage) -> None:
    screening = [p for p in language.patterns if p.section.startswith("screening_")]
    assert {p.section for p in screening} == set(SCREENING_SECTIONS)
    assert {p.source.rsplit("/", 1)[-1] for p in screening} == {"en.yaml", "es.yaml"}
    for pattern in screening:
        assert pattern.regex.pattern == pattern.expression


def test_the_card_names_the_sentence_that_asks() -> None:
    text = "Hi Ana, I read your note. Are you having any thoughts of ending your life? Please be honest."
    start = text.index("Are")
    assert the_question(text, (start, text.index("life") + 4)) == "Are you having any thoughts of ending your life?"
    spanish = "Gracias.\n¿Has pensado en quitarte la vida?"
    assert the_question(spanish, (spanish.index("Has"), len(spanish) - 1)) == "¿Has pensado en quitarte la vida?"


# -- the bot


QUESTION = "Are you having any thoughts of ending your life?"
SAFE = "Are you safe tonight?"


async def asks(diary: Diary, sam: SimulatedUser, ben: SimulatedUser, about: ChatMessage, question: str) -> None:
    """Sam replies to Ben's message in the staff chat with the question; Ben has it."""
    said = await sam.send(question, chat_id=STAFF_CHAT, reply_to=about)
    assert said is not None and said.text == "Your reply is on its way to P-0001."
    await ben.wait_for(lambda: ben.last.text == f"Your care team: {question}")


async def ordinary(diary: Diary, ben: SimulatedUser, text: str) -> None:
    """Ben writes it; it reaches the staff chat as a message (where a crisis would have been a card instead), and he
    gets no crisis text."""
    reply = await ben.send(text)
    assert reply is not None and BERLIN_CRISIS_LINE not in (reply.text or ""), text
    await diary.wait_until(lambda: any(m.text == f"Message from P-0001:\n{text}" for m in staff_chat(diary)))


def answer_to(question: str) -> str:
    return f"In answer to the care team's question “{question}”:"


async def test_a_yes_to_thoughts_of_ending_life_is_a_crisis_card_naming_the_question_and_escalates(
    diary: Diary,
) -> None:
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    ada = SimulatedUser(diary.standin, 900, "Ada")  # an admin in the test settings
    await asks(diary, sam, ben, forwarded, f"Thank you for telling me. {QUESTION} Please be honest.")
    card = await crisis(diary, ben, "yes. again last night. worse")
    assert f"{answer_to(QUESTION)}\nyes. again last night. worse" in (card.caption or "")
    assert [(a.rule, a.status) for a in await alerts(diary)] == [("crisis_text", "open")]

    diary.clock.advance(minutes=16)  # Sam has gone: nobody acknowledged it
    assert await escalation.escalate(AlertDesk.for_settings(diary.database, diary.settings), now=diary.clock()) == 1
    await ada.wait_for(lambda: bool(ada.messages))
    assert QUESTION in (ada.last.text or "") and "again last night" in (ada.last.text or "")
    # Answered: a second yes is no second answer (words after a crisis are read for follow-ups, as ever).
    await ordinary(diary, ben, "yes")
    # A question asked since is heard as a new one.
    diary.clock.advance(hours=2)
    await asks(diary, sam, ben, forwarded, SAFE)
    card = await crisis(diary, ben, "no")
    assert f"{answer_to(SAFE)}\nno" in (card.caption or "")


@SQLITE_ONLY
async def test_a_yes_after_callme_is_heard_as_the_answer(diary: Diary) -> None:
    """ "/callme yes, every night" after the question: the words after the command are the patient's answer, read as
    typed words are. They were a request to be called, and the question waited on for a "yes" that had come."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await asks(diary, sam, ben, forwarded, f"Thank you for telling me. {QUESTION} Please be honest.")
    card = await crisis(diary, ben, "/callme yes, every night")
    assert f"{answer_to(QUESTION)}\n/callme yes, every night" in (card.caption or "")
    assert [(a.rule, a.status) for a in await alerts(diary)] == [("crisis_text", "open")]
    await ordinary(diary, ben, "yes")  # answered once


async def test_a_no_is_ordinary_and_a_yes_after_it_is_heard(diary: Diary) -> None:
    """Within the few messages that answer it, a reassurance stays ordinary and a worrying answer is still heard."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await asks(diary, sam, ben, forwarded, QUESTION)
    for answer in ("No", "no never", "not at all"):
        await ordinary(diary, ben, answer)
    await asks(diary, sam, ben, forwarded, "¿Has pensado en quitarte la vida?")
    await ordinary(diary, ben, "sí, estoy bien")
    await ordinary(diary, ben, "I'm safe")
    card = await crisis(diary, ben, "sí, otra vez anoche")
    assert answer_to("¿Has pensado en quitarte la vida?") in (card.caption or "")
    assert len(await alerts(diary)) == 1


@SQLITE_ONLY
async def test_the_safety_question_worries_at_a_no(diary: Diary) -> None:
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await asks(diary, sam, ben, forwarded, SAFE)
    await ordinary(diary, ben, "yes I'm safe")
    await asks(diary, sam, ben, forwarded, "¿Estás a salvo esta noche?")
    card = await crisis(diary, ben, "no del todo")
    assert answer_to("¿Estás a salvo esta noche?") in (card.caption or "")


@SQLITE_ONLY
async def test_a_yes_to_an_ordinary_question_is_ordinary_also_after_a_screening_one(diary: Diary) -> None:
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await asks(diary, sam, ben, forwarded, "Did you take your pills?")
    await ordinary(diary, ben, "yes")
    await asks(diary, sam, ben, forwarded, QUESTION)
    await asks(diary, sam, ben, forwarded, "And did you take your pills?")  # the yes that follows answers this
    await ordinary(diary, ben, "yes")
    assert not await alerts(diary)


@SQLITE_ONLY
async def test_an_answer_after_the_window_or_after_the_first_few_messages_is_ordinary(diary: Diary) -> None:
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await asks(diary, sam, ben, forwarded, QUESTION)
    for number in range(ANSWERS):
        await ordinary(diary, ben, f"my knee is swollen again ({number + 1})")
    await ordinary(diary, ben, "yes")
    await asks(diary, sam, ben, forwarded, SAFE)
    diary.clock.advance(seconds=ANSWER_WINDOW.total_seconds() + 60)
    await ordinary(diary, ben, "no")
    assert not await alerts(diary)


async def test_a_question_asked_before_a_restart_is_answered_after_it(tmp_path: Path, database_url: str) -> None:
    """The question is kept in the database: the bot restarted between Sam's question and Ben's "no" still hears it."""
    async with restartable(tmp_path / "files") as (clock, standin):
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
            await asks(diary, sam, ben, forwarded, SAFE)
        clock.advance(hours=3)
        async with running_diary(database_url, tmp_path / "files", clock=clock, standin=standin) as diary:
            card = await crisis(diary, ben, "no, not really safe")
            assert f"{answer_to(SAFE)}\nno, not really safe" in (card.caption or "")


@SQLITE_ONLY
async def test_an_edited_reply_asks_nothing_the_patient_did_not_read(diary: Diary) -> None:
    """An edit never reaches the patient ("Edits do not reach P-0001"): what they answer is the reply as sent. An
    ordinary question edited into a screening one asks none; a screening question edited into another asks the
    first."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await asks(diary, sam, ben, forwarded, "Did you take your pills?")
    mine = next(m for m in diary.standin.chat(STAFF_CHAT) if m.text == "Did you take your pills?")
    told = await sam.edit(mine, SAFE)
    assert told is not None and (told.text or "").startswith("Edits do not reach P-0001")
    await ordinary(diary, ben, "no")
    await asks(diary, sam, ben, forwarded, SAFE)
    mine = next(m for m in diary.standin.chat(STAFF_CHAT) if m.text == SAFE)
    told = await sam.edit(mine, QUESTION)
    assert told is not None and (told.text or "").startswith("Edits do not reach P-0001")
    await ordinary(diary, ben, "yes")
    card = await crisis(diary, ben, "no")
    assert answer_to(SAFE) in (card.caption or "")


@SQLITE_ONLY
async def test_a_question_in_two_replies_is_answered_as_one(diary: Diary) -> None:
    """ "Are you safe tonight?" then "And do you have a plan?", before Ben writes: his "yes" answers the plan."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await asks(diary, sam, ben, forwarded, SAFE)
    await asks(diary, sam, ben, forwarded, "And do you have a plan?")
    card = await crisis(diary, ben, "yes")
    assert answer_to(f"{SAFE} And do you have a plan?") in (card.caption or "")


@SQLITE_ONLY
async def test_a_plan_asked_after_a_worrying_answer_is_a_screening_question_and_after_a_reassuring_one_not(
    diary: Diary,
) -> None:
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await asks(diary, sam, ben, forwarded, QUESTION)
    await crisis(diary, ben, "yes")
    await asks(diary, sam, ben, forwarded, "Do you have a plan?")
    card = await crisis(diary, ben, "yes")
    assert answer_to("Do you have a plan?") in (card.caption or "")
    diary.clock.advance(hours=25)
    await asks(diary, sam, ben, forwarded, QUESTION)
    await ordinary(diary, ben, "no never")
    await asks(diary, sam, ben, forwarded, "Good. Do you know when?")
    await ordinary(diary, ben, "yes")
    assert len(await alerts(diary)) == 2


@SQLITE_ONLY
async def test_a_question_is_answered_from_the_account_a_relink_moved_the_diary_to(diary: Diary) -> None:
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await asks(diary, sam, ben, forwarded, QUESTION)
    token = await diary.invite(relink=True)
    new_phone = SimulatedUser(diary.standin, 311, "Ben")
    screen = await new_phone.send(f"/start {token}")
    await new_phone.press(data=f"cs:y:{token}", message=screen)
    card = await crisis(diary, new_phone, "yes")
    assert answer_to(QUESTION) in (card.caption or "")


@SQLITE_ONLY
async def test_a_discharged_patients_answer_is_still_heard(diary: Diary) -> None:
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await asks(diary, sam, ben, forwarded, SAFE)
    await sam.send("/discharge P-0001")
    card = await crisis(diary, ben, "no")
    assert answer_to(SAFE) in (card.caption or "")


@SQLITE_ONLY
async def test_an_erasure_takes_the_question_with_the_record(diary: Diary) -> None:
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await asks(diary, sam, ben, forwarded, SAFE)
    assert await diary.erase((await diary.schedule("P-0001")).patient_id, ben.id)
    async with diary.database.session() as session:
        assert not (await session.exec(select(ScreeningQuestion))).all()
    assert not cards(diary)


@SQLITE_ONLY
async def test_words_after_a_reassuring_answer_are_ordinary_unless_they_come_at_once(diary: Diary) -> None:
    """ "yes I'm safe" answers the question: what Ben writes after it is about other things ("I can't make Tuesday"
    is no "no"). A "no" followed within minutes by "well... yes sometimes" is one answer, and it is heard."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await asks(diary, sam, ben, forwarded, SAFE)
    await ordinary(diary, ben, "yes I'm safe")
    diary.clock.advance(minutes=REASSURED_FOR.total_seconds() / 60 + 1)
    await ordinary(diary, ben, "no")
    await asks(diary, sam, ben, forwarded, QUESTION)
    await ordinary(diary, ben, "no")
    diary.clock.advance(minutes=2)
    card = await crisis(diary, ben, "well... yes sometimes")
    assert f"{answer_to(QUESTION)}\nwell... yes sometimes" in (card.caption or "")


@SQLITE_ONLY
async def test_a_staff_reply_after_the_patient_wrote_ends_the_question(diary: Diary) -> None:
    """Sam wrote again after Ben's answer: Ben's next "yes" answers that reply, whatever it says."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await asks(diary, sam, ben, forwarded, QUESTION)
    await ordinary(diary, ben, "sorry, only just saw this")
    await asks(diary, sam, ben, forwarded, "Thanks Ben. I have moved your appointment to Tuesday at 3.")
    await ordinary(diary, ben, "yes")
    assert not await alerts(diary)


@SQLITE_ONLY
async def test_a_nudge_leaves_the_question_to_be_answered(diary: Diary) -> None:
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await asks(diary, sam, ben, forwarded, SAFE)
    await asks(diary, sam, ben, forwarded, "Ben, are you there?")
    card = await crisis(diary, ben, "no")
    assert answer_to(SAFE) in (card.caption or "")


@SQLITE_ONLY
async def test_a_clear_no_to_both_questions_is_ordinary(diary: Diary) -> None:
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await asks(diary, sam, ben, forwarded, QUESTION)
    await asks(diary, sam, ben, forwarded, SAFE)
    await ordinary(diary, ben, "No, never. I'm safe")
    assert not await alerts(diary)


@SQLITE_ONLY
async def test_a_screening_question_asked_beside_another_shows_the_whole_reply(diary: Diary) -> None:
    """ "yes, took them this morning" answers the pills; the "yes" after it is left to staff, who see all Sam asked."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    reply = "Did you take your pills? Any thoughts of harming yourself?"
    await asks(diary, sam, ben, forwarded, reply)
    await ordinary(diary, ben, "yes, took them this morning")
    card = await crisis(diary, ben, "yes")
    assert answer_to(reply) in (card.caption or "")


@SQLITE_ONLY
async def test_an_answer_typed_as_a_check_in_note_is_heard_when_it_says_what_it_answers(diary: Diary) -> None:
    """Ben answers "Are you safe tonight?" while a check-in waits for its note: a "no" there may be the note's own
    ("Anything else?"; test_a_check_in_note_is_read_only_for_an_answer_that_says_what_it_answers), but "no, not safe
    tonight" is the answer."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await asks(diary, sam, ben, forwarded, SAFE)
    await start_checkin(diary, ben)
    for label in ["6", "Redder", "Warmer", "A little", "3 Okay"]:
        await ben.press(label)
    assert "Question 6 of 6" in (ben.last.text or "")
    await ben.send("no, not safe tonight")
    await ben.wait_for(lambda: any(BERLIN_CRISIS_LINE in (m.text or "") for m in ben.messages))
    await diary.wait_until(lambda: bool(cards(diary)))
    assert f"{answer_to(SAFE)}\nno, not safe tonight" in (cards(diary)[-1].caption or "")
    notes = [a.value for a in await diary.answers() if a.item == "note"]
    assert notes == ["no, not safe tonight"], "the check-in's note, too"


@SQLITE_ONLY
async def test_a_telegram_reply_to_the_question_answers_it_later(diary: Diary) -> None:
    """Ben answers the question with Telegram's Reply on it, after other messages and after Sam wrote again."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await asks(diary, sam, ben, forwarded, QUESTION)
    question = ben.last
    for number in range(ANSWERS):
        await ordinary(diary, ben, f"my knee is swollen again ({number + 1})")
    await asks(diary, sam, ben, forwarded, "Is the swelling worse than last week?")
    diary.clock.advance(hours=30)
    reply = await ben.send("yes", reply_to=question)
    assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or "")
    await diary.wait_until(lambda: bool(cards(diary)))
    assert answer_to(QUESTION) in (cards(diary)[-1].caption or "")


@SQLITE_ONLY
async def test_a_worrying_answer_replied_to_the_question_again_after_the_first_was_acknowledged_is_a_new_card(
    diary: Diary,
) -> None:
    """Ben answers "Are you safe tonight?" with Telegram's Reply on it: "no", a card that Sam acknowledges. The next
    morning he replies to the same question again, "no": that is what it answers, said again, and new. It was taken
    for an answer to a question already answered, and reached staff as an ordinary message: no crisis text, no
    card, no escalation. A "no" typed without the Reply still answers nothing more."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await asks(diary, sam, ben, forwarded, SAFE)
    question = ben.last
    reply = await ben.send("no", reply_to=question)
    assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or "")
    await diary.wait_until(lambda: len(cards(diary)) == 1)
    await sam.press("Acknowledge", message=cards(diary)[0])
    await ben.wait_for(lambda: ben.last.text == "Your care team has seen your message.")

    diary.clock.advance(hours=10)
    reply = await ben.send("no", reply_to=question)
    assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or "")
    await diary.wait_until(lambda: len(cards(diary)) == 2)
    assert f"{answer_to(SAFE)}\nno" in (cards(diary)[1].caption or "")
    assert [a.status for a in await alerts(diary)] == ["acknowledged", "open"]
    diary.clock.advance(hours=1)
    await ordinary(diary, ben, "no")


# -- two at once (PostgreSQL: SQLite runs one writer at a time)


@POSTGRESQL_ONLY
async def test_an_answer_to_a_question_marks_no_newer_question_answered(database_url: str) -> None:
    """Ben's "no" answers "Are you safe tonight?" while Sam asks another question: Ben's answer is heard under
    the question he had, and Sam's still waits for his answer."""
    database = Database(database_url)
    await migrate.upgrade(database)
    screening = Screening(crisis_language())
    now = datetime(2026, 11, 21, 9, tzinfo=UTC)
    try:
        patient_id = await _a_patient(database, now)
        async with database.session() as session:
            await screening.staff_wrote(session, patient_id=patient_id, text=SAFE, now=now, sent=(1, 1))
            await patient_messages.add(session=session, patient_id=patient_id, text="sorry, just saw this", now=now)

        async def answer(text: str) -> str | None:
            async with database.session() as session:
                return await screening.answer(session, patient_id=patient_id, text=text, now=now)

        async with database.session() as asking:
            await screening.staff_wrote(asking, patient_id=patient_id, text=QUESTION, now=now, sent=(2, 2))
            answering = asyncio.create_task(answer("no"))  # reads the question before Sam's commits
            await _until_one_waits(database)
        assert await answering == SAFE
        assert await answer("yes") == QUESTION
    finally:
        await database.dispose()


@POSTGRESQL_ONLY
async def test_two_questions_asked_at_the_same_moment_are_both_kept(database_url: str) -> None:
    """Sam (Telegram) and Ada (the console) ask at once: neither question overwrites the other."""
    database = Database(database_url)
    await migrate.upgrade(database)
    screening = Screening(crisis_language())
    now = datetime(2026, 11, 21, 9, tzinfo=UTC)
    try:
        patient_id = await _a_patient(database, now)

        async def ask(text: str, sent: int) -> None:
            async with database.session() as session:
                await screening.staff_wrote(session, patient_id=patient_id, text=text, now=now, sent=(sent, sent))

        async with database.session() as first:
            await screening.staff_wrote(first, patient_id=patient_id, text=SAFE, now=now, sent=(1, 1))
            second = asyncio.create_task(ask(QUESTION, 2))  # reads the table before the first commits
            await _until_one_waits(database)
        await second
        async with database.session() as session:
            kept = await stored_question(session=session, patient_id=patient_id)
        assert kept is not None and kept.yes_worries and kept.no_worries, kept
        assert kept.question == f"{SAFE} {QUESTION}"
    finally:
        await database.dispose()


async def _a_patient(database: Database, now: datetime) -> int:
    async with database.session() as session:
        patient = Patient(code="P-0001", chat_id=5, language="en", timezone="Europe/Berlin", created_at=now)
        session.add(patient)
        await session.flush()
        assert patient.id is not None
        return patient.id


async def _until_one_waits(database: Database) -> None:
    """Until a session of this database waits for a lock another holds (the second writer of a row)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        async with database.session() as session:
            if (await session.exec(waiting)).one()[0]:  # type: ignore[call-overload]
                return
        assert asyncio.get_running_loop().time() < deadline, "no session waits"
        await asyncio.sleep(0.01)
