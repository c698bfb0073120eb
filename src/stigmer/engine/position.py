"""Where a run is, so that a long run can continue as new and pick up where it was.

Temporal refuses a run past 51,200 history events, so a run continues as new before
that: when Temporal suggests it, or at its history budget (the execution plan's, from
`STIGMER_ENGINE_HISTORY_BUDGET`, 10,000 events by default). The interpreter keeps
the stack of task lists, tasks and loops it is in; between two tasks it may hand that
stack, with `$context`, to a new run of the same workflow id, which walks back down it:
each list starts from the task it had reached, each `for` from its iteration and items,
and each task it was inside from the input it had, without evaluating its `if` or
`input.from` again.

Only what can be walked back into continues: task lists of `do` and `for` tasks without
a `timeout` or extensions. Inside a `fork`, a `try`, a `listen` or an extension the run
goes on and continues once it is out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from temporalio import workflow

from stigmer.contract.problems import CONFIGURATION, Fault, Problem

RESUMABLE_KINDS = frozenset({"do", "for"})

FrameKind = Literal["list", "task", "loop"]


@dataclass
class Frame:
    """One level of where a run is."""

    kind: FrameKind
    pointer: str
    index: int = 0
    """A list: the task it is at; a loop: the iteration it is at."""
    value: Any = None
    """A list: that task's input; a task: its transformed input; a loop: the iteration's input."""
    items: list[Any] | None = None
    """A loop: the collection it goes through, as evaluated when it started."""
    resumable: bool = True


@dataclass
class Position:
    """What a run hands to its continuation, besides the execution's own parameters."""

    frames: list[Frame]
    context: Any
    started_at: float
    """When the execution's first run started (seconds since the epoch)."""


class ContinueAsNew(BaseException):
    """Raised between two tasks when the run should continue as new (a BaseException, so
    that no task's error handling takes it for a failure)."""

    def __init__(self, position: Position) -> None:
        super().__init__("continue as new")
        self.position = position


@dataclass
class Continuing:
    """When a run continues as new: at Temporal's suggestion or at its history budget."""

    history_budget: int
    asked_at: float | None = None
    answer: bool = False

    def due(self, now: float) -> bool:
        """Whether the run should continue as new, `now` being the workflow time.

        History grows only between workflow activations, and each activation moves the
        workflow clock: while the clock stands still, the last answer holds.
        """
        if now != self.asked_at:
            info = workflow.info()
            self.asked_at = now
            self.answer = (
                info.is_continue_as_new_suggested()
                or info.get_current_history_length() >= self.history_budget
            )
        return self.answer


@dataclass
class Tracker:
    """The stack of frames the run is in; and, in a continued run, the one to walk back."""

    resume: list[Frame] = field(default_factory=list)
    stack: list[Frame] = field(default_factory=list)

    def enter(self, frame: Frame) -> Frame:
        self.stack.append(frame)
        return frame

    def leave(self, frame: Frame) -> None:
        """Remove `frame`; fork branches interleave, so it is not always the last one."""
        if self.stack and self.stack[-1] is frame:
            self.stack.pop()
            return
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index] is frame:
                del self.stack[index]
                return

    def resumed(self, kind: FrameKind, pointer: str) -> Frame | None:
        """The frame a continued run walks back into here; None when it is not resuming."""
        if not self.resume:
            return None
        frame = self.resume[0]
        if frame.kind != kind or frame.pointer != pointer:
            raise Fault(
                Problem.of(
                    CONFIGURATION,
                    f"the continued run cannot find its place: expected {frame.kind} "
                    f"{frame.pointer!r}, reached {kind} {pointer!r}",
                    instance=pointer,
                )
            )
        del self.resume[0]
        return frame

    def snapshot(self) -> list[Frame] | None:
        """The frames to hand over, or None while the run is somewhere it cannot resume."""
        if not all(frame.resumable for frame in self.stack):
            return None
        return [
            Frame(frame.kind, frame.pointer, frame.index, frame.value, frame.items)
            for frame in self.stack
        ]
