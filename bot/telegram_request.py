"""PTB's network layer on aiohttp instead of httpx.

Why: every Bot API call through PTB's default `HTTPXRequest` costs about 2 ms
of CPU in httpcore's connection pool (it re-checks every pooled connection's
socket per request; encode/httpx#3215), which caps one process at a few hundred
messages per second. The same call through aiohttp costs a tenth of that.
Everything above the transport (building requests, parsing replies, turning
Bot API errors into `RetryAfter`, `Forbidden`, `BadRequest` ...) is PTB's own
`BaseRequest.post`, unchanged.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# PTB's "not given" marker for timeouts (its class is private).
_DEFAULT = type(BaseRequest.DEFAULT_NONE)
# Concurrent connections to the Bot API; above the sender's concurrency.
POOL_SIZE = 64


class AiohttpRequest(BaseRequest):
    """A `telegram.request.BaseRequest` on one `aiohttp.ClientSession`.

    aiohttp has no write timeout; a stalled upload ends at the read timeout.
    """

    def __init__(
        self,
        *,
        connection_pool_size: int = POOL_SIZE,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_read_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_read_timeout = media_read_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # Made here, not in __init__: aiohttp binds a session to the running loop.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        if isinstance(read_timeout, _DEFAULT):
            read_timeout = self._media_read_timeout if files else self._read_timeout
        if isinstance(connect_timeout, _DEFAULT):
            connect_timeout = self._connect_timeout
        if isinstance(pool_timeout, _DEFAULT):
            pool_timeout = self._pool_timeout
        timeout = aiohttp.ClientTimeout(
            # aiohttp's `connect` covers waiting for a pooled connection and connecting.
            connect=_sum(pool_timeout, connect_timeout),
            sock_connect=connect_timeout,
            sock_read=read_timeout,
        )
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {error}") from error


def _sum(*values: float | None) -> float | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """Form fields as PTB's HTTPXRequest sends them: url-encoded, or multipart with files."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    files = request_data.multipart_data
    if not files:
        return fields or None
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in files.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form
