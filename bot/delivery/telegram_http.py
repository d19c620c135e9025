"""PTB's HTTP transport on aiohttp.

PTB's default transport (httpx) took over a third of the bot's CPU per answer in bench/answers.py;
aiohttp's client does the same work for much less, and the project already depends on aiohttp.
Errors map onto PTB's own: TimedOut for time-outs, NetworkError for everything else on the wire, and for no
connection in time (Telegram out of reach, or every pooled connection busy): that request was never sent, and
may be made again without its being done twice, as an update whose handling it failed is (bot/delivery/inbox.py).
"""

from __future__ import annotations

import asyncio

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class MaybeDone(NetworkError):
    """The connection broke once the request was on its way (reset, closed before the answer, an answer cut short):
    Telegram may have done it, as after a time-out. Still a NetworkError for whoever catches those."""


class AiohttpRequest(BaseRequest):
    def __init__(
        self,
        *,
        pool_size: int = 128,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 30.0,
    ) -> None:
        self._pool_size = pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size)
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        # PTB types these ODVInput[float], an alias in its private telegram._utils (as is DefaultValue,
        # the class of its marker): an override may accept more than its base, so `object` here, read
        # by _seconds with what BaseRequest itself makes public (DEFAULT_NONE, for a time-out not given).
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = _seconds(read_timeout, self._read_timeout)
        connect = _seconds(connect_timeout, self._connect_timeout)
        pool = _seconds(pool_timeout, self._pool_timeout)
        # aiohttp's connect time-out includes the wait for a free pooled connection.
        waiting = None if connect is None and pool is None else (connect or 0) + (pool or 0)
        timeout = aiohttp.ClientTimeout(total=None, connect=waiting, sock_read=read)

        body: aiohttp.FormData | dict[str, str] | None = None
        if request_data is not None:
            files = request_data.multipart_data
            if files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mime_type) in files.items():
                    form.add_field(name, content, filename=filename, content_type=mime_type)
                body = form
            else:
                body = request_data.json_parameters
        try:
            async with self._session.request(method, url, data=body, timeout=timeout) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as error:  # (a TimeoutError too) nothing was sent
            raise NetworkError(f"aiohttp.{type(error).__name__}: no connection in time") from error
        except TimeoutError as error:
            raise TimedOut from error
        except asyncio.CancelledError:
            raise
        except aiohttp.ClientConnectorError as error:  # no connection made (refused, no route): nothing was sent
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error
        except aiohttp.ClientError as error:
            raise MaybeDone(f"aiohttp.{type(error).__name__}: {error}") from error


def _seconds(given: object, own: float | None) -> float | None:
    """A time-out as PTB passes it to do_request: seconds, None for no limit, or its marker for one the
    caller did not give (BaseRequest.DEFAULT_NONE), which means this transport's own."""
    if given is None or isinstance(given, int | float):
        return given
    return own
