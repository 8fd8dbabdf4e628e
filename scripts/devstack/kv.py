"""A local stand-in for Workers KV, served to workerd as each namespace's backing service.

workerd's KV binding speaks HTTP to the service it is bound to: `GET`, `PUT` and
`DELETE https://fake-host/<key, percent-encoded>?urlencoded=true`, with
`expiration_ttl` or `expiration` on a put, and a 404 for a missing key. One server
runs per namespace; all of them keep their values in one SQLite file in the
stack's state folder, which the operator scripts read with `--local`.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from devstack.server import LocalHttpServer, QuietHandler

STORE_NAME = "kv.sqlite3"


class KvStore:
    """Values by (namespace, key), with optional expiry; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS kv (namespace TEXT, key TEXT, value BLOB,"
            " expires REAL, PRIMARY KEY (namespace, key))"
        )

    def get(self, namespace: str, key: str) -> bytes | None:
        with self._lock:
            row = self._db.execute(
                "SELECT value, expires FROM kv WHERE namespace = ? AND key = ?", (namespace, key)
            ).fetchone()
        if row is None or (row[1] is not None and row[1] <= time.time()):
            return None
        value: bytes = row[0]
        return value

    def put(self, namespace: str, key: str, value: bytes, expires: float | None = None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO kv VALUES (?, ?, ?, ?)", (namespace, key, value, expires)
            )

    def delete(self, namespace: str, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM kv WHERE namespace = ? AND key = ?", (namespace, key))

    def close(self) -> None:
        with self._lock:
            self._db.close()


class LocalNamespace:
    """The `KeyValue` port on one namespace of a store, for operator scripts run with --local."""

    def __init__(self, store: KvStore, namespace: str) -> None:
        self._store = store
        self._namespace = namespace

    async def get(self, key: str) -> str | None:
        value = self._store.get(self._namespace, key)
        return None if value is None else value.decode()

    async def put(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
        expires = None if ttl_seconds is None else time.time() + ttl_seconds
        self._store.put(self._namespace, key, value.encode(), expires)


def _expiry(query: dict[str, list[str]]) -> float | None:
    if "expiration_ttl" in query:
        return time.time() + float(query["expiration_ttl"][0])
    if "expiration" in query:
        return float(query["expiration"][0])
    return None


@dataclass
class LocalKv(LocalHttpServer):
    """One namespace's service on 127.0.0.1; a context manager."""

    store: KvStore
    namespace: str
    requests: list[tuple[str, str]] = field(default_factory=list)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        kv = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def _key(self) -> tuple[str, dict[str, list[str]]]:
                parts = urlsplit(self.path)
                key = unquote(parts.path[1:])
                kv.requests.append((self.command, key))
                return key, parse_qs(parts.query)

            def _answer(self, status: int, body: bytes = b"") -> None:
                self.send_response(status)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                key, _ = self._key()
                value = kv.store.get(kv.namespace, key)
                self._answer(404) if value is None else self._answer(200, value)

            def do_PUT(self) -> None:
                key, query = self._key()
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                kv.store.put(kv.namespace, key, body, _expiry(query))
                self._answer(200)

            def do_DELETE(self) -> None:
                key, _ = self._key()
                kv.store.delete(kv.namespace, key)
                self._answer(200)

        return Handler
