"""`python -m bot doctor`: is this installation ready? One line per check, each failure with its fix."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.cli.common import Commands
    from bot.config import Settings


def add_parser(commands: Commands) -> argparse.ArgumentParser:
    return commands.add_parser(
        "doctor", help="check the set-up: token, database, staff chat, admins, texts, webhook, clock"
    )


def run(settings: Settings, args: argparse.Namespace) -> None:
    from bot.doctor import main

    raise SystemExit(main(settings))
