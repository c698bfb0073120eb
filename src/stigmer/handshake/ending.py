"""How an execution ended, and recording it: the first half of every callback delivery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
import structlog
from google.protobuf import json_format

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import ApiError, Client
from stigmer.observability.metrics import observe_finished

log = structlog.get_logger("stigmer.handshake")


@dataclass
class Ending:
    execution_id: str
    phase: str
    """COMPLETED, FAILED or CANCELLED."""
    error: dict[str, Any] | None = None
    output: Any = None
    """A workflow's output; agents report theirs while they run."""
    has_output: bool = False


async def record_ending(api: Client, ending: Ending) -> tuple[pb.Execution, bool]:
    """Record the end; the execution as it now is, and False when someone else (an
    operator) had already finished it, whose ending then stands."""
    patch = pb.StatusPatch(phase=pb.Phase.Value(ending.phase))
    if ending.error:
        patch.error.CopyFrom(pb.ExecutionError(**ending.error))
    if ending.has_output:
        json_format.ParseDict(ending.output, patch.structured)
    try:
        execution = await api.update_status(ending.execution_id, patch)
    except ApiError as exc:
        if exc.code != grpc.StatusCode.FAILED_PRECONDITION:
            raise
        return await api.execution(ending.execution_id), False
    observe_finished(execution)
    callback = execution.status.callback
    log.info(
        "execution finished",
        phase=ending.phase,
        execution_id=execution.id,
        workflow_id=callback.workflow_id or None,
        activity_id=callback.activity_id or None,
        token_preview=callback.token_preview or None,
    )
    return execution, True
