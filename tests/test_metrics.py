"""The Prometheus endpoint after a scripted day: the real bot over HTTP against the stand-in, a real
database (SQLite and PostgreSQL), scraped over HTTP. Counters count what happened (updates, handler
failures, sends by result); gauges say what the database holds at the moment of the scrape."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select

from bot.metrics import Metrics
from bot.sandbox import SimulatedUser
from bot.sandbox.server import free_port
from storage import outbox
from storage.models import CheckIn, OutboxMessage
from tests.harness import Diary, running_diary

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
GROUP = -4001


async def scrape(port: int) -> tuple[str, Samples]:
    async with aiohttp.ClientSession() as client, client.get(f"http://127.0.0.1:{port}/metrics") as response:
        assert response.status == 200 and response.content_type == "text/plain"
        body = await response.text()
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }
    return body, samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


async def outbox_rows(diary: Diary) -> list[OutboxMessage]:
    async with diary.database.session() as session:
        return list((await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def test_a_scripted_day_scraped_over_http(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    # No staff chat yet: the crisis card waits in the outbox, and its age is known to the second.
    async with running_diary(
        database_url, tmp_path / "files", staff_chat_id=None, metrics_listen=f"127.0.0.1:{port}"
    ) as diary:
        standin, clock = diary.standin, diary.clock
        ben = SimulatedUser(standin, 301, "Ben")
        ana = SimulatedUser(standin, 302, "Ana")
        ada = SimulatedUser(standin, 900, "Ada")  # an admin
        await diary.enrol(ben, "P-0001")
        await diary.enrol(ana, "P-0002")

        # 08:00 UTC: Ben's extra check-in, its last press failing at Telegram (a handler error).
        await ben.send("/checkin")
        for label in ["6", "The same", "The same", "Not swollen", "4 Good"]:
            await ben.press(label)
        standin.fail_next("answerCallbackQuery", 500, "Internal Server Error")
        updates = len(await diary.inbox_processed())
        await ben.press("Skip ▶", wait=False)  # its answer fails: there is nothing to wait for in the chat
        await diary.inbox_processed(at_least=updates + 1)
        assert [c.completed_at is not None for c in await diary.checkins()] == [True], "stored all the same"
        crisis_at = clock()
        await ben.send("honestly i dont want to live anymore")  # an urgent alert; its card waits

        # 02:00 UTC the next day: the check-ins go out; Telegram answers 500, then 429; Ana blocked the bot.
        standin.block(ana.id)
        clock.now = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
        standin.fail_next("sendMessage", 500, "Internal Server Error")
        standin.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
        assert (await diary.dispatch()).sent == 2
        await diary.wait_until_async(lambda rows: any(r.error == "429" for r in rows if r.kind == "checkin"))
        clock.advance(minutes=5)  # past the backoffs
        await diary.wait_until_async(
            lambda rows: {r.status for r in rows if r.kind == "checkin"} == {"sent", "blocked"}
        )

        # 14:30 UTC: both check-ins closed unanswered.
        clock.now = datetime(2026, 11, 22, 14, 30, tzinfo=UTC)
        await diary.dispatch()
        await diary.inbox_processed()

        body, samples = await scrape(port)
        updates = standin.last_update_id
        assert value(samples, "diary_updates_processed_total") == updates
        assert value(samples, "diary_update_seconds_count") == updates
        assert value(samples, "diary_handler_errors_total") == 1
        sent = sum(1 for r in await outbox_rows(diary) if r.status == "sent")
        assert value(samples, "diary_sends_total", result="ok") == sent
        for result, count in {"5xx": 1, "429": 1, "403": 1, "400": 0, "uncertain": 0}.items():
            assert value(samples, "diary_sends_total", result=result) == count, result
        assert value(samples, "diary_inbox_backlog") == 0
        held = [r for r in await outbox_rows(diary) if r.chat_id == outbox.STAFF_CHAT_UNKNOWN]
        assert value(samples, "diary_outbox_queue", kind="alert") == 1
        assert value(samples, "diary_outbox_oldest_seconds", kind="alert") == (clock() - crisis_at).total_seconds()
        assert sorted(r.kind for r in held) == ["alert", "staff"], "the card, and that Ana blocked the bot"
        assert value(samples, "diary_outbox_queue", kind="staff") == 1
        assert value(samples, "diary_outbox_queue", kind="checkin") is None, "nothing else is owed"
        assert value(samples, "diary_alerts_open", tier="urgent") == 1
        assert value(samples, "diary_alerts_open", tier="amber") == 0
        async with diary.database.session() as session:
            checkins = (await session.exec(select(CheckIn))).all()
        assert len(checkins) == 3
        assert value(samples, "diary_checkins_last_24h", outcome="answered") == 1
        assert value(samples, "diary_checkins_last_24h", outcome="missed") == 2
        assert value(samples, "diary_staff_chat_known") == 0
        # Names, labels and help texts, without the sample values: a timestamp may hold any digits.
        words = "\n".join(line if line.startswith("#") else line.rsplit(" ", 1)[0] for line in body.splitlines())
        for private in ("P-0001", "P-0002", "Ben", "Ana", str(ben.id), str(ana.id), "live anymore"):
            assert private not in words, f"{private!r} in the metrics"

        # Gauges are read at the scrape: once a staff chat is chosen, what waited is sent and the queue empties.
        hint = ada.expect_reply(chat_id=GROUP)
        standin.add_bot_to_group(GROUP, "Clinic staff", by=ada)
        await hint
        await ada.send("/staffchat", chat_id=GROUP)
        await diary.wait_until_async(lambda rows: all(r.status not in ("pending", "sending") for r in rows))
        _, later = await scrape(port)
        assert value(later, "diary_outbox_queue", kind="alert") is None
        assert value(later, "diary_staff_chat_known") == 1
        assert value(later, "diary_alerts_open", tier="urgent") == 1, "sent is not acknowledged"
        sent_now = sum(1 for r in await outbox_rows(diary) if r.status == "sent")
        assert value(later, "diary_sends_total", result="ok") == sent_now > sent

        async with aiohttp.ClientSession() as client, client.get(f"http://127.0.0.1:{port}/healthz") as response:
            assert response.status == 200 and await response.json() == {"ok": True}


def test_each_application_counts_in_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.sent("ok")
    first.updates.inc()
    assert first.sends.labels("ok")._value.get() == 1
    assert second.sends.labels("ok")._value.get() == 0 and second.updates._value.get() == 0
