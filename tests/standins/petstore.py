"""A loopback stand-in for the public services the DSL's examples and CTK call.

One server answers what `ctk/features/call.feature` expects from petstore.swagger.io and
httpbin.org, so a scenario runs offline once their base URL is replaced by this one:

    with running_petstore() as base:       # e.g. "http://127.0.0.1:40123"
        uri = scenario_uri.replace("https://petstore.swagger.io", base)
                          .replace("https://httpbin.org", base)

Routes:
- `GET /v2/pet/findByStatus?status=S` -> the pets with status S (JSON list)
- `GET /v2/pet/{id}` -> the pet, or 404
- `POST /v2/pet` -> the pet sent, with an id (201)
- `GET /v2/swagger.json` -> a Swagger 2.0 document of those operations (`findPetsByStatus`,
  `getPetById`, `addPet`); it names no host, so its calls go to this server
- `GET /basic-auth/{user}/{password}` -> 200 with basic credentials that match, else 401
- `GET /bearer` -> 200 with any bearer token, else 401
- `GET /status/{code}` -> an empty answer with that status
- `GET /redirect/{n}` -> a 302 to `/anything`
- any method `/anything...` -> the request echoed: method, path, args, headers, json, data
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.listening import serving

PETS = [
    {"id": 1, "name": "milou", "status": "available", "category": {"id": 1, "name": "dogs"}},
    {"id": 2, "name": "garfield", "status": "pending", "category": {"id": 2, "name": "cats"}},
    {"id": 3, "name": "rantanplan", "status": "available", "category": {"id": 1, "name": "dogs"}},
    {"id": 4, "name": "felix", "status": "sold", "category": {"id": 2, "name": "cats"}},
]

_PET_SCHEMA = {"$ref": "#/definitions/Pet"}

SWAGGER: dict[str, Any] = {
    "swagger": "2.0",
    "info": {"title": "Swagger Petstore (stand-in)", "version": "1.0.0"},
    "basePath": "/v2",
    "schemes": ["http"],
    "paths": {
        "/pet": {
            "post": {
                "operationId": "addPet",
                "consumes": ["application/json"],
                "produces": ["application/json"],
                "parameters": [
                    {"in": "body", "name": "body", "required": True, "schema": _PET_SCHEMA}
                ],
                "responses": {"201": {"description": "created", "schema": _PET_SCHEMA}},
            }
        },
        "/pet/findByStatus": {
            "get": {
                "operationId": "findPetsByStatus",
                "produces": ["application/json"],
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "required": True,
                        "type": "array",
                        "items": {"type": "string", "enum": ["available", "pending", "sold"]},
                        "collectionFormat": "multi",
                    }
                ],
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/pet/{petId}": {
            "get": {
                "operationId": "getPetById",
                "produces": ["application/json"],
                "parameters": [
                    {"name": "petId", "in": "path", "required": True, "type": "integer"}
                ],
                "responses": {"200": {"description": "ok", "schema": _PET_SCHEMA}},
            }
        },
    },
    "definitions": {
        "Pet": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "status": {"type": "string"},
            },
        }
    },
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read answers, not access logs."""

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _route(self) -> None:
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        query = parse_qs(url.query)
        body = self._body()
        if parts[:1] == ["anything"]:
            text = body.decode(errors="replace")
            try:
                parsed = json.loads(text) if text else None
            except ValueError:
                parsed = None
            return self._send(
                200,
                {
                    "method": self.command,
                    "path": url.path,
                    "args": {k: v if len(v) > 1 else v[0] for k, v in query.items()},
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "json": parsed,
                    "data": text,
                },
            )
        if parts == ["v2", "swagger.json"]:
            return self._send(200, SWAGGER)
        if parts == ["v2", "pet", "findByStatus"]:
            wanted = set(query.get("status", []))
            return self._send(200, [p for p in PETS if p["status"] in wanted])
        if parts[:2] == ["v2", "pet"] and len(parts) == 3 and self.command == "GET":
            pet = next((p for p in PETS if str(p["id"]) == parts[2]), None)
            if pet is None:
                return self._send(404, {"code": 1, "type": "error", "message": "Pet not found"})
            return self._send(200, pet)
        if parts == ["v2", "pet"] and self.command == "POST":
            return self._send(201, {"id": 100, **json.loads(body or b"{}")})
        if parts[:1] == ["basic-auth"] and len(parts) == 3:
            expected = base64.b64encode(f"{parts[1]}:{parts[2]}".encode()).decode()
            if self.headers.get("Authorization") == f"Basic {expected}":
                return self._send(200, {"authenticated": True, "user": parts[1]})
            return self._send(401, None, {"WWW-Authenticate": 'Basic realm="Fake Realm"'})
        if parts == ["bearer"]:
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Bearer ") and auth[7:]:
                return self._send(200, {"authenticated": True, "token": auth[7:]})
            return self._send(401, None, {"WWW-Authenticate": "Bearer"})
        if parts[:1] == ["status"] and len(parts) == 2:
            return self._send(int(parts[1]))
        if parts[:1] == ["redirect"]:
            return self._send(302, None, {"Location": "/anything/redirected"})
        return self._send(404, {"message": f"no route {url.path}"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _route


@contextmanager
def running_petstore() -> Iterator[str]:
    """Serve the stand-in on a free loopback port; yields its base URL."""
    with serving(_Handler, "petstore") as url:
        yield url
