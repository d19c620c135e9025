"""A loopback stand-in for the Telegram Bot API, for the demo, the tests and the benchmarks."""

from bot.sandbox.driver import SimulatedUser
from bot.sandbox.server import BotApiStandIn, ChatMessage

__all__ = ["BotApiStandIn", "ChatMessage", "SimulatedUser"]
