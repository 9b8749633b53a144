"""The one place that talks to NetBox (pynetbox + its HTTP session).

Reads whole endpoints in pages of 1000, the pages of one endpoint fetched
concurrently; writes in bulk (one request per chunk of objects). Every failure
becomes a ``NetBoxError`` naming the URL and, for writes, the object.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import pynetbox
import requests

from megalis_net.errors import MegalisError

PAGE = 1000  # NetBox's largest page (MAX_PAGE_SIZE)
CHUNK = 250  # objects per bulk write: NetBox needs ~30 ms each, keep requests well under a minute
READERS = 4  # concurrent page reads of one endpoint (the server has 2 workers x 3 threads)
WRITERS = 2  # concurrent bulk writes: one per server worker
TIMEOUT = 300.0

URL_ENV = "MEGALIS_NETBOX_URL"
TOKEN_ENV = "MEGALIS_NETBOX_TOKEN"


class NetBoxError(MegalisError):
    """NetBox unreachable, refusing the token, or refusing a write."""


@dataclass(frozen=True)
class Settings:
    url: str
    token: str

    @classmethod
    def from_env(cls, url: str | None = None, token: str | None = None) -> Settings:
        url = url or os.environ.get(URL_ENV)
        token = token or os.environ.get(TOKEN_ENV)
        if not url or not token:
            raise NetBoxError(
                f"NetBox not configured: set {URL_ENV} and {TOKEN_ENV}"
                " (scripts/netbox env prints them for the local server)"
            )
        return cls(url.rstrip("/"), token)


def _detail(exc: Exception) -> str:
    if isinstance(exc, pynetbox.RequestError):
        return f"HTTP {exc.req.status_code}: {str(exc.error)[:300]}"
    if isinstance(exc, requests.ConnectionError):
        return "connection refused or unreachable"
    return f"{type(exc).__name__}: {str(exc)[:300]}"


class NetBox:
    """A session with one NetBox server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.api = pynetbox.api(settings.url, token=settings.token)
        self.api.http_session.headers["Accept"] = "application/json"
        self.api.http_session.headers["Authorization"] = self._auth_header(settings.token)

    @staticmethod
    def _auth_header(token: str) -> str:
        # v2 tokens (nbt_<key>.<secret>) go as Bearer, v1 as Token.
        return f"Bearer {token}" if token.startswith("nbt_") else f"Token {token}"

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except NetBoxError:
            raise
        except (pynetbox.RequestError, requests.RequestException) as exc:
            raise NetBoxError(f"NetBox {self.settings.url}: {what}: {_detail(exc)}") from exc

    def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.settings.url}/api/{path}/"
        response = self.api.http_session.get(url, params=params, timeout=TIMEOUT)
        if response.status_code in (401, 403):
            raise NetBoxError(
                f"NetBox {self.settings.url}: the API token was refused (HTTP"
                f" {response.status_code}): check {TOKEN_ENV}"
            )
        if response.status_code != 200:
            raise NetBoxError(
                f"NetBox {self.settings.url}: GET {url}: HTTP {response.status_code}:"
                f" {response.text[:300]}"
            )
        return cast(dict[str, Any], response.json())

    def check(self) -> str:
        """The server's NetBox version; fails on a wrong token or an unreachable server."""
        with self._errors("reading /api/status/"):
            status = self._get("status", {})
            self._get("users/tokens", {"limit": 1})  # /status/ answers without a valid token
        return str(status.get("netbox-version", "?"))

    def read(
        self, endpoint: str, fields: Sequence[str] = (), filters: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """Every object of an endpoint (``app.name``), raw JSON, pages read concurrently."""
        path = endpoint.replace(".", "/")
        params: dict[str, Any] = {"limit": PAGE, "ordering": "id", **(filters or {})}
        if fields:
            params["fields"] = ",".join(fields)
        with self._errors(f"reading {path}"):
            first = self._get(path, {**params, "offset": 0})
            results: list[dict[str, Any]] = list(first["results"])
            offsets = range(PAGE, int(first["count"]), PAGE)
            if offsets:
                with ThreadPoolExecutor(READERS) as pool:
                    pages = pool.map(lambda o: self._get(path, {**params, "offset": o}), offsets)
                    for page in pages:
                        results += page["results"]
        return results

    def _endpoint(self, endpoint: str) -> Any:
        app, name = endpoint.split(".", 1)
        return getattr(getattr(self.api, app), name.replace("-", "_"))

    def create(self, endpoint: str, objects: list[dict[str, Any]], what: str) -> list[int]:
        """Bulk create (one object: a plain create); returns the new ids in order."""
        with self._errors(f"creating {what}"):
            if len(objects) == 1:
                return [int(self._endpoint(endpoint).create(objects[0]).id)]
            created = self._endpoint(endpoint).create(objects)
        return [int(record.id) for record in created]

    def update(self, endpoint: str, objects: list[dict[str, Any]], what: str) -> None:
        with self._errors(f"updating {what}"):
            self._endpoint(endpoint).update(objects)

    def delete(self, endpoint: str, ids: list[int], what: str) -> None:
        with self._errors(f"deleting {what}"):
            self._endpoint(endpoint).delete(ids)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


Progress = Callable[[str, int], None]
"""Called with (what, how many objects) after each request: the CLI's progress bar."""
