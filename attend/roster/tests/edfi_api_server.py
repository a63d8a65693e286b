"""A small Ed-Fi-shaped API for tests, on 127.0.0.1 in a thread (standard library only).

It serves what the client needs and nothing more: `/oauth/token` (client credentials, Basic
auth), `/changeQueries/v1/availableChangeVersions`, `/data/v3[/year]/ed-fi/<resource>` with
offset/limit paging, `totalCount` and a change-version window, and `<resource>/deletes`.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

KEY, SECRET = "attend-test", "s3cret"


@dataclass
class Store:
    """Resources with a change version per record, and deletions with theirs."""

    records: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    deletes: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    version: int = 0
    tokens: set[str] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)

    def put(self, resource: str, record: dict[str, Any]) -> None:
        self.version += 1
        self.records.setdefault(resource, []).append((self.version, record))

    def delete(self, resource: str, keys: dict[str, Any]) -> None:
        self.version += 1
        rows = self.records.get(resource, [])
        self.records[resource] = [(v, r) for v, r in rows if not _matches(r, keys)]
        self.deletes.setdefault(resource, []).append((self.version, {"keyValues": keys}))


def _matches(record: dict[str, Any], keys: dict[str, Any]) -> bool:
    flat = {
        "studentUniqueId": record.get("studentReference", {}).get("studentUniqueId"),
        "schoolId": record.get("schoolReference", {}).get("schoolId"),
        "eventDate": record.get("eventDate"),
        "attendanceEventCategoryDescriptor": record.get("attendanceEventCategoryDescriptor"),
    }
    return all(flat.get(k) == v for k, v in keys.items() if k in flat)


class Handler(BaseHTTPRequestHandler):
    store: Store

    def log_message(self, format: str, *args: Any) -> None:  # quiet in test output
        return

    def do_POST(self) -> None:
        expected = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {expected}":
            return self._send(401, {"error": "invalid_client"})
        token = f"token-{len(self.store.tokens) + 1}"
        self.store.tokens.add(token)
        return self._send(200, {"access_token": token, "expires_in": 1800, "token_type": "bearer"})

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        self.store.requests.append(self.path)
        if self.headers.get("Authorization", "").removeprefix("Bearer ") not in self.store.tokens:
            return self._send(401, {"message": "Authorization denied."})
        if url.path == "/changeQueries/v1/availableChangeVersions":
            return self._send(
                200, {"oldestChangeVersion": 0, "newestChangeVersion": self.store.version}
            )
        return self._resource(url.path, urllib.parse.parse_qs(url.query))

    def _resource(self, path: str, query: dict[str, list[str]]) -> None:
        parts = path.split("/ed-fi/", 1)
        if len(parts) != 2:
            return self._send(404, {"message": "not found"})
        name, _, deletes = parts[1].partition("/")
        table = self.store.deletes if deletes == "deletes" else self.store.records
        if name not in self.store.records and name not in self.store.deletes:
            return self._send(404, {"message": f"no resource {name}"})
        rows = [r for v, r in table.get(name, []) if _in_window(v, query)]
        offset, limit = int(query.get("offset", ["0"])[0]), int(query.get("limit", ["25"])[0])
        return self._send(200, rows[offset : offset + limit], total=len(rows))

    def _send(self, status: int, body: Any, total: int | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if total is not None:
            self.send_header("Total-Count", str(total))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _in_window(version: int, query: dict[str, list[str]]) -> bool:
    low = int(query.get("minChangeVersion", ["0"])[0])
    high = int(query.get("maxChangeVersion", [str(1 << 62)])[0])
    return low <= version <= high


@contextmanager
def running(store: Store) -> Iterator[str]:
    """Serve the store on an ephemeral port; yields the base URL."""
    handler = type("BoundHandler", (Handler,), {"store": store})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
