"""Invites, consent, strangers, help, language and history, end to end."""

from __future__ import annotations

import base64
import random
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.diary.enrolment import TOKEN_BYTES, hash_token, without_tokens
from bot.handlers.gate import STRANGER_COUNTER
from bot.sandbox import SimulatedUser
from storage import counters
from storage.models import Invite, Patient
from tests.harness import SQLITE_ONLY, Diary


async def patients(diary: Diary) -> list[Patient]:
    async with diary.database.session() as session:
        return list((await session.exec(select(Patient))).all())


@SQLITE_ONLY
async def test_invite_token_is_random_long_and_stored_only_hashed(diary: Diary) -> None:
    tokens = {await diary.invite(f"P-{n}") for n in range(20)}
    assert len(tokens) == 20
    assert all(len(token) >= 22 for token in tokens), "at least 128 bits in base64url"
    async with diary.database.session() as session:
        stored = {invite.token_hash for invite in (await session.exec(select(Invite))).all()}
    assert stored == {hash_token(token) for token in tokens}
    assert not stored & tokens


@SQLITE_ONLY
async def test_consent_accept_enrols_with_the_invite_settings(diary: Diary) -> None:
    ana = SimulatedUser(diary.standin, 201, "Ana", "es")
    token = await diary.invite("P-0013", language="es")
    consent = await ana.send(f"/start {token}")
    assert consent is not None and consent.text is not None
    for phrase in ["no están cifrados de extremo a extremo", "las 24 horas", "consejo médico", "/export", "/delete"]:
        assert phrase in consent.text
    await ana.press("Estoy de acuerdo")
    assert (ana.last.text or "").startswith("Gracias, ya está inscrito/a")
    (patient,) = await patients(diary)
    assert (patient.code, patient.telegram_user_id, patient.language, patient.status) == ("P-0013", 201, "es", "active")
    assert patient.consented_at == diary.clock()


@SQLITE_ONLY
async def test_decline_stores_nothing_about_the_person(diary: Diary) -> None:
    dee = SimulatedUser(diary.standin, 202, "Dee")
    token = await diary.invite("P-0014")
    await dee.send(f"/start {token}")
    await dee.press("No, thank you")
    assert "Nothing about you has been stored" in (dee.last.text or "")
    (patient,) = await patients(diary)
    assert patient.telegram_user_id is None and patient.consented_at is None
    inbox = await diary.inbox_processed()
    assert all(row.payload is None for row in inbox), "processed updates keep no content"


@SQLITE_ONLY
async def test_invite_is_single_use_and_expires(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 203, "Ben")
    eve = SimulatedUser(diary.standin, 204, "Eve")
    token = await diary.invite("P-0001")
    await ben.send(f"/start {token}")
    await ben.press("I agree")
    reply = await eve.send(f"/start {token}")
    assert reply is not None and "expired or has already been used" in (reply.text or "")

    late = await diary.invite("P-0002")
    diary.clock.advance(days=7, seconds=1)
    reply = await eve.send(f"/start {late}")
    assert reply is not None and "expired or has already been used" in (reply.text or "")
    # Even a consent button kept from before the expiry cannot enrol.
    press = await eve.press(data=f"cs:y:{late}", message=reply)
    assert press.answer is None and "expired" in (eve.last.text or "")
    assert not [m for m in eve.messages if "went wrong" in (m.text or "")]
    assert [p.telegram_user_id for p in await patients(diary)].count(204) == 0


async def test_stranger_gets_a_polite_line_and_only_a_counter(diary: Diary) -> None:
    carl = SimulatedUser(diary.standin, 205, "Carl", "es")
    reply = await carl.send("hola, ¿qué es esto?")
    assert reply is not None and "pida a su equipo médico un enlace de invitación" in (reply.text or "")
    await carl.send("/checkin")
    await carl.send("/start")
    inbox = await diary.inbox_processed()
    async with diary.database.session() as session:
        assert await counters.value(session=session, name=STRANGER_COUNTER) == 2
    assert await patients(diary) == []
    assert all(row.payload is None for row in inbox)


@SQLITE_ONLY
async def test_words_of_crisis_before_enrolment_get_help_at_once_and_nothing_is_kept(diary: Diary) -> None:
    """Someone on the consent screen, or never invited, who writes of suicide or self-harm is not told to ask
    for an invite: they get where to find help now, and are told honestly that no one at the clinic will see
    it. Nothing about them is stored (only the counter), as for any stranger."""
    token = await diary.invite("P-0007")
    ana = SimulatedUser(diary.standin, 207, "Ana")
    await ana.send(f"/start {token}")
    reply = await ana.send("before i agree to anything, i just want to kill myself")
    assert reply is not None and reply.text is not None
    assert "invite" not in reply.text and "emergency" in reply.text and "no one at the clinic" in reply.text
    carl = SimulatedUser(diary.standin, 208, "Carl", "es")
    reply = await carl.send("ya no aguanto mas, me quiero matar")
    assert reply is not None and "emergencias" in (reply.text or "") and "invitación" not in (reply.text or "")
    answered = carl.expect_reply()
    carl.send_photo("el puente, esta noche me tiro")
    assert "emergencias" in ((await answered).text or "")
    reply = await carl.send("hola, ¿qué es esto?")
    assert reply is not None and "pida a su equipo médico un enlace de invitación" in (reply.text or "")
    # Words of crisis edited into what they wrote: the same help, at once (an edit had no answer at all).
    said = next(m for m in diary.standin.chat(carl.id) if m.text == "hola, ¿qué es esto?")
    reply = await carl.edit(said, "hola. esta noche me quiero matar")
    assert reply is not None and "emergencias" in (reply.text or "")
    inbox = await diary.inbox_processed()
    async with diary.database.session() as session:
        assert await counters.value(session=session, name=STRANGER_COUNTER) == 5
    assert [p.telegram_user_id for p in await patients(diary)] == [None]
    assert all(row.payload is None for row in inbox)
    assert not diary.standin.chat(-100500), "nothing reaches the staff chat about someone not enrolled"


@SQLITE_ONLY
async def test_words_of_crisis_after_start_before_enrolment_get_help_not_a_dead_link(diary: Diary) -> None:
    """ "/start I want to kill myself" from someone never invited, on the consent screen, or on the account a
    re-link moved a record from: the first word was taken for an invite token, and they were told their link had
    expired. They get where to find help now (staff told of the account a record left), and a sentence after /start
    that speaks of nothing worrying gets the one line; a link or its token after /start is still opened."""
    carl = SimulatedUser(diary.standin, 209, "Carl")
    reply = await carl.send("/start I want to kill myself")
    assert reply is not None and "no one at the clinic" in (reply.text or ""), reply
    reply = await carl.send("/start hello, my nurse told me to write here")
    assert reply is not None and "Please ask your care team for an invite link" in (reply.text or ""), reply
    token = await diary.invite("P-0008")
    dee = SimulatedUser(diary.standin, 210, "Dee", "es")
    await dee.send(f"/start {token}")
    reply = await dee.send("/start ya no aguanto, me quiero matar")
    assert reply is not None and "nadie en la clínica" in (reply.text or ""), reply
    reply = await dee.send(f"/start {token}")
    assert reply is not None and "Estoy de acuerdo" in [label for label, _ in reply.buttons], reply
    ben = SimulatedUser(diary.standin, 211, "Ben")
    await diary.enrol(ben, "P-0009")
    relink = await diary.invite("P-0009", relink=True)
    new_phone = SimulatedUser(diary.standin, 212, "Ben on a new phone")
    await new_phone.send(f"/start {relink}")
    await new_phone.press("I agree")
    await ben.wait_for(lambda: "continues on another Telegram account" in (ben.last.text or ""))
    reply = await ben.send("/start i want to die")
    assert reply is not None and "no one at the clinic" in (reply.text or ""), reply
    told = "the Telegram account that held P-0009's diary until"
    await diary.wait_until(
        lambda: any(told in (m.text or "") and "i want to die" in (m.text or "") for m in diary.standin.chat(-100500))
    )
    assert [p.telegram_user_id for p in await patients(diary)] == [None, 212]


@SQLITE_ONLY
async def test_an_invite_link_pasted_with_words_of_crisis_opens_the_consent_screen_after_the_help(diary: Diary) -> None:
    """Someone who pasted their invite link with words of crisis got where to find help, and nothing of the link they
    had pasted to join (after /start, the link opened and the words not read): they get both, the help first."""
    token = await diary.invite("P-0010")
    ana = SimulatedUser(diary.standin, 213, "Ana")
    answered = ana.expect_reply()
    ana.say(f"i cant go on, i want to die. my nurse sent me https://t.me/crps_diary_bot?start={token}")
    assert "no one at the clinic" in ((await answered).text or "")
    await ana.wait_for(lambda: any(label == "I agree" for label, _ in ana.last.buttons))
    await ana.press("I agree")
    assert [p.telegram_user_id for p in await patients(diary)] == [213]
    # Its token after /start, and the words after it: the same.
    token = await diary.invite("P-0011")
    dee = SimulatedUser(diary.standin, 214, "Dee", "es")
    answered = dee.expect_reply()
    dee.say(f"/start {token} ya no aguanto, me quiero matar")
    assert "nadie en la clínica" in ((await answered).text or "")
    await dee.wait_for(lambda: any(label == "Estoy de acuerdo" for label, _ in dee.last.buttons))


async def test_help_language_and_unknown_input(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 206, "Ben")
    await diary.enrol(ben)
    reply = await ben.send("/help")
    assert reply is not None and "/checkin" in (reply.text or "") and "medical advice" in (reply.text or "")
    reply = await ben.send("/frobnicate")
    assert reply is not None and "did not understand" in (reply.text or "")
    # A question gets the fixed reply, never an answer; it goes to the care team (tests/test_alerts.py).
    reply = await ben.send("what dose should I take?")
    assert reply is not None and (reply.text or "").startswith("I can't give medical advice; your care team will see")
    await ben.send("/language")
    await ben.press("Español")
    assert ben.last.text == "Su idioma ahora es español."
    await ben.send("/checkin")
    assert "¿Cuánto le duele ahora?" in (ben.last.text or "")


@SQLITE_ONLY
async def test_history_sends_a_chart_with_the_patients_own_numbers(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 207, "Ben")
    await diary.enrol(ben)
    reply = await ben.send("/history")
    assert reply is not None and reply.text == "There are no check-ins from the last 30 days yet."
    for pain in ["4", "7", "5"]:
        await ben.send("/checkin")
        await ben.press(pain)
        await ben.press("Skip ▶")
        await ben.press("Skip ▶")
        await ben.press("Skip ▶")
        await ben.press("2 Low")
        diary.clock.advance(days=1)
    await ben.send("/history")
    await ben.wait_for(lambda: ben.last.photo is not None)
    chart = ben.last
    assert chart.photo is not None and chart.photo.startswith(b"\x89PNG")
    assert chart.caption == (
        "Your last 30 days: 3 check-ins.\nPain: lowest 4, highest 7, most recent 5.\n"
        "Mood: lowest 2, highest 2, most recent 2."
    )
    diary.clock.advance(days=31)
    reply = await ben.send("/history")
    assert reply is not None and reply.text == "There are no check-ins from the last 30 days yet."


@SQLITE_ONLY
async def test_checkin_date_is_in_the_patients_time_zone(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 208, "Ben")
    await diary.enrol(ben)
    diary.clock.now = diary.clock.now.replace(hour=23, minute=30)  # 00:30 next day in Berlin
    await ben.send("/checkin")
    assert "Check-in · 2026-11-22 00:30" in (ben.last.text or "")
    (checkin,) = await diary.checkins()
    assert str(checkin.local_date) == "2026-11-22"
    assert checkin.closes_at - checkin.started_at == timedelta(hours=12)


# As secrets.token_urlsafe makes them, from a seeded generator: the same 500 tokens at every run.
_rng = random.Random(7)
TOKENS = [base64.urlsafe_b64encode(_rng.randbytes(TOKEN_BYTES)).decode().rstrip("=") for _ in range(500)]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://t.me/diary_bot?start={token} what is it?", "https://t.me/diary_bot?start=… what is it?"),
        ("the nurse read me this: {token}.", "the nurse read me this: …."),
        ('code "{token}" and again ({token})', 'code "…" and again (…)'),
        (
            "my physio video https://youtu.be/abc?start=90 at 1:30",
            "my physio video https://youtu.be/abc?start=90 at 1:30",
        ),
        ("Donaudampfschifffahrtsge is long", "Donaudampfschifffahrtsge is long"),
        ("{token}x is not one of the bot's tokens", "{token}x is not one of the bot's tokens"),
        # Cut by a character that shows nothing (an app breaking a long word, or on purpose): read whole.
        ("https://t.me/diary_bot?start={cut} what is it?", "https://t.me/diary_bot?start=… what is it?"),
        ("the nurse read me this: {cut}.", "the nurse read me this: …."),
        ("{cut}\u00adx is not one of the bot's tokens", "{cut}\u00adx is not one of the bot's tokens"),
    ],
)
def test_tokens_are_blanked_in_a_patients_words_in_a_link_or_on_their_own(text: str, shown: str) -> None:
    for n, token in enumerate(TOKENS):
        gap = "\u200b\u00ad\u2060\ufeff\u200c"[n % 5]
        cut = f"{token[: 1 + n % 22]}{gap}{token[1 + n % 22 :]}"
        assert without_tokens(text.format(token=token, cut=cut)) == shown.format(token=token, cut=cut)
