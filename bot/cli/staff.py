"""`python -m bot staff`: the same as an admin's /staff: list, add someone as staff or admin, remove them."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import fail, on_database, utc_now

if TYPE_CHECKING:
    from bot.cli.common import Commands
    from bot.config import Settings
    from storage.database import Database


def add_parser(commands: Commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("staff", help="list, add or remove staff and admins")
    parser.add_argument("action", choices=["list", "add", "remove"])
    parser.add_argument("telegram_id", type=int, nargs="?", help="their numeric Telegram user id")
    parser.add_argument("role", choices=["staff", "admin"], nargs="?")
    return parser


def run(settings: Settings, args: argparse.Namespace) -> None:
    from bot import team
    from bot.access import Role

    def still_admin(user_id: int) -> str:
        if user_id not in settings.admin_telegram_ids:
            return ""
        seeded = "which makes them admin again at the next start: take them out of it too"
        return f"\n{user_id} is also in ADMIN_TELEGRAM_IDS, {seeded}"

    async def work(database: Database) -> str:
        if args.action == "list":
            members = await team.members(database)
            return "\n".join(f"{m.telegram_user_id}\t{m.role}\t{m.name}" for m in members) or "no staff yet"
        if args.telegram_id is None:
            fail(f"staff {args.action} needs a Telegram user id")
        try:
            if args.action == "add":
                if args.role is None:
                    fail("staff add needs a role: staff or admin")
                await team.add(
                    database, telegram_user_id=args.telegram_id, role=Role(args.role), actor_id=None, now=utc_now()
                )
                return f"{args.telegram_id} is {args.role}" + (
                    still_admin(args.telegram_id) if args.role == "staff" else ""
                )
            if removed := await team.remove(database, telegram_user_id=args.telegram_id, actor_id=None, now=utc_now()):
                withdrawn = ", ".join(removed.withdrawn)
                links = f"\nthe links they asked for were withdrawn: make new ones for {withdrawn}" if withdrawn else ""
                return f"{args.telegram_id} is no longer staff" + still_admin(args.telegram_id) + links
            return f"{args.telegram_id} is not staff"
        except team.LastAdmin:
            fail("the last admin cannot be removed or demoted")
        except ValueError as error:
            fail(str(error))

    print(on_database(settings, work))
