"""A loopback stand-in for the Telegram Bot API, for the demo, the tests and the benchmarks."""

from bot.sandbox.driver import Press, SimulatedUser
from bot.sandbox.server import BotApiStandIn, ChatMessage, Event, free_port

__all__ = ["BotApiStandIn", "ChatMessage", "Event", "Press", "SimulatedUser", "free_port"]
