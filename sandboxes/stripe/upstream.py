"""A tiny HTTP client for localstripe (GPL-3.0: HTTP only, never imported)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from yarl import URL

from .forms import encode

log = logging.getLogger("sandboxes.stripe")


@dataclass
class Reply:
    status: int
    data: Any
    content_type: str
    body: bytes


class LocalStripeClient:
    """HTTP to localstripe; every internal call goes through here."""

    def __init__(self, base_url: str, secret_key: str = "sk_test_sandbox") -> None:
        self.base_url = base_url
        self.secret_key = secret_key
        self._http: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def close(self) -> None:
        if self._http:
            await self._http.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        query: list[tuple[str, str]] | None = None,
        raw_query: str = "",
        raw_body: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> Reply:
        """`auth=False` for proxied calls: the caller's own Authorization goes through."""
        assert self._http is not None
        hdrs = {"Authorization": f"Bearer {self.secret_key}"} if auth else {}
        hdrs.update(headers or {})
        data: Any = raw_body
        if params is not None:
            data = encode(params)
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        url = self.base_url + path
        if query:
            url += "?" + urlencode(query)
        elif raw_query:
            url += "?" + raw_query
        async with self._http.request(method, URL(url, encoded=True), data=data, headers=hdrs) as r:
            body = await r.read()
            ctype = r.headers.get("Content-Type", "")
            parsed: Any = None
            if "json" in ctype and body:
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parsed = None
            return Reply(r.status, parsed, ctype, body)

    async def get(self, path: str, query: list[tuple[str, str]] | None = None) -> Reply:
        return await self.request("GET", path, query=query)

    async def post(self, path: str, params: dict[str, Any] | None = None) -> Reply:
        return await self.request("POST", path, params=params or {})
