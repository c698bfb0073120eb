"""Results over the size budget: stored apart, and the status points at them.

Every path that ends an execution with a result goes through here — an agent's ending, a
workflow's output, an operator's Complete — so a large result never bloats the status
that every Watch sends, and it is written in the same transaction as the ending: an
execution that has ended keeps the result it ended with.
"""

from __future__ import annotations

import json

from google.protobuf import json_format
from google.protobuf.struct_pb2 import Value

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.store.results import StoredResult


def result_ref(execution_id: str) -> str:
    return f"executions/{execution_id}/result"


def size_of(output: str, structured: Value | None) -> int:
    value = json_format.MessageToDict(structured) if structured is not None else None
    return len(output.encode()) + len(json.dumps(value).encode())


def split_large(report: pb.EndingReport, budget: int) -> StoredResult | None:
    """Move a result over `budget` bytes out of the report; what to store apart, if any."""
    structured = report.structured if report.HasField("structured") else None
    if size_of(report.output, structured) <= budget:
        return None
    stored = StoredResult(
        report.output, json_format.MessageToDict(structured) if structured is not None else None
    )
    report.output = ""
    report.ClearField("structured")
    report.result_ref = result_ref(report.id)
    return stored
