"""The Bot API stand-in: an aiohttp server that speaks enough of Telegram's HTTP API for the bot.

It keeps chats, messages and pending updates in memory, answers in Telegram's own shapes (including
its errors: 400 "message is not modified", 400 for text over Telegram's limits, 403 blocked or not a
member, 429 with retry_after), can enforce Telegram's flood limits, and records every call so that
tests can assert what was sent. Users' messages (text, media, locations, contacts), their edits and
membership changes reach the bot as the updates Telegram would send.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import mimetypes
import random
import re
import socket
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import BodyPartReader, web

if TYPE_CHECKING:
    from bot.sandbox.driver import SimulatedUser

JSON = dict[str, Any]


def free_port() -> int:
    """A loopback port nothing listens on now, for a server started beside the stand-in. Chosen below the range
    the system hands out for outgoing connections and for port 0 (32768 and up on Linux): a port from that range
    is free when probed, but a connection made before the server starts may take it ("address already in use"
    when many tests run at once)."""
    low = 32768
    with contextlib.suppress(OSError, ValueError):
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for port in random.sample(range(10_000, max(10_001, low)), 50):
        with socket.socket() as probe, contextlib.suppress(OSError):
            probe.bind(("127.0.0.1", port))
            return port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ApiError(Exception):
    def __init__(
        self, code: int, description: str, retry_after: int | None = None, *, migrate_to_chat_id: int | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id


NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)

# Telegram's limits. Text is measured in UTF-16 code units after entity parsing; callback data in bytes.
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
ANSWER_TEXT_LIMIT = 200
BOT_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(@[A-Za-z0-9_]{1,32})?")  # what Telegram marks as a command

# Kinds of message that carry a caption, and those editMessageMedia may replace.
CAPTIONED = frozenset({"photo", "video", "audio", "document", "voice", "animation"})
MEDIA_EDITABLE = frozenset({"photo", "video", "audio", "document", "animation"})
# Service messages a user's action makes that hold their words; Telegram copies no service message.
SERVICE_KINDS = frozenset({"poll_option_added", "checklist_tasks_added", "forum_topic_created", "forum_topic_edited"})

# What Telegram attaches to a new file of each kind besides file_id, file_unique_id and file_size.
FILE_SHAPES: dict[str, JSON] = {
    "voice": {"duration": 3, "mime_type": "audio/ogg"},
    "video_note": {"length": 240, "duration": 5},
    "video": {"width": 1280, "height": 720, "duration": 4, "file_name": "video.mp4", "mime_type": "video/mp4"},
    "animation": {"width": 320, "height": 240, "duration": 2, "file_name": "animation.mp4", "mime_type": "video/mp4"},
    "audio": {"duration": 120, "title": "Recording", "file_name": "audio.mp3", "mime_type": "audio/mpeg"},
    "document": {"file_name": "document", "mime_type": "application/octet-stream"},
    "sticker": {"type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False, "emoji": "👍"},
}
HAS_THUMBNAIL = frozenset({"video_note", "video", "animation", "sticker"})

# getChat answers with a ChatFullInfo, which has a few fields every chat carries.
FULL_INFO: JSON = {
    "accent_color_id": 0,
    "max_reaction_count": 11,
    "accepted_gift_types": {
        "unlimited_gifts": False,
        "limited_gifts": False,
        "unique_gifts": False,
        "premium_subscription": False,
        "gifts_from_channels": False,
    },
}

# The account Telegram shows as the author of what an anonymous group admin sends (the group is its sender_chat).
ANONYMOUS_ADMIN: JSON = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}

# How Telegram names a kind of message in its refusal of one a group's permissions leave out ("not enough rights to
# send photos to the chat").
RIGHTS_WORDS = {
    "photo": "photos",
    "video": "videos",
    "document": "documents",
    "voice": "voice notes",
    "video_note": "video notes",
    "audio": "music",
    "sticker": "stickers",
    "animation": "animations",
    "poll": "polls",
}

# A member a group's admins restricted from writing, as getChatMember reports it.
RESTRICTED_RIGHTS: JSON = {
    "is_member": True,
    "until_date": 0,
    **{
        f"can_{right}": False
        for right in (
            "change_info",
            "invite_users",
            "pin_messages",
            "send_messages",
            "send_polls",
            "send_other_messages",
            "add_web_page_previews",
            "manage_topics",
            "send_audios",
            "send_documents",
            "send_photos",
            "send_videos",
            "send_video_notes",
            "send_voice_notes",
            "edit_tag",
            "react_to_messages",
        )
    },
}

# The rights of an administrator as getChatMember reports them (a bot made admin with the defaults).
ADMIN_RIGHTS: JSON = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
}

MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "restricted", "left", "kicked"})


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units, so an emoji beyond the BMP counts 2."""
    return len(text.encode("utf-16-le")) // 2


def epoch(value: float | datetime) -> int:
    """Unix seconds, as every date in the Bot API."""
    return int(value.timestamp() if isinstance(value, datetime) else value)


# ----------------------------------------------------------------------------- parse_mode "HTML"

HTML_ENTITIES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>")
_TAG_NAME = re.compile(r"/?[^\s>]*")
_CHAR_REF = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]+)|#x([0-9a-fA-F]+));")
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HREF = re.compile(r"""href\s*=\s*["']([^"']*)["']""")


def _cant_parse(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {reason}")


def parse_html(markup: str) -> tuple[str, list[JSON]]:
    """The text and entities Telegram makes of a message sent with parse_mode "HTML".

    Supported tags become entities and character references are unescaped; what Telegram refuses (an
    unknown tag, an unescaped "<", a tag left open) is refused with its "can't parse entities".
    """
    out: list[str] = []
    units = 0  # UTF-16 length of the text so far: entity offsets count in these
    open_tags: list[tuple[str, int, JSON | None]] = []  # name, offset, the entity's extra fields
    entities: list[JSON] = []
    position = 0
    while position < len(markup):
        char = markup[position]
        if char == "<":
            at = len(markup[:position].encode())  # Telegram reports byte offsets of the UTF-8 text
            tag = _TAG.match(markup, position)
            if tag is None or tag.group(2).lower() not in HTML_ENTITIES:
                unsupported = _TAG_NAME.match(markup, position + 1)
                shown = unsupported.group(0) if unsupported else ""
                raise _cant_parse(f'Unsupported start tag "{shown}" at byte offset {at}')
            closing, tag_name = tag.group(1) == "/", tag.group(2).lower()
            position = tag.end()
            if not closing:
                extra: JSON | None = {}
                if tag_name == "a":
                    href = _HREF.search(tag.group(3))
                    extra = {"url": href.group(1)} if href else None  # a link without an address is plain text
                open_tags.append((tag_name, units, extra))
                continue
            if not open_tags:
                raise _cant_parse(f"Unexpected end tag at byte offset {at}")
            opened, offset, extra = open_tags.pop()
            if opened != tag_name:
                raise _cant_parse(
                    f'Unmatched end tag at byte offset {at}, expected "</{opened}>", found "</{tag_name}>"'
                )
            inside_pre = tag_name == "code" and bool(open_tags) and open_tags[-1][0] == "pre"  # one "pre" entity
            if units > offset and extra is not None and not inside_pre:
                entity = {"type": HTML_ENTITIES[tag_name], "offset": offset, "length": units - offset}
                entities.append({**entity, **extra})
            continue
        reference = _CHAR_REF.match(markup, position) if char == "&" else None
        if reference is not None:
            named, decimal, hexadecimal = reference.groups()
            char = _NAMED_REFS[named] if named else chr(int(decimal) if decimal else int(hexadecimal, 16))
            position = reference.end()
        else:
            position += 1
        out.append(char)
        units += utf16_len(char)
    if open_tags:
        raise _cant_parse(f'Can\'t find end tag corresponding to start tag "{open_tags[-1][0]}"')
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return "".join(out), entities


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's header (the bot's charts are PNGs), else None."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@dataclass
class ChatMessage:
    """A message in a chat as the stand-in keeps it (the bot's and the users')."""

    message_id: int
    chat_id: int
    from_bot: bool
    date: int
    text: str | None = None
    caption: str | None = None
    reply_markup: JSON | None = None  # as the bot gave it: inline keyboard, reply keyboard or force_reply
    photo: bytes | None = None  # a photo the bot uploaded (charts, alert cards)
    document: bytes | None = None  # a document the bot uploaded or a user sent
    document_name: str | None = None
    saved_to: Path | None = None
    edits: int = 0
    deleted: bool = False
    kind: str = "text"  # text, photo, voice, video_note, video, audio, document, sticker, location, contact...
    media: JSON = field(default_factory=dict)  # what Telegram attaches for the kind, e.g. {"voice": {...}}
    entities: list[JSON] | None = None  # of the text, or of the caption
    from_user: JSON | None = None  # the author of a user's message
    reply_to: int | None = None  # the message_id, in the same chat, that this message replies to
    edit_date: int | None = None
    forward_origin: JSON | None = None  # of a forwarded message
    quote: JSON | None = None  # the part of the message it replies to that the user quoted (a TextQuote)
    external_reply: JSON | None = None  # a reply to a message in another chat: whose it was (an ExternalReplyInfo)
    thread: int | None = None  # the forum topic it is in (its first message's id); None: General, or no forum
    sender_chat: JSON | None = None  # the chat it was sent on behalf of (an anonymous admin's: the group itself)
    copied_from: tuple[int, int] | None = None  # (chat_id, message_id) of the original of a copy or forward
    upload: bytes | None = None  # the bytes of any file the bot uploaded for this message

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data) of every inline button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]

    @property
    def file_id(self) -> str | None:
        """The id of the message's file (of a photo, its largest size), to send the same file again."""
        value = self.media.get(self.kind)
        if isinstance(value, list) and value:
            return str(value[-1]["file_id"])
        if isinstance(value, dict) and "file_id" in value:
            return str(value["file_id"])
        return None


def describe(message: ChatMessage) -> str:
    """One line for the transcript: the text, or the kind of message with its caption."""
    if message.kind == "text":
        return message.text or ""
    value = message.media.get(message.kind)
    detail = ""
    if isinstance(value, dict):
        if message.kind == "location":
            detail = f" {value['latitude']}, {value['longitude']}"
        elif message.kind == "contact":
            detail = f" {value['first_name']} {value['phone_number']}"
        elif "emoji" in value:
            detail = f" {value['emoji']}"
        elif "file_name" in value:
            detail = f" {value['file_name']}"
        elif "duration" in value:
            detail = f" {value['duration']}s"
    return f"[{message.kind}{detail}] {message.caption or ''}".strip()


@dataclass
class Call:
    method: str
    params: JSON
    at: float


@dataclass
class Event:
    """One line of the transcript: who did what in which chat."""

    actor: str  # "user" or "bot"
    chat_id: int
    # user: text, press, edit, a media kind (photo, voice, location...), add (the bot to a group), delete,
    # block, unblock
    # bot: send, edit, toast, delete, copy, forward, leave, a media kind (photo, document, voice...)
    kind: str
    text: str
    buttons: list[str] = field(default_factory=list)


class TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, time.monotonic()

    def take(self) -> float:
        """0 if a token was taken, else the seconds until one is free."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class BotApiStandIn:
    def __init__(
        self,
        *,
        token: str = "123456:sandbox",
        bot_username: str = "crps_diary_bot",
        flood_limits: bool = False,
        files_dir: Path | None = None,
        clock: Callable[[], float | datetime] | None = None,
    ) -> None:
        self.token = token
        self.bot = {
            "id": int(token.split(":")[0]) if token.split(":")[0].isdigit() else 1,
            "is_bot": True,
            "first_name": "CRPS Diary",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.flood_limits = flood_limits
        self.files_dir = files_dir
        # Every date and edit_date the stand-in writes comes from here (epoch seconds or an aware datetime),
        # so that a test with a fake clock gets updates dated as the bot's own clock would date them.
        self.clock: Callable[[], float | datetime] = clock or time.time
        self.calls: list[Call] = []
        self.transcript: list[Event] = []
        self.messages: dict[int, dict[int, ChatMessage]] = defaultdict(dict)
        self.callback_answers: dict[str, JSON] = {}
        self.commands: dict[str, list[JSON]] = {}
        self.blocked: set[int] = set()
        self.users: dict[int, SimulatedUser] = {}
        self.groups: dict[int, JSON] = {}  # group chats made known by add_group or add_bot_to_group
        self.members: dict[int, set[int]] = defaultdict(set)  # the users in each group
        self.bot_status: dict[int, str] = {}  # the bot's status in a group; "member" where not set
        self.left_chats: list[int] = []  # the groups the bot left (leaveChat), in order
        self.migrated: dict[int, int] = {}  # a group turned supergroup -> the supergroup's id
        # What the bot may not post in a group though it may write there (the group's permissions for members
        # leave out photos, voice messages...): Telegram refuses such a send or copy, and takes text.
        self.forbidden_kinds: dict[int, set[str]] = {}
        self.files: dict[str, JSON] = {}  # file_id -> what a message with that file carries
        self.too_many_requests = 0
        self._updates: list[JSON] = []
        self._history: dict[int, JSON] = {}
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._query_ids = itertools.count(1)
        self._file_numbers = itertools.count(1)
        self._query_chats: dict[str, int] = {}
        self._new_update = asyncio.Event()
        # Errors owed to the next calls of a method: to any chat (None) or to one.
        self._failures: dict[str, list[tuple[int | None, ApiError]]] = defaultdict(list)
        # Chats every call to which fails (Telegram's trouble with one chat, while others work).
        self.failing_chats: dict[int, ApiError] = {}
        # Something the world does while the next call to a chat is on its way (see `meanwhile`).
        self._meanwhile: dict[int, Callable[[], Awaitable[None]]] = {}
        self._answer_waiters: dict[str, asyncio.Future[JSON]] = {}
        self._chat_waiters: dict[int, list[asyncio.Future[ChatMessage]]] = defaultdict(list)
        self._global_bucket = TokenBucket(30, 30)
        self._chat_buckets: dict[int, TokenBucket] = {}
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.url = ""
        # Set by setWebhook: updates are then POSTed there (with the secret header) instead of queued.
        self.webhook: JSON | None = None
        self.webhook_deliveries: list[int] = []  # HTTP status of each POST, in order
        # Webhook updates whose first POST "failed": Telegram tries them again later, after newer ones.
        self._hold_next = False
        self._held: list[JSON] = []
        self._pushing: set[asyncio.Task[None]] = set()
        self._methods: dict[str, Callable[[JSON], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "editMessageCaption": self._edit_message_caption,
            "editMessageMedia": self._edit_message_media,
            "answerCallbackQuery": self._answer_callback_query,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendVoice": self._send_voice,
            "sendVideo": self._send_video,
            "sendAudio": self._send_audio,
            "sendSticker": self._send_sticker,
            "sendLocation": self._send_location,
            "copyMessage": self._copy_message,
            "forwardMessage": self._forward_message,
            "deleteMessage": self._delete_message,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "leaveChat": self._leave_chat,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "close": self._true,
            "logOut": self._true,
        }

    # ----------------------------------------------------------------------------- server

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on loopback; returns the root URL to use as TELEGRAM_API_BASE_URL."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self.url = f"http://{host}:{bound_port}"
        return self.url

    async def stop(self) -> None:
        self._closing = True
        self._new_update.set()
        for task in list(self._pushing):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._error(ApiError(401, "Unauthorized"))
        handler = self._methods.get(method)
        if handler is None:
            return self._error(ApiError(404, "Not Found"))
        try:
            params = await self._params(request)
        except (ValueError, json.JSONDecodeError):
            return self._error(ApiError(400, "Bad Request: can't parse parameters"))
        self.calls.append(Call(method, {k: v for k, v in params.items() if not isinstance(v, bytes)}, time.monotonic()))
        chat = str(params.get("chat_id", ""))
        if (failure := self._failure(method, chat)) is not None:
            return self._error(failure)
        if chat.lstrip("-").isdigit() and (event := self._meanwhile.pop(int(chat), None)) is not None:
            await event()
        if chat.lstrip("-").isdigit() and int(chat) in self.failing_chats:
            return self._error(self.failing_chats[int(chat)])
        try:
            result = await handler(params)
        except ApiError as error:
            return self._error(error)
        except (KeyError, TypeError, ValueError) as error:
            return self._error(ApiError(400, f"Bad Request: {error}"))
        return web.json_response({"ok": True, "result": result}, headers=self._date())

    def _date(self) -> dict[str, str]:
        """Every answer is dated, as Telegram's are, by the stand-in's clock (a test may set it wrong)."""
        return {"Date": formatdate(self.now(), usegmt=True)}

    def _error(self, error: ApiError) -> web.Response:
        body: JSON = {"ok": False, "error_code": error.code, "description": error.description}
        if error.retry_after is not None:
            body["parameters"] = {"retry_after": error.retry_after}
        if error.migrate_to_chat_id is not None:
            body["parameters"] = {"migrate_to_chat_id": error.migrate_to_chat_id}
        return web.json_response(body, status=error.code, headers=self._date())

    @staticmethod
    async def _params(request: web.Request) -> JSON:
        params: JSON = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                data = await part.read()
                params[part.name] = bytes(data) if part.filename else data.decode()
                if part.filename:
                    params[f"{part.name}__filename"] = part.filename
        elif request.can_read_body:
            params.update(await request.post())
        return params

    # ----------------------------------------------------------------------------- test controls

    def fail_next(
        self,
        method: str,
        code: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` (to `chat_id` alone, when given) with this error instead
        of doing them. A test that means one chat's message names it: which of two chats' messages the bot
        sends first is not fixed."""
        self._failures[method].extend((chat_id, ApiError(code, description, retry_after)) for _ in range(times))

    def _failure(self, method: str, chat: str) -> ApiError | None:
        failures = self._failures.get(method, [])
        for index, (chat_id, error) in enumerate(failures):
            if chat_id is None or str(chat_id) == chat:
                del failures[index]
                return error
        return None

    def fail_chat(self, chat_id: int, code: int, description: str) -> None:
        """Every call to `chat_id` answers this error until `heal_chat`; other chats work."""
        self.failing_chats[chat_id] = ApiError(code, description, None)

    def heal_chat(self, chat_id: int) -> None:
        self.failing_chats.pop(chat_id, None)

    def meanwhile(self, chat_id: int, event: Callable[[], Awaitable[None]]) -> None:
        """`event` happens while the next call to `chat_id` is on its way, before it is answered: a race
        between what the bot sends and what changes meanwhile, made to happen every time."""
        self._meanwhile[chat_id] = event

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sending to them answers 403 from now on."""
        self.blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self.blocked.discard(user_id)

    def add_group(
        self,
        chat_id: int,
        title: str,
        members: Iterable[int] = (),
        *,
        chat_type: str = "group",
        bot_status: str = "member",
        forum: bool = False,
    ) -> JSON:
        """Make a group known (getChat answers for it), with these user ids in it and the bot as `bot_status`.
        A `forum` (a supergroup) has topics besides General (open_topic)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        self.groups[chat_id] = {"id": chat_id, "type": chat_type, "title": title}
        if forum:
            self.groups[chat_id].update(type="supergroup", is_forum=True)
        self.members[chat_id].update(members)
        self.set_bot_status(chat_id, bot_status)
        return self.groups[chat_id]

    def set_bot_status(self, chat_id: int, status: str, *, by: SimulatedUser | None = None) -> None:
        """The bot's status in a group: "member", "administrator", "restricted" (may not write), "left" or
        "kicked". With `by`, the bot hears of the change from that user by a my_chat_member update, as it
        does on Telegram."""
        if status not in ("member", "administrator", "restricted", "left", "kicked"):
            raise ValueError(f"not a status the bot can have: {status!r}")
        old = self._bot_status(chat_id)
        self.bot_status[chat_id] = status
        if by is not None:
            self._push_member_update(chat_id, by.json, self._member(self.bot, old), self._member(self.bot, status))

    def add_bot_to_group(
        self, chat_id: int, title: str, by: SimulatedUser, *, status: str = "member", chat_type: str = "group"
    ) -> None:
        """`by` adds the bot to a group. Telegram then sends my_chat_member (left -> member) and, in the
        group, the service message announcing the new member."""
        self.add_group(chat_id, title, [by.id], chat_type=chat_type, bot_status="left")
        self.set_bot_status(chat_id, status, by=by)
        self._user_post(by.json, chat_id, None, None, kind="new_chat_members", media={"new_chat_members": [self.bot]})
        self.transcript.append(Event("user", chat_id, "add", f"{by.first_name} adds the bot to {title}"))

    def open_topic(self, chat_id: int, name: str, by: SimulatedUser, *, implicit: bool = False) -> ChatMessage:
        """`by` opens a topic in a forum, or in their own chat with the bot (Bot API 9.3: a bot whose owner turned
        on threaded mode in @BotFather has topics in its private chats): its first message, the service message
        "topic created", whose id is the topic's (message_thread_id). Telegram gives every message typed in the
        topic, not as a reply to another, as a reply to this one. `implicit`: opened without a name (only in a chat
        with a bot), Telegram names it itself."""
        if chat_id != by.id and not self.groups.get(chat_id, {}).get("is_forum"):
            raise ValueError("topics are a forum's, or a private chat's with the bot")
        created: JSON = {"forum_topic_created": {"name": name, "icon_color": 7322096}}
        if implicit:  # `name` is not the user's: they opened the topic without naming it (in a chat with a bot)
            created["forum_topic_created"]["is_name_implicit"] = True
        message = self._user_post(by.json, chat_id, None, None, kind="forum_topic_created", media=created)
        message.thread = message.message_id
        return message

    def rename_topic(self, topic: ChatMessage, name: str, by: SimulatedUser) -> ChatMessage:
        """`by` renames a topic (`topic`: its first message, see open_topic): the service message "topic edited",
        in the topic."""
        edited = {"forum_topic_edited": {"name": name}}
        return self._user_post(
            by.json, topic.chat_id, None, topic, kind="forum_topic_edited", media=edited, thread=topic.thread
        )

    def migrate_to_supergroup(self, chat_id: int, supergroup_id: int, by: SimulatedUser) -> None:
        """`by` turns the group into a supergroup, which has a new id (as Telegram does when a group gets
        a public link or grows). The bot hears of it by a service message in each of the two chats; the
        old id answers 400 with `migrate_to_chat_id` from then on."""
        group = self.groups[chat_id]
        status = self._bot_status(chat_id)
        self.add_group(supergroup_id, str(group["title"]), self.members[chat_id], chat_type="supergroup")
        self.bot_status[supergroup_id] = status
        for where, field_name, other in (
            (chat_id, "migrate_to_chat_id", supergroup_id),
            (supergroup_id, "migrate_from_chat_id", chat_id),
        ):
            self._user_post(by.json, where, None, None, kind=field_name, media={field_name: other})
        self.migrated[chat_id] = supergroup_id
        self.transcript.append(Event("user", chat_id, "migrate", f"{group['title']} becomes a supergroup"))

    def sent(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if (method is None or c.method == method)
            and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
        ]

    def chat(self, chat_id: int) -> list[ChatMessage]:
        return [m for m in self.messages[chat_id].values() if not m.deleted]

    @property
    def pending_updates(self) -> int:
        return len(self._updates)

    def now(self) -> int:
        return epoch(self.clock())

    # ----------------------------------------------------------------------------- driver side

    def push_update(self, payload: JSON) -> int:
        update_id = next(self._update_ids)
        self._history[update_id] = {"update_id": update_id, **payload}
        if self.webhook is not None:
            if self._hold_next:
                self._hold_next = False
                self._held.append(self._history[update_id])
            else:
                self._post_soon(self._history[update_id])
            return update_id
        self._updates.append(self._history[update_id])
        self._new_update.set()
        return update_id

    def hold_back_next(self) -> None:
        """By webhook, Telegram may deliver an update after newer ones (its POST failed or timed out and is
        tried again later, while later updates go through): the next update waits for `deliver_held`."""
        self._hold_next = True

    def deliver_held(self) -> None:
        held, self._held = self._held, []
        for update in held:
            self._post_soon(update)

    def _post_soon(self, update: JSON) -> None:
        task = asyncio.get_running_loop().create_task(self._post_update(update))
        self._pushing.add(task)
        task.add_done_callback(self._pushing.discard)

    async def _post_update(self, update: JSON) -> None:
        """Deliver to the webhook as Telegram does: POST, and try again until it says 2xx (Telegram keeps
        an undelivered update for a day, while the bot is down or restarting), or the webhook is removed."""
        tries = 0
        async with aiohttp.ClientSession() as client:
            while self.webhook is not None and not self._closing:
                headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook.get("secret_token") or ""}
                try:
                    async with client.post(self.webhook["url"], json=update, headers=headers) as response:
                        self.webhook_deliveries.append(response.status)
                        if response.status < 300:
                            return
                except aiohttp.ClientError:
                    self.webhook_deliveries.append(0)
                tries += 1
                await asyncio.sleep(min(1.0, 0.2 * tries))
        if self.webhook is None and not self._closing:  # the webhook removed: getUpdates gives it
            self._updates.append(update)
            self._new_update.set()

    def redeliver(self, update_id: int) -> None:
        """Send an update again, as Telegram does when a confirmation was lost."""
        self._updates.append(self._history[update_id])
        self._new_update.set()

    @property
    def last_update_id(self) -> int:
        return max(self._history, default=0)

    def user_message(
        self,
        user: JSON,
        text: str,
        chat_id: int | None = None,
        *,
        date: float | datetime | None = None,
        reply_to: ChatMessage | None = None,
        entities: list[JSON] | None = None,
        quote: str | None = None,
        elsewhere: JSON | None = None,
        forwarded: JSON | None = None,
        topic: ChatMessage | None = None,
        across: ChatMessage | None = None,
        quote_entities: list[JSON] | None = None,
    ) -> ChatMessage:
        """Store what a user typed (in their own chat, or in a group) and queue it as an update, with
        the entities Telegram would add and those the user's formatting made (`entities`: a text_link...).
        `quote`: the part of the message replied to that the user quoted (`quote_entities`: its formatting, which
        Telegram keeps: a word struck out...); `elsewhere`: the origin (a
        MessageOrigin) of a message in another chat it replies to; `forwarded`: the origin of a forward.
        `topic`: typed in that forum topic (its first message, see open_topic); `across`: a reply to this
        message of the same forum in another topic (or in General), which Telegram gives as a reply
        elsewhere, naming the chat and the message."""
        marked = (self._command_entities(text) or []) + (entities or [])
        fields: JSON = {"text": text, "entities": marked or None, "forward_origin": forwarded}
        if quote is not None:
            fields["quote"] = {"text": quote, "position": 0, "is_manual": True}
            if quote_entities:
                fields["quote"]["entities"] = quote_entities
        if elsewhere is not None:
            fields["external_reply"] = {"origin": elsewhere}
        if across is not None:
            author = self.bot if across.from_bot else across.from_user
            fields["external_reply"] = {
                "origin": {"type": "user", "date": across.date, "sender_user": author},
                "chat": self._chat_for(across.chat_id),
                "message_id": across.message_id,
            }
        if topic is not None:
            fields["thread"] = topic.thread
            reply_to = reply_to or topic
        message = self._user_post(user, chat_id, date, reply_to, **fields)
        self._said(user, message, "text")
        return message

    def user_media(
        self,
        user: JSON,
        kind: str,
        media: JSON,
        *,
        caption: str | None = None,
        chat_id: int | None = None,
        date: float | datetime | None = None,
        reply_to: ChatMessage | None = None,
        document: bytes | None = None,
        entities: list[JSON] | None = None,
        forwarded: JSON | None = None,
    ) -> ChatMessage:
        """Store a user's photo, voice note, location... (`media` as Telegram attaches it, see new_file) and
        queue it as an update. `entities`: of the caption (a text_link...); `forwarded`: the origin of a
        forward."""
        if caption is not None and kind not in CAPTIONED:
            raise ValueError(f"a {kind} has no caption")
        document_name = media[kind].get("file_name") if document is not None else None
        message = self._user_post(
            user,
            chat_id,
            date,
            reply_to,
            kind=kind,
            media=media,
            caption=caption,
            document=document,
            document_name=document_name,
            entities=entities,
            forward_origin=forwarded,
        )
        self._said(user, message, kind)
        return message

    def edit_user_message(
        self,
        message: ChatMessage,
        *,
        text: str | None = None,
        caption: str | None = None,
        media: JSON | None = None,
        entities: list[JSON] | None = None,
    ) -> None:
        """The user edits their message: Telegram keeps the message_id and sends an edited_message update.
        `media` (from new_file) replaces a photo, video, audio file, document or animation."""
        if message.from_bot or message.from_user is None:
            raise ValueError("a user edits only their own messages")
        if media is not None:
            (kind,) = media
            if message.kind not in MEDIA_EDITABLE or kind not in MEDIA_EDITABLE:
                raise ValueError(f"a {message.kind} cannot be replaced by a {kind}")
            message.kind, message.media = kind, copy.deepcopy(media)
        if text is not None:
            if message.kind != "text":
                raise ValueError(f"a {message.kind} has no text to edit")
            message.text, message.entities = text, ((self._command_entities(text) or []) + (entities or [])) or None
        if caption is not None:
            if message.kind not in CAPTIONED:
                raise ValueError(f"a {message.kind} has no caption to edit")
            message.caption, message.entities = caption or None, entities
        message.edits += 1
        message.edit_date = self.now()
        if self._bot_hears(message.chat_id):
            self.push_update({"edited_message": self._message_json(message)})
        self._said(message.from_user, message, "edit")

    def user_deletes(self, user: JSON, message: ChatMessage) -> None:
        message.deleted = True
        self.transcript.append(Event("user", message.chat_id, "delete", f"{user['first_name']} deletes a message"))

    def user_blocks_bot(self, user: JSON) -> None:
        """The user blocks the bot: Telegram tells the bot by my_chat_member, and sends to them answer 403."""
        self.block(user["id"])
        self._push_member_update(user["id"], user, self._member(self.bot, "member"), self._member(self.bot, "kicked"))
        self.transcript.append(Event("user", user["id"], "block", "blocks the bot"))

    def user_unblocks_bot(self, user: JSON) -> None:
        self.unblock(user["id"])
        self._push_member_update(user["id"], user, self._member(self.bot, "kicked"), self._member(self.bot, "member"))
        self.transcript.append(Event("user", user["id"], "unblock", "unblocks the bot"))

    def callback_query(self, user: JSON, message: ChatMessage, data: str, label: str) -> str:
        query_id = str(next(self._query_ids))
        self._query_chats[query_id] = message.chat_id
        self.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "chat_instance": str(message.chat_id),
                    "data": data,
                    "message": self._message_json(message),
                }
            }
        )
        pressed = label if message.chat_id == user["id"] else f"{user.get('first_name', '')}: {label}"
        self.transcript.append(Event("user", message.chat_id, "press", pressed))
        return query_id

    def wait_answer(self, query_id: str) -> asyncio.Future[JSON]:
        future = asyncio.get_running_loop().create_future()
        if query_id in self.callback_answers:
            future.set_result(self.callback_answers[query_id])
        else:
            self._answer_waiters[query_id] = future
        return future

    def wait_chat(self, chat_id: int) -> asyncio.Future[ChatMessage]:
        """Resolves with the next message the bot sends or edits in the chat."""
        future: asyncio.Future[ChatMessage] = asyncio.get_running_loop().create_future()
        self._chat_waiters[chat_id].append(future)
        return future

    def new_file(self, kind: str, size: int, **fields: Any) -> JSON:
        """What a message carrying a new file of this kind has, e.g. {"voice": {"file_id": ..., "duration": 3,
        ...}}: Telegram's shape with fresh ids, the defaults of FILE_SHAPES overridden by `fields`. The file is
        remembered by its file_id, so that the bot can send it again by id."""
        if kind == "photo":
            value: Any = self._photo_sizes(size, int(fields.get("width", 1280)), int(fields.get("height", 720)))
            files = value
        else:
            value = {**self._file_ids(kind), **FILE_SHAPES.get(kind, {}), **fields, "file_size": size}
            if kind in HAS_THUMBNAIL:
                value["thumbnail"] = {**self._file_ids("thumbnail"), "width": 320, "height": 320, "file_size": 4096}
            files = [value]
        media = {kind: value}
        for file in files:
            self.files[file["file_id"]] = media
        return media

    # ----------------------------------------------------------------------------- helpers

    def anonymous_admin_message(self, chat_id: int, text: str, *, reply_to: ChatMessage | None = None) -> ChatMessage:
        """An admin of the group who remains anonymous types a message there: Telegram gives it as sent by the
        group itself (`sender_chat`), from its stand-in account GroupAnonymousBot, never naming the admin."""
        message = self._user_post(
            ANONYMOUS_ADMIN, chat_id, None, reply_to, text=text, sender_chat=self._chat_for(chat_id)
        )
        self._said(ANONYMOUS_ADMIN, message, "text")
        return message

    def _user_post(
        self,
        user: JSON,
        chat_id: int | None,
        date: float | datetime | None,
        reply_to: ChatMessage | None,
        **fields: Any,
    ) -> ChatMessage:
        chat_id = user["id"] if chat_id is None else chat_id
        if reply_to is not None and reply_to.chat_id != chat_id:
            raise ValueError("a reply goes in the chat of the message it replies to")
        message = ChatMessage(
            next(self._message_ids[chat_id]),
            chat_id,
            False,
            self.now() if date is None else epoch(date),
            from_user=user,
            reply_to=None if reply_to is None else reply_to.message_id,
            **fields,
        )
        self.messages[chat_id][message.message_id] = message
        if chat_id != user["id"]:
            self.members[chat_id].add(user["id"])
        if self._bot_hears(chat_id):
            self.push_update({"message": self._message_json(message)})
        return message

    def _said(self, user: JSON, message: ChatMessage, kind: str) -> None:
        said = describe(message)
        if message.chat_id != user["id"]:
            said = f"{user.get('first_name', '')}: {said}"
        self.transcript.append(Event("user", message.chat_id, kind, said))

    @staticmethod
    def _command_entities(text: str) -> list[JSON] | None:
        """As Telegram marks a command: letters, digits and underscores after the slash, and a bot's name
        after @, so "/relink-x P-0002" is the command /relink followed by text; "/ x" is no command."""
        command = BOT_COMMAND.match(text)
        if command is None:
            return None
        return [{"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}]

    def _bot_hears(self, chat_id: int) -> bool:
        """Whether an update from this chat reaches the bot: not from a group it is no longer in."""
        return chat_id > 0 or self._bot_status(chat_id) not in ("left", "kicked")

    def _bot_status(self, chat_id: int) -> str:
        return self.bot_status.get(chat_id, "member")

    def _member(self, user: JSON, status: str) -> JSON:
        """A ChatMember of this status, with the fields its kind requires."""
        member: JSON = {"user": user, "status": status}
        if status == "kicked":
            member["until_date"] = 0  # banned for good
        if status == "administrator":
            member.update(ADMIN_RIGHTS)
        if status == "restricted":
            member.update(RESTRICTED_RIGHTS)
        return member

    def _push_member_update(self, chat_id: int, by: JSON, old: JSON, new: JSON) -> None:
        self.push_update(
            {
                "my_chat_member": {
                    "chat": self._chat_for(chat_id),
                    "from": by,
                    "date": self.now(),
                    "old_chat_member": old,
                    "new_chat_member": new,
                }
            }
        )

    def _file_ids(self, kind: str) -> JSON:
        number = next(self._file_numbers)
        return {"file_id": f"{kind}-{number}", "file_unique_id": f"U{number}"}

    def _photo_sizes(self, size: int, width: int, height: int) -> list[JSON]:
        """Telegram keeps a photo in a few sizes, smallest first; the last is the one sent."""
        longest = max(width, height, 1)
        scales = [side / longest for side in (90, 320, 800) if side < longest] + [1.0]
        return [
            {
                **self._file_ids("photo"),
                "width": round(width * scale),
                "height": round(height * scale),
                "file_size": round(size * scale * scale),
            }
            for scale in scales
        ]

    def _chat(self, user: JSON) -> JSON:
        return {"id": user["id"], "type": "private", "first_name": user.get("first_name", "")}

    def _chat_for(self, chat_id: int) -> JSON:
        if chat_id in self.groups:
            return dict(self.groups[chat_id])
        if chat_id in self.users:
            return self._chat(self.users[chat_id].json)
        return {"id": chat_id, "type": "group" if chat_id < 0 else "private", "title": "chat"}

    def _message_json(self, message: ChatMessage, *, quoted: bool = False) -> JSON:
        author = message.from_user
        in_own_chat = author is not None and author["id"] == message.chat_id
        body: JSON = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": self._chat(author) if author is not None and in_own_chat else self._chat_for(message.chat_id),
            "from": self.bot if message.from_bot else (author or {}),
        }
        if message.forward_origin is not None:
            body["forward_origin"] = message.forward_origin
        if message.external_reply is not None:
            body["external_reply"] = message.external_reply
        if message.quote is not None and not quoted:
            body["quote"] = message.quote
        if message.reply_to is not None and not quoted:  # Telegram nests the replied-to message one level deep
            replied = self.messages[message.chat_id].get(message.reply_to)
            if replied is not None and not replied.deleted:
                body["reply_to_message"] = self._message_json(replied, quoted=True)
        if message.text is not None:
            body["text"] = message.text
        body.update(message.media)
        if message.caption is not None:
            body["caption"] = message.caption
        if message.entities:
            body["entities" if message.text is not None else "caption_entities"] = message.entities
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            body["reply_markup"] = message.reply_markup  # a Message shows only inline keyboards
        if message.edit_date is not None:
            body["edit_date"] = message.edit_date
        if message.thread is not None:
            body.update(message_thread_id=message.thread, is_topic_message=True)
        if message.sender_chat is not None:
            body["sender_chat"] = message.sender_chat
        return body

    def _notify_chat(self, message: ChatMessage) -> None:
        for future in self._chat_waiters.pop(message.chat_id, []):
            if not future.done():
                future.set_result(message)

    def _find(self, params: JSON, action: str = "edit") -> ChatMessage:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        self._check_member(chat_id)
        message = self.messages[chat_id].get(message_id)
        if message is None or message.deleted or not message.from_bot:
            raise ApiError(400, f"Bad Request: message to {action} not found")
        return message

    def _source(self, params: JSON, action: str) -> ChatMessage:
        """The message copyMessage or forwardMessage takes, from any chat, the bot's or a user's."""
        source = self.messages.get(int(params["from_chat_id"]), {}).get(int(params["message_id"]))
        if source is None or source.deleted:
            raise ApiError(400, f"Bad Request: message to {action} not found")
        if source.kind == "new_chat_members":
            raise ApiError(400, f"Bad Request: message can't be {action}ed")
        return source

    def _known_chat(self, value: Any) -> int:
        """The id of a chat the bot can ask about: a known user's, or a group it is in or has seen."""
        try:
            chat_id = int(value)
        except ValueError:
            raise ApiError(400, "Bad Request: chat not found") from None
        if chat_id not in self.users and chat_id not in self.groups and not self.messages.get(chat_id):
            raise ApiError(400, "Bad Request: chat not found")
        self._check_member(chat_id)
        return chat_id

    def _check_member(self, chat_id: int) -> None:
        if chat_id in self.migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=self.migrated[chat_id],
            )
        status = self._bot_status(chat_id) if chat_id < 0 else "member"
        if status in ("left", "kicked"):
            kind = "supergroup" if self._chat_for(chat_id)["type"] == "supergroup" else "group"
            reason = "was kicked from" if status == "kicked" else "is not a member of"
            raise ApiError(403, f"Forbidden: bot {reason} the {kind} chat")

    def _check_send(self, chat_id: int) -> None:
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        self._check_member(chat_id)
        if chat_id < 0 and self._bot_status(chat_id) == "restricted":
            raise ApiError(400, "Bad Request: not enough rights to send text messages to the chat")
        if chat_id > 0 and chat_id not in self.users:
            raise ApiError(400, "Bad Request: chat not found")
        if not self.flood_limits:
            return
        if chat_id not in self._chat_buckets:
            group = chat_id < 0
            self._chat_buckets[chat_id] = TokenBucket(20 / 60, 20) if group else TokenBucket(1, 3)
        wait = max(self._global_bucket.take(), self._chat_buckets[chat_id].take())
        if wait > 0:
            self.too_many_requests += 1
            raise ApiError(429, f"Too Many Requests: retry after {math.ceil(wait)}", math.ceil(wait))

    @staticmethod
    def _json(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    def _formatted(self, params: JSON, name: str) -> tuple[str | None, list[JSON] | None]:
        """A text or caption as Telegram keeps it: with the entities given, or parsed from HTML. (Markdown
        parse modes are kept as written: the bot does not use them.)"""
        raw = params.get(name)
        if raw is None:
            return None, None
        given = self._json(params.get("entities" if name == "text" else "caption_entities"))
        if given:
            return str(raw), list(given)
        if str(params.get("parse_mode") or "").upper() == "HTML":
            text, entities = parse_html(str(raw))
            return text, entities or None
        return str(raw), None

    def _text(self, params: JSON) -> tuple[str, list[JSON] | None]:
        text, entities = self._formatted(params, "text")
        if text is None or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > TEXT_LIMIT:
            raise ApiError(400, "Bad Request: message is too long")
        return text, entities

    def _caption(self, params: JSON) -> tuple[str | None, list[JSON] | None]:
        caption, entities = self._formatted(params, "caption")
        if caption is not None and utf16_len(caption) > CAPTION_LIMIT:
            raise ApiError(400, "Bad Request: message caption is too long")
        return caption or None, entities  # an empty caption is no caption

    def _markup(self, params: JSON) -> JSON | None:
        """reply_markup as given, after Telegram's check of every inline button's callback data."""
        markup: JSON | None = self._json(params.get("reply_markup"))
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and len(str(data).encode()) > CALLBACK_DATA_LIMIT:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _reply_to(self, chat_id: int, params: JSON) -> int | None:
        """The message in the chat a new bot message replies to (reply_parameters, or reply_to_message_id)."""
        reply = self._json(params.get("reply_parameters")) or {}
        message_id = reply.get("message_id", params.get("reply_to_message_id"))
        if message_id is None:
            return None
        replied = self.messages[chat_id].get(int(message_id))
        if replied is not None and not replied.deleted:
            return replied.message_id
        allowed = reply.get("allow_sending_without_reply", params.get("allow_sending_without_reply"))
        if allowed in (True, "true", "True"):
            return None
        raise ApiError(400, "Bad Request: message to be replied not found")

    def _file(self, params: JSON, kind: str, value: Any, name: str, fields: JSON) -> tuple[JSON, bytes | None, str]:
        """The media of a file the bot sends, its bytes when uploaded, and its name. The file is an upload
        (a multipart part, named directly or by "attach://part"), a file_id Telegram knows, or a URL."""
        if isinstance(value, str) and value.startswith("attach://"):
            part = value.removeprefix("attach://")
            value, name = params.get(part), str(params.get(f"{part}__filename") or name)
        if isinstance(value, bytes):
            shape = FILE_SHAPES.get(kind, {})
            if "file_name" in shape:  # documents, videos, audio keep the uploaded file's name and type
                fields = {"file_name": name, "mime_type": mimetypes.guess_type(name)[0] or shape["mime_type"], **fields}
            if kind == "photo" and (size := png_size(value)) is not None:
                fields = {"width": size[0], "height": size[1], **fields}
            return self.new_file(kind, len(value), **fields), value, name
        if isinstance(value, str) and value:
            known = self.files.get(value)
            if known is not None and kind in known:
                return copy.deepcopy(known), None, str(known[kind].get("file_name", name) if kind != "photo" else name)
            if value.startswith(("http://", "https://")):  # Telegram fetches it; the stand-in makes it up
                return self.new_file(kind, 0, **fields), None, value.rsplit("/", 1)[-1] or name
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        raise ApiError(400, f"Bad Request: there is no {kind} in the request")

    @staticmethod
    def _file_fields(params: JSON) -> JSON:
        """What a send method may say about its file (duration, size, performer...)."""
        numbers = {k: int(params[k]) for k in ("duration", "width", "height", "length") if k in params}
        return numbers | {k: str(params[k]) for k in ("performer", "title", "emoji") if k in params}

    def _new_bot_message(self, chat_id: int, **fields: Any) -> ChatMessage:
        message = ChatMessage(next(self._message_ids[chat_id]), chat_id, True, self.now(), **fields)
        self.messages[chat_id][message.message_id] = message
        return message

    def _send(self, params: JSON, event: str, file_name: str | None = None, **fields: Any) -> ChatMessage:
        """A new bot message in the chat the params name, after Telegram's checks (blocked, not a member,
        flood limits, the message replied to). Tells the transcript and whoever waits on the chat.
        `file_name` names the file of a media send: shown in the transcript, and an upload is saved by it."""
        chat_id = int(params["chat_id"])
        self._check_send(chat_id)
        kind = str(fields.get("kind", "text"))
        if kind in self.forbidden_kinds.get(chat_id, set()):
            raise ApiError(400, f"Bad Request: not enough rights to send {RIGHTS_WORDS.get(kind, kind)} to the chat")
        reply_to = self._reply_to(chat_id, params)
        # In a forum: the topic named, else the topic of the message it replies to (else General).
        replied = self.messages[chat_id].get(reply_to) if reply_to is not None else None
        thread = params.get("message_thread_id") or (replied.thread if replied is not None else None)
        fields.setdefault("thread", int(thread) if thread is not None else None)
        message = self._new_bot_message(chat_id, reply_to=reply_to, **fields)
        if file_name is not None and message.upload is not None:
            self._save_file(message, message.upload, file_name)
        shown = describe(message) if file_name is None else f"[{file_name}] {message.caption or ''}".strip()
        self.transcript.append(Event("bot", chat_id, event, shown, self._labels(message.reply_markup)))
        self._notify_chat(message)
        return message

    def _change(self, message: ChatMessage, label: str | None = None, **changes: Any) -> None:
        """Edit a bot message, or refuse as Telegram does when the edit would change nothing."""
        if all(getattr(message, name) == value for name, value in changes.items()):
            raise ApiError(400, NOT_MODIFIED)
        for name, value in changes.items():
            setattr(message, name, value)
        message.edits += 1
        message.edit_date = self.now()
        shown = message.text if message.text is not None else (message.caption or "")
        if label is not None:
            shown = f"[{label}] {shown}".strip()
        self.transcript.append(Event("bot", message.chat_id, "edit", shown, self._labels(message.reply_markup)))
        self._notify_chat(message)

    def _save_file(self, message: ChatMessage, data: bytes, name: str) -> None:
        if self.files_dir is not None:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            message.saved_to = self.files_dir / f"{message.chat_id}-{message.message_id}-{name}"
            message.saved_to.write_bytes(data)

    @staticmethod
    def _labels(markup: JSON | None) -> list[str]:
        return [b["text"] for row in (markup or {}).get("inline_keyboard", []) for b in row]

    @staticmethod
    def _copied(source: ChatMessage) -> JSON:
        """What a copy or a forward takes over from the original."""
        return {
            "kind": source.kind,
            "text": source.text,
            "caption": source.caption,
            "entities": copy.deepcopy(source.entities),
            "media": copy.deepcopy(source.media),
            "photo": source.photo,
            "document": source.document,
            "document_name": source.document_name,
            "upload": source.upload,
            "copied_from": (source.chat_id, source.message_id),
        }

    # ----------------------------------------------------------------------------- Bot API methods

    async def _true(self, params: JSON) -> bool:
        return True

    async def _get_me(self, params: JSON) -> JSON:
        return self.bot

    async def _set_webhook(self, params: JSON) -> bool:
        self.webhook = {"url": str(params["url"]), "secret_token": params.get("secret_token")}
        waiting, self._updates = self._updates, []  # what getUpdates had not had confirmed is POSTed now
        for update in waiting:
            self._post_soon(update)
        return True

    async def _delete_webhook(self, params: JSON) -> bool:
        self.webhook = None
        return True

    async def _get_webhook_info(self, params: JSON) -> JSON:
        return {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates) + len(self._pushing),
        }

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if offset:  # confirming: everything below the offset is forgotten, as Telegram does
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while not self._updates and time.monotonic() < deadline:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), deadline - time.monotonic())
            except TimeoutError:
                break
            if self._closing:
                break
        return self._updates[:limit]

    async def _send_message(self, params: JSON) -> JSON:
        text, entities = self._text(params)
        message = self._send(params, "send", text=text, entities=entities, reply_markup=self._markup(params))
        return self._message_json(message)

    async def _send_media(self, params: JSON, kind: str) -> JSON:
        """sendPhoto, sendDocument, sendVoice...: an upload, or a file Telegram already has, by file_id."""
        caption, entities = self._caption(params)
        markup = self._markup(params)
        default_name = str(params.get(f"{kind}__filename") or kind)
        media, data, name = self._file(params, kind, params.get(kind), default_name, self._file_fields(params))
        message = self._send(
            params,
            kind,
            name,
            kind=kind,
            media=media,
            caption=caption,
            entities=entities,
            reply_markup=markup,
            upload=data,
            photo=data if kind == "photo" else None,
            document=data if kind == "document" else None,
            document_name=name if kind == "document" else None,
        )
        return self._message_json(message)

    async def _send_photo(self, params: JSON) -> JSON:
        return await self._send_media(params, "photo")

    async def _send_document(self, params: JSON) -> JSON:
        return await self._send_media(params, "document")

    async def _send_voice(self, params: JSON) -> JSON:
        return await self._send_media(params, "voice")

    async def _send_video(self, params: JSON) -> JSON:
        return await self._send_media(params, "video")

    async def _send_audio(self, params: JSON) -> JSON:
        return await self._send_media(params, "audio")

    async def _send_sticker(self, params: JSON) -> JSON:
        if "caption" in params:  # a sticker has none; Telegram ignores what it does not take
            params = {k: v for k, v in params.items() if k != "caption"}
        return await self._send_media(params, "sticker")

    async def _send_location(self, params: JSON) -> JSON:
        location = {"latitude": float(params["latitude"]), "longitude": float(params["longitude"])}
        message = self._send(
            params, "location", kind="location", media={"location": location}, reply_markup=self._markup(params)
        )
        return self._message_json(message)

    async def _copy_message(self, params: JSON) -> JSON:
        """A copy of any message, the bot's or a user's, as a new bot message without a link to the
        original; `caption` replaces the caption of media. Telegram answers only the new message_id."""
        source = self._source(params, "copy")
        if source.kind in SERVICE_KINDS:
            raise ApiError(400, "Bad Request: message can't be copied")
        fields = self._copied(source)
        if "caption" in params and source.kind in CAPTIONED:
            fields["caption"], fields["entities"] = self._caption(params)
        elif source.caption is not None and utf16_len(source.caption) > CAPTION_LIMIT and "reply_markup" in params:
            # A Premium user's caption may be longer than a bot's: copied as it is it goes, but a bot that
            # adds buttons to such a copy is refused, as when it writes a long caption itself.
            raise ApiError(400, "Bad Request: message caption is too long")
        message = self._send(params, "copy", reply_markup=self._markup(params), **fields)
        return {"message_id": message.message_id}

    async def _forward_message(self, params: JSON) -> JSON:
        """Like a copy, but the new message says whose it was and when (a forward of a forward keeps the
        first origin), and it is answered in full."""
        source = self._source(params, "forward")
        origin = source.forward_origin or {
            "type": "user",
            "sender_user": self.bot if source.from_bot else (source.from_user or {}),
            "date": source.date,
        }
        message = self._send(params, "forward", forward_origin=copy.deepcopy(origin), **self._copied(source))
        return self._message_json(message)

    async def _edit_message_text(self, params: JSON) -> JSON:
        message = self._find(params)
        if message.kind != "text":
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = self._text(params)
        self._change(message, text=text, entities=entities, reply_markup=self._markup(params))
        return self._message_json(message)

    async def _edit_message_reply_markup(self, params: JSON) -> JSON:
        message = self._find(params)
        self._change(message, reply_markup=self._markup(params))
        return self._message_json(message)

    async def _edit_message_caption(self, params: JSON) -> JSON:
        message = self._find(params)
        if message.kind not in CAPTIONED:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption, entities = self._caption(params)
        self._change(message, caption=caption, entities=entities, reply_markup=self._markup(params))
        return self._message_json(message)

    async def _edit_message_media(self, params: JSON) -> JSON:
        """Replace the file of a photo, video, audio or document message. The caption is the one in the
        new InputMedia: Telegram drops the old caption when the new media has none."""
        message = self._find(params)
        if message.kind not in MEDIA_EDITABLE:
            raise ApiError(400, "Bad Request: message can't be edited")
        new = self._json(params["media"])
        kind = str(new.get("type"))
        if kind not in MEDIA_EDITABLE or not new.get("media"):
            raise ApiError(400, "Bad Request: can't parse InputMedia: Media is not specified")
        caption, entities = self._caption(new)
        markup = self._markup(params)
        media, data, name = self._file(params, kind, new["media"], kind, {})
        if media != message.media:  # the old bytes go with the old file
            message.upload = data
            message.photo = data if kind == "photo" else None
            message.document, message.document_name = (data, name) if kind == "document" else (None, None)
            if data is not None:
                self._save_file(message, data, name)
        self._change(message, name, kind=kind, media=media, caption=caption, entities=entities, reply_markup=markup)
        return self._message_json(message)

    async def _answer_callback_query(self, params: JSON) -> bool:
        query_id = str(params["callback_query_id"])
        if query_id in self.callback_answers or query_id not in self._query_chats:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if utf16_len(str(params.get("text") or "")) > ANSWER_TEXT_LIMIT:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")  # and the query stays unanswered
        answer = {"text": params.get("text"), "show_alert": params.get("show_alert") in (True, "true")}
        self.callback_answers[query_id] = answer
        if answer["text"]:
            self.transcript.append(Event("bot", self._query_chats[query_id], "toast", str(answer["text"])))
        waiter = self._answer_waiters.pop(query_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(answer)
        return True

    async def _delete_message(self, params: JSON) -> bool:
        message = self._find(params, "delete")
        message.deleted = True
        self.transcript.append(Event("bot", message.chat_id, "delete", message.text or ""))
        return True

    async def _get_chat(self, params: JSON) -> JSON:
        return {**self._chat_for(self._known_chat(params["chat_id"])), **FULL_INFO}

    async def _get_chat_member(self, params: JSON) -> JSON:
        chat_id, user_id = self._known_chat(params["chat_id"]), int(params["user_id"])
        if user_id == self.bot["id"]:
            return self._member(self.bot, self._bot_status(chat_id) if chat_id < 0 else "member")
        user = self.users[user_id].json if user_id in self.users else {"id": user_id, "is_bot": False, "first_name": ""}
        listed = user_id == chat_id or user_id in self.members.get(chat_id, set())
        return self._member(user, "member" if listed else "left")

    async def _leave_chat(self, params: JSON) -> bool:
        chat_id = self._known_chat(params["chat_id"])  # 403 when the bot is not in the group any more
        if chat_id > 0:
            raise ApiError(400, "Bad Request: chat member status can't be changed in private chats")
        old = self._bot_status(chat_id)
        self.bot_status[chat_id] = "left"
        self.left_chats.append(chat_id)
        # The bot hears of its own leaving too, as of any change of its status.
        self._push_member_update(chat_id, self.bot, self._member(self.bot, old), self._member(self.bot, "left"))
        self.transcript.append(Event("bot", chat_id, "leave", str(self._chat_for(chat_id).get("title", ""))))
        return True

    @classmethod
    def commands_key(cls, scope: JSON | None = None, language_code: str = "") -> str:
        return json.dumps(scope or {"type": "default"}, sort_keys=True) + "|" + language_code

    async def _set_my_commands(self, params: JSON) -> bool:
        key = self.commands_key(self._json(params.get("scope")), str(params.get("language_code") or ""))
        self.commands[key] = self._json(params["commands"])
        return True

    async def _delete_my_commands(self, params: JSON) -> bool:
        key = self.commands_key(self._json(params.get("scope")), str(params.get("language_code") or ""))
        self.commands.pop(key, None)
        return True
