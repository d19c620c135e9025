"""Reading an update Telegram sent, when this version of python-telegram-bot cannot read all of it.

Telegram's Bot API moves on: a field python-telegram-bot requires may stop being sent, or change its
shape, before the bot is upgraded (a poll option without `persistent_id`). Such an update raises as
python-telegram-bot reads it. A message is then read without the fields that do not read (the poll),
so that its words, its sender and its chat still are: the patient is answered, the staff chat gets
Telegram's own copy of it; a button press likewise, without the message it was pressed on. What cannot
be read even so (a message's chat, say) is left unread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import Update

JSONDict = dict[str, Any]

# What python-telegram-bot raises for an update that does not read as its version of the Bot API has it
# (a required field missing, a type changed, a date no clock holds).
UNREADABLE = (TypeError, KeyError, ValueError, AttributeError, OverflowError, OSError, RecursionError)
# The updates read in part, and for each the fields without which it is none.
_MESSAGE = ("message_id", "date", "chat")
ESSENTIAL = {
    **dict.fromkeys(
        (
            "message",
            "edited_message",
            "channel_post",
            "edited_channel_post",
            "business_message",
            "edited_business_message",
        ),
        _MESSAGE,
    ),
    "callback_query": ("id", "from", "chat_instance"),  # a press, read without the message pressed on if need be
}


@dataclass(frozen=True)
class Reading:
    update: Update | None  # None: nothing of it reads
    left_out: tuple[str, ...] = ()  # the fields of its message it was read without


def read(payload: JSONDict, bot: Any) -> Reading:
    """The update as Telegram sent it; or, where that does not read, its message (or button press) without the
    fields that do not read (each other field kept if it reads with it)."""
    try:
        return Reading(Update.de_json(payload, bot))
    except UNREADABLE:
        pass
    kinds = [key for key in payload if key in ESSENTIAL and isinstance(payload[key], dict)]
    if len(kinds) != 1:
        return Reading(None)
    kind, body = kinds[0], payload[kinds[0]]

    def reads(fields: JSONDict) -> Update | None:
        try:
            return Update.de_json({"update_id": payload["update_id"], kind: fields}, bot)
        except UNREADABLE:
            return None

    kept = {key: body[key] for key in ESSENTIAL[kind] if key in body}
    update = reads(kept)
    if update is None:
        return Reading(None)
    left_out = []
    for key, value in body.items():
        if key in kept:
            continue
        with_it = reads(kept | {key: value})
        if with_it is None:
            left_out.append(key)
        else:
            kept[key], update = value, with_it
    return Reading(update, tuple(left_out))


def sender(payload: JSONDict) -> int | None:
    """The Telegram user an update came from, read from the update as sent (whatever of it does not read)."""
    for value in payload.values():
        if isinstance(value, dict):
            who = value.get("from") or value.get("user")
            if isinstance(who, dict) and type(who.get("id")) is int:
                return int(who["id"])
    return None
