"""Decoded messages are kept by a key naming their content, within a byte budget."""

from __future__ import annotations

from google.protobuf import json_format

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.store.decoded import LARGEST_KEPT, Decoded


def _status(output: str) -> dict[str, object]:
    return json_format.MessageToDict(
        pb.ExecutionStatus(phase=pb.COMPLETED, output=output), preserving_proto_field_name=True
    )


def test_a_kept_message_is_the_one_first_decoded_under_its_key() -> None:
    decoded = Decoded()
    first, again = pb.ExecutionStatus(), pb.ExecutionStatus()
    decoded.merge(("e1", 1), _status("one"), first)
    # The key names the content: what is stored under it is not read again.
    decoded.merge(("e1", 1), _status("something else"), again)
    assert again == first and again.output == "one"
    other = pb.ExecutionStatus()
    decoded.merge(("e1", 2), _status("two"), other)
    assert other.output == "two"


def test_the_oldest_go_first_when_the_budget_is_spent() -> None:
    decoded = Decoded(budget=300)
    for revision in range(10):
        decoded.merge(("e", revision), _status("x" * 50), pb.ExecutionStatus())
    assert decoded.size <= 300
    assert ("e", 9) in decoded.kept and ("e", 0) not in decoded.kept


def test_a_message_too_large_is_decoded_each_time() -> None:
    decoded = Decoded()
    large = pb.ExecutionStatus()
    decoded.merge("big", _status("y" * (LARGEST_KEPT + 1)), large)
    assert large.output.startswith("y") and "big" not in decoded.kept
