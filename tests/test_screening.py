"""Safety screening in the chat: a staff reply asks "Are you having any thoughts of ending your life?" or "Are you
safe tonight?", and the patient's worrying answer ("yes. again last night. worse", "no") is heard as crisis
language: the crisis text, an urgent card of its own naming the question, escalation. A reassuring answer, an
answer to an ordinary question, and one after the window stay ordinary.

First the words (the screening sections of prompts/crisis/, read by bot/alerts/crisis.py), then the real bot over
HTTP against the stand-in: across a restart, an edited question, a question in two replies, a re-link and a
discharge.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.alerts import escalation
from bot.alerts.crisis import Asked, CrisisLanguage
from bot.alerts.desk import AlertDesk
from bot.app import crisis_language
from bot.care_team.screening import ANSWER_WINDOW, ANSWERS, the_question
from bot.sandbox import SimulatedUser
from bot.sandbox.server import ChatMessage
from storage.models import ScreeningQuestion
from tests.harness import SQLITE_ONLY, Diary, running_diary
from tests.test_alerts import STAFF_CHAT, staff_chat
from tests.test_care_team import BERLIN_CRISIS_LINE, a_question_in_the_staff_chat, alerts, cards, crisis
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
        ("Do you have a plan?", YES),
        ("Have you hurt yourself?", YES),
        ("Did you hurt yourself on purpose?", YES),
        ("Are you safe tonight?", NO),
        ("Can you keep yourself safe?", NO),
        ("Do you feel safe at home?", NO),
        ("¿Has pensado en quitarte la vida?", YES),
        ("¿Tienes pensamientos de suicidio?", YES),
        ("¿Tienes pensado cómo?", YES),
        ("¿Tienes un plan?", YES),
        ("¿Estás a salvo esta noche?", NO),
        ("¿Te sientes segura en casa?", NO),
        ("Are you safe tonight? Any thoughts of harming yourself?", EITHER),
        # Ordinary questions and statements.
        ("Did you take your pills?", None),
        ("Do you have a plan for Friday?", None),
        ("If you have any thoughts of suicide, call 112 at once.", None),
        ("Are you safe to drive after the infusion?", None),
        ("Did you hurt yourself when you fell?", None),
        ("¿Estás seguro de que quieres cancelar la cita?", None),
        ("¿Tienes un plan para el fin de semana?", None),
        ("Yes, one more is fine tonight. We will call tomorrow.", None),
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
    ],
)
def test_an_answer_worries_only_the_way_its_question_does(
    language: CrisisLanguage, asked: Asked, answer: str, worrying: bool
) -> None:
    assert (language.screening_answer(answer, asked) is not None) is worrying, answer
    assert not language.matches(answer), "nothing the crisis patterns hear alone"


def test_every_screening_pattern_compiles(language: CrisisLanguage) -> None:
    screening = [p for p in language.patterns if p.section.startswith("screening_")]
    assert {p.section for p in screening} == {
        "screening_yes_worries",
        "screening_no_worries",
        "screening_yes",
        "screening_not_safe",
        "screening_reassures",
    }
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
async def test_an_edited_reply_asks_the_question_it_now_asks(diary: Diary) -> None:
    """Sam's question, typed in a hurry, asks nothing the patterns know; put right in an edit, it counts (the patient
    read it as meant). The edit of a question whose worrying answer was heard asks nothing new."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    typo = "Are you havng any thougths of ending your life?"
    await asks(diary, sam, ben, forwarded, typo)
    mine = next(m for m in diary.standin.chat(STAFF_CHAT) if m.text == typo)
    told = await sam.edit(mine, QUESTION)
    assert told is not None and (told.text or "").startswith("Edits do not reach P-0001")
    card = await crisis(diary, ben, "honestly? yes. every day now")
    assert answer_to(QUESTION) in (card.caption or "")
    told = await sam.edit(mine, "Are you having any thoughts of ending your life, Ben?")
    assert told is not None and (told.text or "").startswith("Edits do not reach P-0001")
    await ordinary(diary, ben, "yes")


@SQLITE_ONLY
async def test_a_question_in_two_replies_is_answered_as_one(diary: Diary) -> None:
    """ "Are you safe tonight?" then "And do you have a plan?", before Ben writes: his "yes" answers the plan."""
    ben, sam, forwarded = await a_question_in_the_staff_chat(diary)
    await asks(diary, sam, ben, forwarded, SAFE)
    await asks(diary, sam, ben, forwarded, "And do you have a plan?")
    card = await crisis(diary, ben, "yes")
    assert answer_to(f"{SAFE} And do you have a plan?") in (card.caption or "")


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
