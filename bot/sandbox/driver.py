"""The driver: a simulated person who types and presses buttons, as a test or the demo tells them to."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.sandbox.server import BotApiStandIn, ChatMessage


@dataclass(frozen=True)
class Press:
    """What came of pressing a button: the toast text (if any) and how long the bot took."""

    answer: str | None
    seconds_to_edit: float | None
    seconds_to_answer: float


class SimulatedUser:
    def __init__(self, server: BotApiStandIn, user_id: int, first_name: str, language_code: str = "en") -> None:
        self.server = server
        self.id = user_id
        self.first_name = first_name
        self.json: dict[str, Any] = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }
        server.users[user_id] = self

    @property
    def chat_id(self) -> int:
        return self.id

    # ----------------------------------------------------------------------------- reading the chat

    @property
    def messages(self) -> list[ChatMessage]:
        """The bot's messages in this chat, oldest first."""
        return [m for m in self.server.chat(self.id) if m.from_bot]

    @property
    def last(self) -> ChatMessage:
        if not self.messages:
            raise AssertionError(f"{self.first_name} has no message from the bot")
        return self.messages[-1]

    def last_with_buttons(self) -> ChatMessage:
        for message in reversed(self.messages):
            if message.buttons:
                return message
        raise AssertionError(f"{self.first_name} has no message with buttons")

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting in {self.first_name}'s chat")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.server.wait_chat(self.id), min(remaining, 0.5))

    # ----------------------------------------------------------------------------- acting

    async def send(
        self, text: str, *, wait: bool = True, timeout: float = 10.0, chat_id: int | None = None
    ) -> ChatMessage | None:
        """Type a message (in a group when chat_id is given); with wait, return the bot's first message
        or edit in reply."""
        reply = self.server.wait_chat(self.id if chat_id is None else chat_id)
        self.server.user_message(self.json, text, chat_id)
        if not wait:
            reply.cancel()
            return None
        try:
            return await asyncio.wait_for(reply, timeout)
        except TimeoutError:
            raise AssertionError(f"the bot did not reply to {self.first_name}'s {text[:20]!r}") from None

    async def press(
        self,
        label: str | None = None,
        *,
        data: str | None = None,
        message: ChatMessage | None = None,
        wait: bool = True,
        timeout: float = 10.0,
    ) -> Press:
        """Press the button with this label (or send this raw callback data) on a message.

        Waits until the bot answers the callback query, as a Telegram client shows a spinner until then.
        """
        message = message or self.last_with_buttons()
        if data is None:
            matches = [d for text, d in message.buttons if text == label]
            if not matches:
                raise AssertionError(f"no button {label!r} on message: {[t for t, _ in message.buttons]}")
            data = matches[0]
        started = time.monotonic()
        edited = self.server.wait_chat(message.chat_id)
        edited_at: list[float] = []
        edited.add_done_callback(lambda _: edited_at.append(time.monotonic()))
        query_id = self.server.callback_query(self.json, message, data, label or data)
        if not wait:
            edited.cancel()
            return Press(None, None, 0.0)
        answered = self.server.wait_answer(query_id)
        try:
            answer = await asyncio.wait_for(answered, timeout)
        except TimeoutError:
            raise AssertionError(f"the bot did not answer {self.first_name}'s press {label or data!r}") from None
        finished = time.monotonic()
        edited.cancel()  # no-op when the bot already edited
        seconds_to_edit = edited_at[0] - started if edited_at and not edited.cancelled() else None
        return Press(answer.get("text"), seconds_to_edit, finished - started)
