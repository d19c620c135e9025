"""How long operational rows are kept (INBOX_RETENTION_DAYS, OUTBOX_RETENTION_DAYS); 0 keeps them.

Processed inbox rows hold only an update's number and times, kept so that a re-delivered update is
recognised; a week is far longer than Telegram retries. Finished outbox rows are the record of what
was sent when (not words refused while a patient blocked the bot: owed to them when they are back). The
diary itself is not touched here: it is kept until the patient erases it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from storage import inbox, outbox, updates
from storage.database import Database


async def purge(database: Database, *, now: datetime, inbox_days: int, outbox_days: int) -> tuple[int, int]:
    """(inbox rows, outbox rows) deleted."""
    removed_inbox = removed_outbox = 0
    async with database.session() as session:
        if inbox_days:
            removed_inbox = await inbox.purge_processed(session=session, before=now - timedelta(days=inbox_days))
            # The ledger of handled updates serves the same purpose: recognising a re-delivered update.
            await updates.purge(session=session, before=now - timedelta(days=inbox_days))
        if outbox_days:
            removed_outbox = await outbox.purge_finished(session=session, before=now - timedelta(days=outbox_days))
    return removed_inbox, removed_outbox
