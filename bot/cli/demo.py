"""`python -m bot demo`: the real bot against the loopback Bot API stand-in, no token needed."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.cli.common import Commands


def add_parser(commands: Commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("demo", help="run the real bot against the loopback stand-in, no token needed")
    parser.add_argument(
        "--keep", action="store_true", help="keep the bot, the stand-in and the web console running until Ctrl-C"
    )
    return parser


def run(args: argparse.Namespace) -> None:
    """Without the clinic's settings: the demo makes its own, so a broken .env does not stop it."""
    import asyncio
    import logging

    from bot.demo import run_demo

    logging.getLogger().setLevel(logging.WARNING)
    asyncio.run(run_demo(keep=args.keep))
