"""Stand-ins for model providers: a loopback HTTP server speaking their real APIs.

`StandIn` answers OpenAI chat completions (`POST /v1/chat/completions`) and Anthropic
messages (`POST /v1/messages`) with whatever a test's `respond` function returns, in
the providers' own JSON shapes (`OpenAI` and `Anthropic` build them). It records every
request, and notices a client that hangs up before its answer (a cancelled run).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


Respond = Callable[[Request], Reply | Awaitable[Reply]]


class StandIn:
    """An HTTP/1.1 server on 127.0.0.1 with keep-alive, answering through `respond`."""

    def __init__(self, respond: Respond) -> None:
        self.respond = respond
        self.requests: list[Request] = []
        self.hung_up = asyncio.Event()
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1"

    async def __aenter__(self) -> StandIn:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (request := await _read_request(reader)) is not None:
                self.requests.append(request)
                reply = await self._answer(request, reader)
                if reply is None:
                    self.hung_up.set()
                    return
                writer.write(_encode(reply))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            self.hung_up.set()
        finally:
            writer.close()

    async def _answer(self, request: Request, reader: asyncio.StreamReader) -> Reply | None:
        """The reply, or None when the client hung up while it was being made."""

        async def make() -> Reply:
            found = self.respond(request)
            return await found if inspect.isawaitable(found) else found

        answering = asyncio.ensure_future(make())
        hang_up = asyncio.ensure_future(reader.read(1))
        await asyncio.wait([answering, hang_up], return_when=asyncio.FIRST_COMPLETED)
        if answering.done():
            hang_up.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await hang_up  # the reader is free for the next request only once it returns
            return answering.result()
        answering.cancel()
        return None


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    line = await reader.readline()
    if not line:
        return None
    method, path, _ = line.decode().split(" ", 2)
    headers: dict[str, str] = {}
    while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = header.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    raw = await reader.readexactly(int(headers.get("content-length", "0")))
    return Request(method, path, headers, json.loads(raw) if raw else None)


def _encode(reply: Reply) -> bytes:
    body = json.dumps(reply.body).encode()
    head = [
        f"HTTP/1.1 {reply.status} {HTTPStatus(reply.status).phrase}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        *(f"{name}: {value}" for name, value in reply.headers.items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


# ---------------------------------------------------------------- API shapes


class OpenAI:
    """OpenAI chat completions, as OpenAI and compatible servers answer them."""

    @staticmethod
    def text(content: str, *, tokens: tuple[int, int] = (12, 7)) -> Reply:
        return OpenAI._completion({"role": "assistant", "content": content}, "stop", tokens)

    @staticmethod
    def tool_call(
        name: str, arguments: dict[str, Any], *, call_id: str = "call_1", text: str | None = None
    ) -> Reply:
        call = {
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)},
        }
        message = {"role": "assistant", "content": text, "tool_calls": [call]}
        return OpenAI._completion(message, "tool_calls", (20, 9))

    @staticmethod
    def error(status: int, message: str, code: str, **headers: str) -> Reply:
        body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
        return Reply(status, body, {k.replace("_", "-"): v for k, v in headers.items()})

    @staticmethod
    def tool_results(request: Request) -> list[str]:
        return [m["content"] for m in request.body["messages"] if m["role"] == "tool"]

    @staticmethod
    def _completion(message: dict[str, Any], finish: str, tokens: tuple[int, int]) -> Reply:
        return Reply(
            200,
            {
                "id": "chatcmpl-standin",
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": "standin",
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {
                    "prompt_tokens": tokens[0],
                    "completion_tokens": tokens[1],
                    "total_tokens": sum(tokens),
                },
            },
        )


class Anthropic:
    """Anthropic messages, as the Messages API answers them."""

    @staticmethod
    def text(content: str, *, tokens: tuple[int, int] = (12, 7)) -> Reply:
        return Anthropic._message([{"type": "text", "text": content}], "end_turn", tokens)

    @staticmethod
    def tool_call(
        name: str, arguments: dict[str, Any], *, call_id: str = "toolu_1", text: str | None = None
    ) -> Reply:
        content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
        content.append({"type": "tool_use", "id": call_id, "name": name, "input": arguments})
        return Anthropic._message(content, "tool_use", (20, 9))

    @staticmethod
    def error(status: int, message: str, code: str, **headers: str) -> Reply:
        body = {"type": "error", "error": {"type": code, "message": message}}
        return Reply(status, body, {k.replace("_", "-"): v for k, v in headers.items()})

    @staticmethod
    def tool_results(request: Request) -> list[str]:
        found: list[str] = []
        for message in request.body["messages"]:
            if message["role"] == "user" and isinstance(message["content"], list):
                for block in message["content"]:
                    if block.get("type") == "tool_result":
                        content = block["content"]
                        found.append(
                            content
                            if isinstance(content, str)
                            else "".join(c.get("text", "") for c in content)
                        )
        return found

    @staticmethod
    def _message(content: list[dict[str, Any]], stop: str, tokens: tuple[int, int]) -> Reply:
        return Reply(
            200,
            {
                "id": "msg_standin",
                "type": "message",
                "role": "assistant",
                "model": "standin",
                "content": content,
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": {"input_tokens": tokens[0], "output_tokens": tokens[1]},
            },
        )


Dialect = type[OpenAI] | type[Anthropic]
RATE_LIMIT_CODE = {OpenAI: "rate_limit_exceeded", Anthropic: "rate_limit_error"}
AUTH_CODE = {OpenAI: "invalid_api_key", Anthropic: "authentication_error"}
