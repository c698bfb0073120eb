"""An agent's progress leaves in reports of bounded size: many messages that would make one
report over the API's message limit go in several, in order; one message over the bound
goes alone (and is refused for its size by the client, never retried)."""

from __future__ import annotations

from stigmer.agents.progress import _Batch
from stigmer.api.v1 import stigmer_pb2 as pb


def batch_of(*sizes: int) -> _Batch:
    batch = _Batch()
    for number, size in enumerate(sizes):
        batch.messages.append(pb.AgentMessage(role="assistant", content=f"{number}:" + "m" * size))
    batch.todos = [pb.Todo(content="write", status="pending")]
    batch.usage = pb.Usage(input_tokens=3)
    batch.dropped = 2
    return batch


def numbers(batch: _Batch) -> list[str]:
    return [message.content.partition(":")[0] for message in batch.messages]


def test_messages_go_in_reports_of_at_most_the_budget_in_order() -> None:
    first, rest = batch_of(400, 400, 400, 400).split(1000)
    assert numbers(first) == ["0", "1"] and numbers(rest) == ["2", "3"]
    assert sum(message.ByteSize() for message in first.messages) <= 1000
    assert first.todos and first.usage and first.dropped == 2, "the rest goes with the first"
    assert rest.todos is None and rest.usage is None and rest.dropped == 0
    second, last = rest.split(1000)
    assert numbers(second) == ["2", "3"] and last.empty()


def test_a_message_over_the_budget_goes_alone() -> None:
    first, rest = batch_of(5000, 10).split(1000)
    assert numbers(first) == ["0"] and numbers(rest) == ["1"]


def test_a_batch_without_messages_keeps_its_todos_and_usage() -> None:
    batch = batch_of()
    first, rest = batch.split(1000)
    assert not first.messages and first.todos and first.usage and not first.empty()
    assert rest.empty()
