"""Words a patient sends in unusual shapes still reach a person: the real bot over HTTP against the
stand-in, on SQLite and PostgreSQL.

A command is typed words too: "/help I want to die" or "/suicide" speak of crisis as plainly as the same
words without the slash.
"""

from __future__ import annotations

from bot.sandbox import SimulatedUser
from tests.harness import Diary
from tests.test_care_team import BERLIN_CRISIS_LINE, alerts, cards, stored_messages


async def test_crisis_words_in_a_command_get_the_crisis_text_and_an_urgent_card(diary: Diary) -> None:
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    for number, words in enumerate(
        ["/help I want to kill myself", "/callme quiero morirme", "/I want to die tonight", "/suicide"], 1
    ):
        reply = await ben.send(words)
        assert reply is not None and BERLIN_CRISIS_LINE in (reply.text or ""), words
        await diary.wait_until(lambda: len(cards(diary)) == number)  # noqa: B023 - waited for at once
        card = cards(diary)[-1]
        assert card.caption is not None and card.caption.startswith("🔴 URGENT"), words
    assert [a.rule for a in await alerts(diary)] == ["crisis_text"] * 4
    assert all(m.crisis for m in await stored_messages(diary))
