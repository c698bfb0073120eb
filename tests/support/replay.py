"""A replayer of the platform's workflows as its workers run them: sandboxed, with the
payload keys that sealed the histories and the guard that refuses what was not sealed."""

from __future__ import annotations

from typing import Any

from temporalio.worker import Replayer

from stigmer.sealing.codec import sealed_data_converter
from stigmer.sealing.guard import SealGuard
from stigmer.sealing.keys import Keyring
from stigmer.workers import sandbox


def replayer(keyring: Keyring, *workflows: type[Any]) -> Replayer:
    return Replayer(
        workflows=list(workflows),
        workflow_runner=sandbox(),
        data_converter=sealed_data_converter(keyring),
        interceptors=[SealGuard()],
    )
