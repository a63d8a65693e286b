"""The OpenAPI 3 description of `/api/v1/`, written by hand; a test checks it against the routes."""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _op(
    summary: str, ok: str, body: str | None = None, ok_status: str = "200", **extra: Any
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "parameters": [{"$ref": "#/components/parameters/RequestId"}] if body else [],
        "responses": {
            ok_status: {"description": "OK", "content": _json(_ref(ok))},
            "400": {"$ref": "#/components/responses/Error"},
            "401": {"$ref": "#/components/responses/Error"},
            "404": {"$ref": "#/components/responses/Error"},
            "409": {"$ref": "#/components/responses/Error"},
        },
    }
    if body:
        op["requestBody"] = {"required": True, "content": _json(_ref(body))}
    op.update(extra)
    return op


PK = {"name": "pk", "in": "path", "required": True, "schema": {"type": "integer"}}
INDEX = {
    "name": "index",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0},
}
NUM = {"type": "number"}

SCHEMA: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "Attend officer app API",
        "version": "1",
        "description": "Per-device bearer tokens (revocable). Every write needs a unique "
        "X-Request-Id; "
        'a repeated id gets 409 with the first answer. Errors are {"error": {"code", "message"}}.',
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"device": []}],
    "paths": {
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI document"}},
            }
        },
        "/visits/": {"post": _op("Start a timed visit", "Visit", "VisitStart", "201")},
        "/visits/current": {"get": _op("The open visit, if any", "CurrentVisit")},
        "/visits/{pk}/check-in": {"parameters": [PK], "post": _op("I'm OK", "Visit", "Pin")},
        "/visits/{pk}/extend": {
            "parameters": [PK],
            "post": _op("Extend the visit", "Visit", "Extend"),
        },
        "/visits/{pk}/check-out": {
            "parameters": [PK],
            "post": _op(
                "Check out (the duress PIN answers identically and raises a silent alarm)",
                "CheckedOut",
                "Pin",
            ),
        },
        "/alarms/": {"post": _op("Red Alert", "AlarmRaised", "Alert", "201")},
        "/alarms/{pk}/cancel": {
            "parameters": [PK],
            "post": _op("Cancel with PIN", "AlarmCancelled", "Pin"),
        },
        "/alarms/{pk}/audio": {
            "parameters": [PK],
            "get": _op("Where to resume the upload", "AudioStatus"),
        },
        "/alarms/{pk}/audio/{index}": {
            "parameters": [PK, INDEX],
            "put": {
                "summary": "Upload audio chunk `index` (only the next index is accepted)",
                "parameters": [
                    {"$ref": "#/components/parameters/RequestId"},
                    {
                        "name": "X-Chunk-SHA256",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        t: {"schema": {"type": "string", "format": "binary", "maxLength": 1048576}}
                        for t in ("audio/webm", "audio/ogg", "audio/mp4")
                    },
                },
                "responses": {
                    "201": {"description": "Stored", "content": _json(_ref("AudioChunk"))},
                    "200": {
                        "description": "Already stored (retry)",
                        "content": _json(_ref("AudioChunk")),
                    },
                    "409": {"$ref": "#/components/responses/Error"},
                    "413": {"$ref": "#/components/responses/Error"},
                    "415": {"$ref": "#/components/responses/Error"},
                },
            },
        },
        "/positions/": {"post": _op("Position fixes", "Stored", "Positions", "201")},
        "/notes/": {"post": _op("A note written offline", "Created", "Note", "201")},
    },
    "components": {
        "securitySchemes": {"device": {"type": "http", "scheme": "bearer"}},
        "parameters": {
            "RequestId": {
                "name": "X-Request-Id",
                "in": "header",
                "required": True,
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
            }
        },
        "responses": {"Error": {"description": "Error", "content": _json(_ref("Error"))}},
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                            "field": {"type": "string"},
                        },
                    }
                },
            },
            "VisitStart": {
                "type": "object",
                "additionalProperties": False,
                "required": ["address", "expected_minutes"],
                "properties": {
                    "address": {"type": "string", "maxLength": 300},
                    "expected_minutes": {"type": "integer", "minimum": 1, "maximum": 720},
                    "student_id": {"type": "string"},
                    "expected_people": {"type": "string", "maxLength": 300},
                    "hazards": {"type": "array", "maxItems": 20, "items": {"type": "string"}},
                    "lat": NUM,
                    "lon": NUM,
                    "accuracy": NUM,
                },
            },
            "Visit": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "status": {"type": "string"},
                    "address": {"type": "string"},
                    "hazards": {"type": "array", "items": {"type": "string"}},
                    "expected_end_at": {"type": "string", "format": "date-time", "nullable": True},
                },
            },
            "CurrentVisit": {
                "type": "object",
                "properties": {"visit": {"allOf": [_ref("Visit")], "nullable": True}},
            },
            "CheckedOut": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "status": {"enum": ["checked_out"]}},
            },
            "Pin": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"pin": {"type": "string", "maxLength": 8}},
            },
            "Extend": {
                "type": "object",
                "additionalProperties": False,
                "required": ["minutes"],
                "properties": {
                    "minutes": {"type": "integer", "minimum": 1, "maximum": 240},
                    "pin": {"type": "string"},
                },
            },
            "Alert": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "kind": {"enum": ["red_alert", "medical"]},
                    "lat": NUM,
                    "lon": NUM,
                    "accuracy": NUM,
                    "at": {"type": "string", "format": "date-time"},
                },
            },
            "AlarmRaised": {
                "type": "object",
                "properties": {"alarm_id": {"type": "integer"}, "status": {"type": "string"}},
            },
            "AlarmCancelled": {
                "type": "object",
                "properties": {"alarm_id": {"type": "integer"}, "status": {"enum": ["cancelled"]}},
            },
            "AudioStatus": {"type": "object", "properties": {"next_index": {"type": "integer"}}},
            "AudioChunk": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer"},
                    "sha256": {"type": "string", "description": "SHA-256 of the bytes received"},
                    "hash_mismatch": {
                        "type": "boolean",
                        "description": "The bytes received do not match X-Chunk-SHA256; the "
                        "chunk is kept as received and flagged for the evidence reviewer",
                    },
                    "next_index": {"type": "integer"},
                },
            },
            "Positions": {
                "type": "object",
                "additionalProperties": False,
                "required": ["positions"],
                "properties": {
                    "positions": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 100,
                        "items": {
                            "type": "object",
                            "required": ["lat", "lon"],
                            "additionalProperties": False,
                            "properties": {
                                "lat": NUM,
                                "lon": NUM,
                                "accuracy": NUM,
                                "battery": NUM,
                                "speed": NUM,
                                "at": {"type": "string", "format": "date-time"},
                            },
                        },
                    }
                },
            },
            "Note": {
                "type": "object",
                "additionalProperties": False,
                "required": ["text"],
                "properties": {
                    "text": {"type": "string", "maxLength": 4000},
                    "at": {"type": "string", "format": "date-time"},
                },
            },
            "Stored": {"type": "object", "properties": {"stored": {"type": "integer"}}},
            "Created": {"type": "object", "properties": {"id": {"type": "integer"}}},
        },
    },
}
