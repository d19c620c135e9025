"""The driver: a simulated person who types, sends photos and voice notes, edits what they wrote and
presses buttons, as a test or the demo tells them to."""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
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
    def sent_messages(self) -> list[ChatMessage]:
        """What this user sent, in their own chat and in groups, oldest first (within each chat)."""
        return [
            m
            for chat in list(self.server.messages.values())
            for m in chat.values()
            if not m.from_bot and m.from_user is not None and m.from_user["id"] == self.id and not m.deleted
        ]

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

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting in {self.first_name}'s chat")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.server.wait_chat(self.id), min(remaining, 0.5))

    # ----------------------------------------------------------------------------- acting

    async def send(
        self,
        text: str,
        *,
        wait: bool = True,
        timeout: float = 30.0,
        chat_id: int | None = None,
        reply_to: ChatMessage | None = None,
        date: float | datetime | None = None,
    ) -> ChatMessage | None:
        """Type a message (in a group when chat_id is given; as a reply to a message when reply_to is);
        with wait, return the bot's first message or edit in reply."""
        reply = self.server.wait_chat(self.id if chat_id is None else chat_id)
        self.server.user_message(self.json, text, chat_id, date=date, reply_to=reply_to)
        if not wait:
            reply.cancel()
            return None
        return await self._reply(reply, timeout, repr(text[:20]))

    def say(
        self,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to: ChatMessage | None = None,
        date: float | datetime | None = None,
    ) -> ChatMessage:
        """Type a message and return it as stored (to edit or reply to it later); does not wait for the bot."""
        return self.server.user_message(self.json, text, chat_id, date=date, reply_to=reply_to)

    async def edit(
        self, message: ChatMessage, text: str, *, wait: bool = True, timeout: float = 30.0
    ) -> ChatMessage | None:
        """Change the text of a message this user sent; Telegram sends the bot an edited_message. With wait,
        return the bot's first message or edit in reply."""
        reply = self.server.wait_chat(message.chat_id)
        self.server.edit_user_message(message, text=text)
        if not wait:
            reply.cancel()
            return None
        return await self._reply(reply, timeout, f"edit to {text[:20]!r}")

    def delete(self, message: ChatMessage) -> None:
        """Delete a message in a chat (a group admin may delete the bot's too). Telegram tells the bot
        nothing; editing the message answers 400 from then on."""
        self.server.user_deletes(self.json, message)

    async def edit_caption(
        self, message: ChatMessage, caption: str, *, wait: bool = True, timeout: float = 30.0
    ) -> ChatMessage | None:
        """Change the caption of a photo, voice note... this user sent, as `edit` does for text."""
        reply = self.server.wait_chat(message.chat_id)
        self.server.edit_user_message(message, caption=caption)
        if not wait:
            reply.cancel()
            return None
        return await self._reply(reply, timeout, f"caption {caption[:20]!r}")

    async def replace_media(self, message: ChatMessage, kind: str, *, timeout: float = 30.0) -> ChatMessage | None:
        """Replace the photo (video, document...) of a message this user sent with a new one of `kind`, its
        caption kept, as Telegram lets a user do in an edit; return the bot's first message or edit in reply."""
        reply = self.server.wait_chat(message.chat_id)
        self.server.edit_user_message(message, media=self.server.new_file(kind, 150_000))
        return await self._reply(reply, timeout, f"{kind} in place of a {message.kind}")

    def expect_reply(self, *, chat_id: int | None = None, timeout: float = 30.0) -> Awaitable[ChatMessage]:
        """Call before acting (sending a photo, say), await after: the bot's next message or edit in the chat."""
        reply = self.server.wait_chat(self.id if chat_id is None else chat_id)  # listening from now on
        return self._reply(reply, timeout, "message")

    # Media. Each stores the user's message, pushes the update Telegram would send, and returns the message;
    # none waits for the bot (use expect_reply, or wait_for).

    def send_photo(
        self, caption: str | None = None, *, chat_id: int | None = None, reply_to: ChatMessage | None = None
    ) -> ChatMessage:
        media = self.server.new_file("photo", 180_000, width=1280, height=960)
        return self._send_media("photo", media, caption, chat_id, reply_to)

    def send_voice(
        self,
        duration: int = 3,
        caption: str | None = None,
        *,
        chat_id: int | None = None,
        reply_to: ChatMessage | None = None,
    ) -> ChatMessage:
        media = self.server.new_file("voice", 4_000 * duration, duration=duration)
        return self._send_media("voice", media, caption, chat_id, reply_to)

    def send_video_note(
        self, duration: int = 5, *, chat_id: int | None = None, reply_to: ChatMessage | None = None
    ) -> ChatMessage:
        media = self.server.new_file("video_note", 60_000 * duration, duration=duration)
        return self._send_media("video_note", media, None, chat_id, reply_to)

    def send_video(
        self, caption: str | None = None, *, chat_id: int | None = None, reply_to: ChatMessage | None = None
    ) -> ChatMessage:
        media = self.server.new_file("video", 900_000, file_name=f"VID_{self.id}.mp4")
        return self._send_media("video", media, caption, chat_id, reply_to)

    def send_audio(
        self, caption: str | None = None, *, chat_id: int | None = None, reply_to: ChatMessage | None = None
    ) -> ChatMessage:
        media = self.server.new_file("audio", 1_900_000)
        return self._send_media("audio", media, caption, chat_id, reply_to)

    def send_document(
        self,
        name: str = "scan.pdf",
        data: bytes = b"%PDF-1.4 stand-in scan",
        caption: str | None = None,
        *,
        chat_id: int | None = None,
        reply_to: ChatMessage | None = None,
    ) -> ChatMessage:
        mime_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        media = self.server.new_file("document", len(data), file_name=name, mime_type=mime_type)
        return self._send_media("document", media, caption, chat_id, reply_to, document=data)

    def send_sticker(
        self, emoji: str = "👍", *, chat_id: int | None = None, reply_to: ChatMessage | None = None
    ) -> ChatMessage:
        media = self.server.new_file("sticker", 24_000, emoji=emoji, set_name="StandInStickers")
        return self._send_media("sticker", media, None, chat_id, reply_to)

    def send_location(
        self, latitude: float, longitude: float, *, chat_id: int | None = None, reply_to: ChatMessage | None = None
    ) -> ChatMessage:
        media = {"location": {"latitude": latitude, "longitude": longitude}}
        return self._send_media("location", media, None, chat_id, reply_to)

    def send_contact(
        self,
        phone_number: str,
        first_name: str,
        *,
        user_id: int | None = None,
        chat_id: int | None = None,
        reply_to: ChatMessage | None = None,
    ) -> ChatMessage:
        """Share a contact; user_id as Telegram adds it when the contact is a Telegram user (e.g. oneself)."""
        contact: dict[str, Any] = {"phone_number": phone_number, "first_name": first_name}
        if user_id is not None:
            contact["user_id"] = user_id
        return self._send_media("contact", {"contact": contact}, None, chat_id, reply_to)

    def block_bot(self) -> None:
        """Block the bot: it gets a my_chat_member update (status "kicked"), and sending to this user answers 403."""
        self.server.user_blocks_bot(self.json)

    def unblock_bot(self) -> None:
        self.server.user_unblocks_bot(self.json)

    async def press(
        self,
        label: str | None = None,
        *,
        data: str | None = None,
        message: ChatMessage | None = None,
        wait: bool = True,
        timeout: float = 30.0,
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

    # ----------------------------------------------------------------------------- helpers

    def _send_media(
        self,
        kind: str,
        media: dict[str, Any],
        caption: str | None,
        chat_id: int | None,
        reply_to: ChatMessage | None,
        document: bytes | None = None,
    ) -> ChatMessage:
        return self.server.user_media(
            self.json, kind, media, caption=caption, chat_id=chat_id, reply_to=reply_to, document=document
        )

    async def _reply(self, reply: asyncio.Future[ChatMessage], timeout: float, what: str) -> ChatMessage:
        try:
            return await asyncio.wait_for(reply, timeout)
        except TimeoutError:
            raise AssertionError(f"the bot did not reply to {self.first_name}'s {what}") from None
