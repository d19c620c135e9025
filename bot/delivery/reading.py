"""Reading an update Telegram sent, when this version of python-telegram-bot cannot read all of it.

Telegram's Bot API moves on: a field python-telegram-bot requires may stop being sent, or change its
shape, before the bot is upgraded (a poll option without `persistent_id`). Such an update raises as
python-telegram-bot reads it. A message is then read without the fields that do not read (the poll),
so that its words, its sender and its chat still are: the patient is answered, the staff chat gets
Telegram's own copy of it; a button press likewise. What decides where it goes (who sent it, what it
replies to, its command) must read, or nothing of it is read: it is skipped, and the admins told.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, Message, TelegramObject, Update

JSONDict = dict[str, Any]

# What python-telegram-bot raises for an update that does not read as its version of the Bot API has it
# (a required field missing, a type changed, a date no clock holds).
UNREADABLE = (TypeError, KeyError, ValueError, AttributeError, OverflowError, OSError, RecursionError)
# What must read as sent, or nothing of the update is read: what says who sent it, where it goes and what it
# answers (a staff reply read without the message it replies to would go to the wrong patient, a command read
# without its entities would be passed on as words). The message a reply answers, or a press was made on, is
# read in part itself: its chat and number are what routing needs of it.
_MESSAGE_WHOLE = (
    "message_id",
    "date",
    "chat",
    "from",
    "sender_chat",
    "message_thread_id",
    "entities",
    "caption_entities",
    "forward_origin",
    "external_reply",
    "quote",
)
_MESSAGE_KINDS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
)
_PARTS: dict[str, tuple[type[TelegramObject], tuple[str, ...], str | None]] = {
    **dict.fromkeys(_MESSAGE_KINDS, (Message, _MESSAGE_WHOLE, "reply_to_message")),
    "callback_query": (CallbackQuery, ("id", "from", "chat_instance", "data", "inline_message_id"), "message"),
}


@dataclass(frozen=True)
class Reading:
    update: Update | None  # None: nothing of it reads
    left_out: tuple[str, ...] = ()  # the fields of its message it was read without ("reply_to_message.poll")


def read(payload: JSONDict, bot: Any) -> Reading:
    """The update as Telegram sent it; or, where that does not read, its message (or button press) without the
    fields that do not read, each other field kept if it reads with it."""
    try:
        return Reading(Update.de_json(payload, bot))
    except UNREADABLE:
        pass
    kinds = [key for key in payload if key in _PARTS and isinstance(payload[key], dict)]
    if len(kinds) != 1:
        return Reading(None)
    kind = kinds[0]
    cls, whole, nested = _PARTS[kind]
    part = _in_part(payload[kind], cls, whole, nested, bot)
    if part is None:
        return Reading(None)
    try:
        return Reading(Update.de_json({"update_id": payload["update_id"], kind: part[0]}, bot), part[1])
    except UNREADABLE:
        return Reading(None)


def _in_part(
    fields: JSONDict, cls: type[TelegramObject], whole: tuple[str, ...], nested: str | None, bot: Any
) -> tuple[JSONDict, tuple[str, ...]] | None:
    """`fields` without those that do not read as `cls`; None when one of `whole`, or the `nested` message
    (read in part itself), does not."""

    def reads(candidate: JSONDict) -> bool:
        try:
            cls.de_json(candidate, bot)
        except UNREADABLE:
            return False
        return True

    kept = {key: fields[key] for key in whole if key in fields}
    left_out: list[str] = []
    if nested is not None and isinstance(fields.get(nested), dict):
        part = _in_part(fields[nested], Message, _MESSAGE_WHOLE, None, bot)
        if part is None:
            return None
        kept[nested] = part[0]
        left_out += [f"{nested}.{key}" for key in part[1]]
    if not reads(kept):
        return None
    for key, value in fields.items():
        if key in kept:
            continue
        if reads(kept | {key: value}):
            kept[key] = value
        else:
            left_out.append(key)
    return kept, tuple(left_out)


def sender(payload: JSONDict) -> int | None:
    """The Telegram user an update came from, read from the update as sent (whatever of it does not read)."""
    for value in payload.values():
        if isinstance(value, dict):
            who = value.get("from") or value.get("user")
            if isinstance(who, dict) and type(who.get("id")) is int:
                return int(who["id"])
    return None
