"""How long claiming the next outbox row takes with a large queue behind one retrying row, with and
without the outbox's index by chat (ix_outbox_chat): a row waits while an earlier row for its chat is
owed, and that check must not read the whole queue at each claim.

    uv run python -m bench.outbox_claim [--queued 100000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text, update

from storage import migrate, outbox
from storage.database import Database
from storage.outbox import OUTBOX

NOW = datetime(2026, 1, 1, 9, tzinfo=UTC)
STAFF_CHAT = -5


async def claims(database: Database, count: int) -> list[float]:
    """Milliseconds for each of `count` claims (each claimed row is put back, so all see the same queue)."""
    taken = []
    for _ in range(count):
        start = time.perf_counter()
        async with database.session() as session:
            row = await outbox.claim_one(session=session, now=NOW)
        taken.append((time.perf_counter() - start) * 1000)
        assert row is not None and row.id is not None
        async with database.session() as session:
            await outbox.release(session=session, message_id=row.id)
    return taken


async def main(queued: int, url: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        database = Database(url or f"sqlite+aiosqlite:///{Path(folder) / 'claim.db'}")
        await migrate.upgrade(database)
        async with database.session() as session:
            # The morning's check-ins, one per chat, and the staff chat's cards, the first of them retrying.
            await outbox.enqueue_many(
                session=session, kind="checkin", now=NOW, messages=[(1000 + i, None) for i in range(queued)]
            )
            for _ in range(queued // 50):
                await outbox.enqueue(session=session, kind="staff", chat_id=STAFF_CHAT, text="card", now=NOW)
        async with database.session() as session:
            first = (await session.exec(select(OUTBOX.c.id).where(OUTBOX.c.chat_id == STAFF_CHAT).limit(1))).one()[0]
            later = NOW + timedelta(minutes=5)
            await session.exec(update(OUTBOX).where(OUTBOX.c.id == first).values(error="502", not_before=later))
        with_index = await claims(database, 20)
        async with database.session() as session:
            await session.exec(text("DROP INDEX ix_outbox_chat"))
        without = await claims(database, 20)
        await database.dispose()
    indexed, plain = statistics.median(with_index), statistics.median(without)
    print(f"claim with {queued:,} rows queued (median of 20): with ix_outbox_chat {indexed:.1f} ms,")
    print(f"  without it {plain:.1f} ms ({plain / indexed:.1f}x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queued", type=int, default=100_000)
    parser.add_argument("--database-url")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.queued, arguments.database_url))
