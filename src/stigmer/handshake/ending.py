"""How an execution ended, as its workflow builds it and the API records it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from google.protobuf import json_format

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.contract import problems
from stigmer.contract.inputs import AgentResult, Ending


def completed(execution_id: str, result: AgentResult) -> Ending:
    return Ending(
        execution_id,
        "COMPLETED",
        output=result.output,
        structured=result.structured,
        has_structured=result.has_structured,
        result_ref=result.result_ref,
        usage=result.usage,
        messages=list(result.messages),
        todos=result.todos,
        attempt=result.attempt,
    )


def completed_with(execution_id: str, output: Any) -> Ending:
    """A workflow's end: its output is the structured result."""
    return Ending(execution_id, "COMPLETED", structured=output, has_structured=True)


def failed(execution_id: str, problem: problems.Problem) -> Ending:
    return Ending(execution_id, "FAILED", error=problem.to_dict())


def cancelled(execution_id: str, detail: str) -> Ending:
    problem = problems.Problem.of(problems.CANCELLED, detail, title="Execution cancelled")
    return Ending(execution_id, "CANCELLED", error=problem.to_dict())


def timed_out(execution_id: str, deadline_seconds: float) -> Ending:
    problem = problems.Problem.of(
        problems.TIMEOUT,
        f"the execution's deadline of {deadline_seconds:g}s passed",
        title="Execution timed out",
    )
    return Ending(execution_id, "FAILED", error=problem.to_dict())


def problem_of(ending: Ending) -> problems.Problem:
    return problems.Problem.from_dict(ending.error or {})


def kept(ending: Ending) -> Ending:
    """The ending a workflow returns once the API has it: without the result it recorded."""
    return replace(
        ending,
        output="",
        structured=None,
        has_structured=False,
        messages=[],
        todos=None,
        recorded=True,
    )


def report_of(ending: Ending) -> pb.EndingReport:
    """The API's form of an ending. A problem is normalised on the way (a status outside
    100-599 falls back to its type's), so no value can make the report unbuildable."""
    report = pb.EndingReport(
        id=ending.execution_id,
        phase=pb.Phase.Value(ending.phase),
        output=ending.output,
        result_ref=ending.result_ref,
        attempt=ending.attempt,
    )
    if ending.error:
        problem = problems.Problem.from_dict(ending.error)
        report.error.CopyFrom(pb.ExecutionError(**problem.to_dict()))
    if ending.has_structured:
        json_format.ParseDict(ending.structured, report.structured)
    if ending.usage:
        report.usage.CopyFrom(pb.Usage(**ending.usage))
    for message in ending.messages:
        json_format.ParseDict(message, report.messages.add())
    if ending.todos is not None:
        for todo in ending.todos:
            json_format.ParseDict(todo, report.todos.add())
        report.replace_todos = True
    return report
