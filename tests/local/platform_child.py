"""A ``stigmer server`` stand-in for supervisor tests: the real supervisor, a tiny component.

Run as a script; settings come from ``STIGMER_*`` variables. ``CHILD_FAIL_START=1`` makes
the component fail to start; ``CHILD_HANG_START=1`` makes its start never finish.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence

from stigmer.config import Settings, load_settings
from stigmer.local.supervisor import serve


class EchoComponent:
    """Listens on the API port, as the real API would, so port and summary are real."""

    name = "API"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server: asyncio.Server | None = None

    def summary(self) -> Sequence[tuple[str, str]]:
        return [("API", self.settings.api_bind), ("Echo", self.settings.temporal_target)]

    async def start(self) -> None:
        if os.environ.get("CHILD_FAIL_START") == "1":
            raise RuntimeError("echo refused to start")
        if os.environ.get("CHILD_HANG_START") == "1":
            print("echo starting", flush=True)
            await asyncio.Event().wait()
        self.server = await asyncio.start_server(
            lambda _r, w: w.close(), self.settings.host, self.settings.port
        )

    async def stop(self) -> None:
        print("echo stopped", flush=True)
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


if __name__ == "__main__":
    sys.exit(serve(load_settings(), components=lambda settings: [EchoComponent(settings)]))
