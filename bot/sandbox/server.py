"""The Bot API stand-in: an aiohttp server that speaks enough of Telegram's HTTP API for the bot.

It keeps chats, messages and pending updates in memory, answers in Telegram's own shapes (including
its errors: 400 "message is not modified", 403 blocked, 429 with retry_after), can enforce Telegram's
flood limits, and records every call so that tests can assert what was sent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import BodyPartReader, web

if TYPE_CHECKING:
    from bot.sandbox.driver import SimulatedUser

JSON = dict[str, Any]


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


@dataclass
class ChatMessage:
    """A message in a chat as the stand-in keeps it (the bot's and the users')."""

    message_id: int
    chat_id: int
    from_bot: bool
    date: int
    text: str | None = None
    caption: str | None = None
    reply_markup: JSON | None = None
    photo: bytes | None = None
    document: bytes | None = None
    document_name: str | None = None
    saved_to: Path | None = None
    edits: int = 0
    deleted: bool = False

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data) of every inline button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


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
    kind: str  # text, press, send, edit, photo, document, toast, delete
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
        self.calls: list[Call] = []
        self.transcript: list[Event] = []
        self.messages: dict[int, dict[int, ChatMessage]] = defaultdict(dict)
        self.callback_answers: dict[str, JSON] = {}
        self.commands: dict[str, list[JSON]] = {}
        self.blocked: set[int] = set()
        self.users: dict[int, SimulatedUser] = {}
        self.too_many_requests = 0
        self._updates: list[JSON] = []
        self._history: dict[int, JSON] = {}
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._query_ids = itertools.count(1)
        self._query_chats: dict[str, int] = {}
        self._new_update = asyncio.Event()
        self._failures: dict[str, list[ApiError]] = defaultdict(list)
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
        self._pushing: set[asyncio.Task[None]] = set()
        self._methods: dict[str, Callable[[JSON], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "editMessageCaption": self._edit_message_caption,
            "answerCallbackQuery": self._answer_callback_query,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "deleteMessage": self._delete_message,
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
        failures = self._failures.get(method)
        if failures:
            return self._error(failures.pop(0))
        try:
            result = await handler(params)
        except ApiError as error:
            return self._error(error)
        except (KeyError, TypeError, ValueError) as error:
            return self._error(ApiError(400, f"Bad Request: {error}"))
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(error: ApiError) -> web.Response:
        body: JSON = {"ok": False, "error_code": error.code, "description": error.description}
        if error.retry_after is not None:
            body["parameters"] = {"retry_after": error.retry_after}
        return web.json_response(body, status=error.code)

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
        self, method: str, code: int, description: str, *, retry_after: int | None = None, times: int = 1
    ) -> None:
        """Answer the next `times` calls of `method` with this error instead of doing them."""
        self._failures[method].extend(ApiError(code, description, retry_after) for _ in range(times))

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sending to them answers 403 from now on."""
        self.blocked.add(user_id)

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

    # ----------------------------------------------------------------------------- driver side

    def push_update(self, payload: JSON) -> int:
        update_id = next(self._update_ids)
        self._history[update_id] = {"update_id": update_id, **payload}
        if self.webhook is not None:
            task = asyncio.get_running_loop().create_task(self._post_update(self._history[update_id]))
            self._pushing.add(task)
            task.add_done_callback(self._pushing.discard)
            return update_id
        self._updates.append(self._history[update_id])
        self._new_update.set()
        return update_id

    async def _post_update(self, update: JSON) -> None:
        """Deliver to the webhook as Telegram does: POST, and try again (a few times) until it says 2xx."""
        assert self.webhook is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook.get("secret_token") or ""}
        async with aiohttp.ClientSession() as client:
            for _ in range(5):
                try:
                    async with client.post(self.webhook["url"], json=update, headers=headers) as response:
                        self.webhook_deliveries.append(response.status)
                        if response.status < 300:
                            return
                except aiohttp.ClientError:
                    self.webhook_deliveries.append(0)
                await asyncio.sleep(0.2)

    def redeliver(self, update_id: int) -> None:
        """Send an update again, as Telegram does when a confirmation was lost."""
        self._updates.append(self._history[update_id])
        self._new_update.set()

    @property
    def last_update_id(self) -> int:
        return max(self._history, default=0)

    def user_message(self, user: JSON, text: str, chat_id: int | None = None) -> ChatMessage:
        """Store what a user typed (in their own chat, or in a group) and queue it as an update, with
        the entities Telegram would add."""
        chat_id = user["id"] if chat_id is None else chat_id
        message = ChatMessage(next(self._message_ids[chat_id]), chat_id, False, int(time.time()), text=text)
        self.messages[chat_id][message.message_id] = message
        payload: JSON = {
            "message_id": message.message_id,
            "from": user,
            "date": message.date,
            "chat": self._chat(user) if chat_id == user["id"] else self._chat_for(chat_id),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            payload["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}
            ]
        self.push_update({"message": payload})
        said = text if chat_id == user["id"] else f"{user.get('first_name', '')}: {text}"
        self.transcript.append(Event("user", chat_id, "text", said))
        return message

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
                    "message": self._message_json(message, user),
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

    # ----------------------------------------------------------------------------- helpers

    def _chat(self, user: JSON) -> JSON:
        return {"id": user["id"], "type": "private", "first_name": user.get("first_name", "")}

    def _chat_for(self, chat_id: int) -> JSON:
        if chat_id in self.users:
            return self._chat(self.users[chat_id].json)
        return {"id": chat_id, "type": "group" if chat_id < 0 else "private", "title": "chat"}

    def _message_json(self, message: ChatMessage, user: JSON | None = None) -> JSON:
        body: JSON = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": self._chat_for(message.chat_id),
            "from": self.bot if message.from_bot else (user or {}),
        }
        if message.text is not None:
            body["text"] = message.text
        if message.caption is not None:
            body["caption"] = message.caption
        if message.photo is not None:
            body["photo"] = [
                {
                    "file_id": f"photo-{message.chat_id}-{message.message_id}",
                    "file_unique_id": f"p{message.message_id}",
                    "width": 800,
                    "height": 450,
                }
            ]
        if message.document is not None:
            body["document"] = {
                "file_id": f"doc-{message.chat_id}-{message.message_id}",
                "file_unique_id": f"d{message.message_id}",
                "file_name": message.document_name,
            }
        if message.reply_markup:
            body["reply_markup"] = message.reply_markup
        if message.edits:
            body["edit_date"] = int(time.time())
        return body

    def _notify_chat(self, message: ChatMessage) -> None:
        for future in self._chat_waiters.pop(message.chat_id, []):
            if not future.done():
                future.set_result(message)

    def _find(self, params: JSON) -> ChatMessage:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        message = self.messages[chat_id].get(message_id)
        if message is None or message.deleted or not message.from_bot:
            raise ApiError(400, "Bad Request: message to edit not found")
        return message

    def _check_send(self, chat_id: int) -> None:
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
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

    def _new_bot_message(self, chat_id: int, **fields: Any) -> ChatMessage:
        message = ChatMessage(next(self._message_ids[chat_id]), chat_id, True, int(time.time()), **fields)
        self.messages[chat_id][message.message_id] = message
        return message

    def _save_file(self, message: ChatMessage, data: bytes, name: str) -> None:
        if self.files_dir is not None:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            message.saved_to = self.files_dir / f"{message.chat_id}-{message.message_id}-{name}"
            message.saved_to.write_bytes(data)

    @staticmethod
    def _labels(markup: JSON | None) -> list[str]:
        return [b["text"] for row in (markup or {}).get("inline_keyboard", []) for b in row]

    # ----------------------------------------------------------------------------- Bot API methods

    async def _true(self, params: JSON) -> bool:
        return True

    async def _get_me(self, params: JSON) -> JSON:
        return self.bot

    async def _set_webhook(self, params: JSON) -> bool:
        self.webhook = {"url": str(params["url"]), "secret_token": params.get("secret_token")}
        return True

    async def _delete_webhook(self, params: JSON) -> bool:
        self.webhook = None
        return True

    async def _get_webhook_info(self, params: JSON) -> JSON:
        return {"url": self.webhook["url"] if self.webhook else "", "pending_update_count": len(self._updates)}

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
        chat_id = int(params["chat_id"])
        text = str(params["text"])
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        self._check_send(chat_id)
        markup = self._json(params.get("reply_markup"))
        message = self._new_bot_message(chat_id, text=text, reply_markup=markup)
        self.transcript.append(Event("bot", chat_id, "send", text, self._labels(markup)))
        self._notify_chat(message)
        return self._message_json(message)

    async def _edit_message_text(self, params: JSON) -> JSON:
        message = self._find(params)
        text = str(params["text"])
        markup = self._json(params.get("reply_markup"))
        if text == message.text and markup == message.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        message.text, message.reply_markup = text, markup
        message.edits += 1
        self.transcript.append(Event("bot", message.chat_id, "edit", text, self._labels(markup)))
        self._notify_chat(message)
        return self._message_json(message)

    async def _edit_message_reply_markup(self, params: JSON) -> JSON:
        message = self._find(params)
        markup = self._json(params.get("reply_markup"))
        if markup == message.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        message.reply_markup = markup
        message.edits += 1
        self.transcript.append(Event("bot", message.chat_id, "edit", message.text or "", self._labels(markup)))
        self._notify_chat(message)
        return self._message_json(message)

    async def _edit_message_caption(self, params: JSON) -> JSON:
        message = self._find(params)
        caption = params.get("caption")
        markup = self._json(params.get("reply_markup"))
        if caption == message.caption and markup == message.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        message.caption, message.reply_markup = caption, markup
        message.edits += 1
        self.transcript.append(Event("bot", message.chat_id, "edit", str(caption or ""), self._labels(markup)))
        self._notify_chat(message)
        return self._message_json(message)

    async def _answer_callback_query(self, params: JSON) -> bool:
        query_id = str(params["callback_query_id"])
        if query_id in self.callback_answers or query_id not in self._query_chats:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        answer = {"text": params.get("text"), "show_alert": params.get("show_alert") in (True, "true")}
        self.callback_answers[query_id] = answer
        if answer["text"]:
            self.transcript.append(Event("bot", self._query_chats[query_id], "toast", str(answer["text"])))
        waiter = self._answer_waiters.pop(query_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(answer)
        return True

    async def _send_file(self, params: JSON, field_name: str) -> JSON:
        chat_id = int(params["chat_id"])
        data = params.get(field_name)
        if not isinstance(data, bytes):
            raise ApiError(400, f"Bad Request: there is no {field_name} in the request")
        self._check_send(chat_id)
        caption = params.get("caption")
        name = str(params.get(f"{field_name}__filename") or field_name)
        markup = self._json(params.get("reply_markup"))
        if field_name == "photo":
            message = self._new_bot_message(chat_id, caption=caption, photo=data, reply_markup=markup)
        else:
            message = self._new_bot_message(
                chat_id, caption=caption, document=data, document_name=name, reply_markup=markup
            )
        self._save_file(message, data, name)
        self.transcript.append(Event("bot", chat_id, field_name, f"[{name}] {caption or ''}".strip()))
        self._notify_chat(message)
        return self._message_json(message)

    async def _send_photo(self, params: JSON) -> JSON:
        return await self._send_file(params, "photo")

    async def _send_document(self, params: JSON) -> JSON:
        return await self._send_file(params, "document")

    async def _delete_message(self, params: JSON) -> bool:
        message = self._find(params)
        message.deleted = True
        self.transcript.append(Event("bot", message.chat_id, "delete", message.text or ""))
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
