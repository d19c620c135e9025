"""`python -m bot audit`: the audit log, oldest first: when, who (Telegram id and name), what, which patient."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.cli.common import fail, on_database

if TYPE_CHECKING:
    from bot.cli.common import Commands
    from bot.config import Settings
    from storage.database import Database


def add_parser(commands: Commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("audit", help="print the audit log: reads, exports, changes, invites, alert actions")
    parser.add_argument("--since", help="from this date or time, e.g. 2026-11-01")
    return parser


def run(settings: Settings, args: argparse.Namespace) -> None:
    from storage import audit, staff

    try:
        since = datetime.fromisoformat(args.since) if args.since else None
    except ValueError:
        fail(f"--since {args.since!r}: write a date such as 2026-11-01 (or 2026-11-01T08:00+01:00)")
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)

    async def work(database: Database) -> list[str]:
        async with database.session() as session:
            events = await audit.since(session=session, start=since)
            people = {e.actor_id for e in events if e.actor_id is not None}
            names = await staff.names(session=session, telegram_user_ids=sorted(people))
        lines = []
        for e in events:
            who = "command line" if e.actor_id is None else f"{e.actor_id} {names.get(e.actor_id, '')}".strip()
            if e.action == "erasure":
                who = "patient"
            lines.append(
                f"{e.at.isoformat(timespec='seconds')}\t{who}\t{e.action}\t{e.patient_code or '-'}\t{e.detail}"
            )
        return lines

    lines = on_database(settings, work)
    print("\n".join(["when\twho\taction\tpatient\tdetail", *lines]))
