"""The API addresses a client is given: each one's channel and stubs, and how they are written."""

from __future__ import annotations

from typing import Any

import grpc

from stigmer.api.v1 import stigmer_pb2_grpc as pb_grpc

STANDING = {
    grpc.ChannelConnectivity.READY: 0,
    grpc.ChannelConnectivity.IDLE: 0,
    grpc.ChannelConnectivity.CONNECTING: 1,
}


class Endpoint:
    """One API address: its channel, and the services' stubs over it."""

    def __init__(
        self, address: str, credentials: grpc.ChannelCredentials | None, options: list[Any]
    ) -> None:
        self.address = address
        if credentials is not None:
            self.channel = grpc.aio.secure_channel(address, credentials, options=options)
        else:
            self.channel = grpc.aio.insecure_channel(address, options=options)
        self.definitions = pb_grpc.DefinitionServiceStub(self.channel)
        self.executions = pb_grpc.ExecutionServiceStub(self.channel)
        self.events = pb_grpc.EventServiceStub(self.channel)
        self.workers = pb_grpc.WorkerServiceStub(self.channel)

    @property
    def standing(self) -> int:
        """0 connected or idle, 1 still connecting (a silent machine can hold a connect for
        20 s), 2 failing: a client tries its endpoints in this order."""
        return STANDING.get(self.channel.get_state(try_to_connect=False), 2)


def split_addresses(address: str) -> list[str]:
    """`host:port`, or several separated by commas; an empty one is refused by position."""
    parts = [part.strip() for part in address.split(",")]
    for position, part in enumerate(parts, 1):
        if not part:
            raise ValueError(
                f"API address {address!r}: entry {position} is empty; give host:port, or "
                "several separated by commas"
            )
    return parts


def host_of(address: str) -> str:
    """The host of `host:port`, `[v6]:port` or a bare host."""
    if address.startswith("["):
        return address[1 : address.index("]")]
    return address.rsplit(":", 1)[0] if address.count(":") == 1 else address
