"""The officer app API: tokens, strict validation, replay protection, audio chunks, OpenAPI."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from attend.devices.actions import register_app_device, revoke_device
from attend.devices.openapi import SCHEMA
from attend.evidence.models import AudioChunk, CustodyEvent
from attend.evidence.storage import evidence_storage
from attend.safety.models import Alarm, Position, Visit
from attend.safety.tests.base import DURESS, PIN, SafetyTestCase

_counter = iter(range(10**6))


class ApiTests(SafetyTestCase):
    def setUp(self) -> None:
        self.device, self.token = register_app_device(officer=self.olivia, label="Pixel")
        self.tmp = Path(tempfile.mkdtemp())
        override = override_settings(ATTEND_EVIDENCE_DIR=self.tmp)
        override.enable()
        evidence_storage.cache_clear()
        self.addCleanup(override.disable)
        self.addCleanup(evidence_storage.cache_clear)
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def call(
        self, method: str, path: str, body: Any = None, *, rid: str | None = None, **headers: Any
    ) -> Any:
        extra: dict[str, Any] = {
            "HTTP_AUTHORIZATION": f"Bearer {self.token}",
            "HTTP_X_REQUEST_ID": rid or f"req-{next(_counter):08d}",
        }
        extra.update(headers)
        payload = json.dumps(body) if body is not None and not isinstance(body, bytes) else body
        content_type = extra.pop("content_type", "application/json")
        return self.client.generic(
            method, f"/api/v1/{path}", payload or b"", content_type=content_type, **extra
        )

    def test_it_refuses_a_missing_or_revoked_token(self) -> None:
        self.assertEqual(
            self.client.post("/api/v1/alarms/", "{}", content_type="application/json").status_code,
            401,
        )
        revoke_device(device=self.device, by=self.dana)
        response = self.call("POST", "alarms/", {})
        self.assertEqual(
            (response.status_code, response.json()["error"]["code"]), (401, "unauthorized")
        )

    def test_it_runs_a_visit_from_start_to_check_out(self) -> None:
        started = self.call(
            "POST",
            "visits/",
            {
                "address": "4 Oak Ave",
                "expected_minutes": 20,
                "hazards": ["dog"],
                "student_id": "S1",
            },
        )
        self.assertEqual(started.status_code, 201, started.content)
        pk = started.json()["id"]
        self.assertEqual(self.call("POST", f"visits/{pk}/check-in", {}).status_code, 200)
        self.assertEqual(
            self.call("POST", f"visits/{pk}/extend", {"minutes": 10}).json()["status"], "active"
        )
        self.assertEqual(
            self.call("POST", f"visits/{pk}/check-out", {"pin": PIN}).json()["status"],
            "checked_out",
        )

    def test_it_answers_a_duress_check_out_exactly_like_a_normal_one(self) -> None:
        pk = self.call("POST", "visits/", {"address": "4 Oak Ave", "expected_minutes": 20}).json()[
            "id"
        ]
        response = self.call("POST", f"visits/{pk}/check-out", {"pin": DURESS})
        self.assertEqual(response.json(), {"id": pk, "status": "checked_out"})
        self.assertTrue(Alarm.objects.filter(kind="duress", silent=True).exists())

    def test_it_raises_a_red_alert_and_refuses_a_replay(self) -> None:
        body = {"kind": "red_alert", "lat": 40.7, "lon": -74.0, "accuracy": 8}
        first = self.call("POST", "alarms/", body, rid="alert-0001")
        again = self.call("POST", "alarms/", body, rid="alert-0001")
        self.assertEqual(first.status_code, 201)
        self.assertEqual(
            (again.status_code, again.json()["alarm_id"]), (409, first.json()["alarm_id"])
        )
        self.assertEqual(Alarm.objects.count(), 1)

    def test_it_rejects_bad_input_with_clear_errors(self) -> None:
        cases = [
            ("POST", "alarms/", {"kind": "party"}, 400, "invalid"),
            ("POST", "alarms/", {"lat": 91, "lon": 0}, 400, "invalid"),
            ("POST", "alarms/", {"lat": 40}, 400, "invalid"),
            ("POST", "alarms/", {"surprise": 1}, 400, "unknown_field"),
            ("POST", "alarms/", {"at": "yesterday"}, 400, "invalid"),
            ("POST", "visits/", {"address": "", "expected_minutes": 5}, 400, "missing"),
            ("POST", "visits/", {"address": "x", "expected_minutes": "5"}, 400, "invalid"),
            (
                "POST",
                "visits/",
                {"address": "x", "expected_minutes": 5, "student_id": "S3"},
                400,
                "invalid",
            ),
            ("POST", "positions/", {"positions": []}, 400, "invalid"),
            ("POST", "visits/999/check-in", {}, 404, "not_found"),
            ("GET", "alarms/", None, 405, "method"),
        ]
        for method, path, body, status, code in cases:
            response = self.call(method, path, body)
            self.assertEqual(
                (response.status_code, response.json()["error"]["code"]),
                (status, code),
                (path, body),
            )
        self.assertEqual(
            self.call("POST", "alarms/", b"{not json").json()["error"]["code"], "invalid_json"
        )
        self.assertEqual(self.call("POST", "alarms/", b"[1]").status_code, 400)
        self.assertEqual(self.call("POST", "alarms/", b"x" * 20000).status_code, 413)
        self.assertEqual(
            self.call("POST", "alarms/", {}, rid="short").json()["error"]["code"], "request_id"
        )
        self.assertFalse(Alarm.objects.exists())

    def test_it_does_not_spend_a_request_id_on_a_refused_request(self) -> None:
        self.call("POST", "alarms/", {"kind": "party"}, rid="retry-0001")
        self.assertEqual(
            self.call("POST", "alarms/", {"kind": "red_alert"}, rid="retry-0001").status_code, 201
        )

    def test_it_records_positions(self) -> None:
        fixes = [
            {"lat": 40.7, "lon": -74.0, "battery": 50},
            {"lat": 40.71, "lon": -74.01, "battery": 10},
        ]
        self.assertEqual(
            self.call("POST", "positions/", {"positions": fixes}).json(), {"stored": 2}
        )
        self.device.refresh_from_db()
        self.assertEqual((Position.objects.count(), self.device.low_battery), (2, True))

    def _chunk(self, alarm_id: int, index: int, data: bytes, sha: str | None = None) -> Any:
        return self.call(
            "PUT",
            f"alarms/{alarm_id}/audio/{index}",
            data,
            content_type="audio/webm",
            HTTP_X_CHUNK_SHA256=sha or hashlib.sha256(data).hexdigest(),
        )

    def test_it_takes_audio_chunks_in_order_and_resumes(self) -> None:
        alarm_id = self.call("POST", "alarms/", {}).json()["alarm_id"]
        self.assertEqual(self._chunk(alarm_id, 0, b"first").status_code, 201)
        self.assertEqual(self._chunk(alarm_id, 0, b"first").status_code, 200)  # retry
        out_of_order = self._chunk(alarm_id, 2, b"third")
        self.assertEqual(
            (out_of_order.status_code, out_of_order.json()["error"]["expected"]), (409, 1)
        )
        self.assertEqual(self._chunk(alarm_id, 1, b"x", sha="abc").status_code, 400)
        self.assertEqual(self.call("GET", f"alarms/{alarm_id}/audio").json(), {"next_index": 1})
        # Bytes that do not match the device's hash are kept and flagged, never dropped.
        wrong = self._chunk(alarm_id, 1, b"second", sha="0" * 64)
        self.assertEqual((wrong.status_code, wrong.json()["hash_mismatch"]), (201, True))
        flagged = AudioChunk.objects.get(index=1)
        self.assertEqual(
            (flagged.sha256, flagged.device_sha256, flagged.hash_mismatch),
            (hashlib.sha256(b"second").hexdigest(), "0" * 64, True),
        )
        received = CustodyEvent.objects.get(chunk=flagged, kind="received")
        self.assertEqual(received.detail, {"hash_mismatch": True, "device_sha256": "0" * 64})
        self.assertFalse(AudioChunk.objects.get(index=0).hash_mismatch)

    def test_it_refuses_another_officers_alarm(self) -> None:
        from django.utils import timezone

        from attend.safety.actions import raise_alarm

        other = raise_alarm(officer=self.omar, kind="red_alert", source="app", at=timezone.now())
        self.assertEqual(self._chunk(other.pk, 0, b"x").status_code, 404)
        self.assertEqual(
            self.call("POST", f"alarms/{other.pk}/cancel", {"pin": PIN}).status_code, 404
        )

    def test_it_cancels_with_the_pin(self) -> None:
        alarm_id = self.call("POST", "alarms/", {}).json()["alarm_id"]
        self.assertEqual(
            self.call("POST", f"alarms/{alarm_id}/cancel", {"pin": "0000"}).status_code, 400
        )
        self.assertEqual(
            self.call("POST", f"alarms/{alarm_id}/cancel", {"pin": PIN}).json()["status"],
            "cancelled",
        )
        self.assertEqual(Alarm.objects.get().resolution, "cancelled_by_officer")

    def test_it_stores_offline_notes(self) -> None:
        response = self.call(
            "POST", "notes/", {"text": "Neighbour says family moved", "at": "2026-03-02T10:00:00Z"}
        )
        self.assertEqual(response.status_code, 201)

    def test_it_describes_every_route_in_openapi(self) -> None:
        resolver = get_resolver()
        routes: dict[str, set[str]] = {}
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver) and pattern.namespace == "devices":
                for p in pattern.url_patterns:
                    assert isinstance(p, URLPattern)
                    path = "/" + re.sub(r"<\w+:(\w+)>", r"{\1}", str(p.pattern))
                    routes[path] = {m.lower() for m in getattr(p.callback, "methods", ["GET"])}
        documented = {
            path: {m for m in ops if m in ("get", "post", "put", "delete")}
            for path, ops in SCHEMA["paths"].items()
        }
        self.assertEqual(documented, routes)
        self.assertEqual(self.client.get("/api/v1/openapi.json").json()["openapi"], "3.0.3")
        self.assertTrue(Visit.objects.count() == 0)
