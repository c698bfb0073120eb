"""The phases of an execution that every part reads the same way."""

from __future__ import annotations

from stigmer.api.v1 import stigmer_pb2 as pb

TERMINAL = frozenset({pb.COMPLETED, pb.FAILED, pb.CANCELLED})
"""An execution in one of these has ended, for good: its outcome never changes."""
OPEN = frozenset({pb.PENDING, pb.IN_PROGRESS})
TERMINAL_NAMES = frozenset(pb.Phase.Name(phase) for phase in TERMINAL)
OPEN_NAMES = frozenset(pb.Phase.Name(phase) for phase in OPEN)
