"""The names stuck calls are counted and shown under, one per reason."""

from __future__ import annotations

from stigmer.api.v1 import stigmer_pb2 as pb

REASONS = {
    pb.STUCK_PENDING: "pending",
    pb.STUCK_IN_PROGRESS: "in_progress",
    pb.STUCK_CALLBACK_WAITING: "callback_waiting",
    pb.STUCK_CALLBACK_FAILED: "callback_failed",
}


def reason_label(reason: pb.StuckReason.ValueType) -> str:
    return REASONS.get(reason, "unknown")
