"""The official Conformance Test Kit: every scenario of the spec's .feature files, unchanged,
run by the engine on Temporal. Steps follow ctk/README.md.

Scenarios that call petstore.swagger.io or httpbin.org are run against a loopback stand-in
serving the same responses (tests/standins/petstore.py): the step puts the stand-in's base
URL in place of those hosts before the document runs, and refuses any other remote host.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.testing import WorkflowEnvironment

from stigmer.contract.inputs import WorkflowRunInput
from stigmer.contract.problems import from_application_error
from stigmer.engine.loader import load_text
from stigmer.engine.validation import parse_workflow
from tests.support.ctk_run import CTK_RUN, EVENTS, TaskEvent
from tests.support.spec import spec_path

FEATURES = spec_path("ctk", "features")
"""The kit's own files, run as they are: no copy of a scenario lives in this repository."""

scenarios(str(FEATURES))

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class Run:
    """What a scenario arranged, and what happened when it ran."""

    definition: str = ""
    input: Any = None
    status: str = ""
    """completed, faulted or cancelled."""
    output: Any = None
    error: dict[str, Any] = field(default_factory=dict)
    events: list[TaskEvent] = field(default_factory=list)

    def started(self) -> list[str]:
        """Task names in the order they started."""
        return [event.name for event in self.events if event.status == "running"]

    def last_event(self, task: str) -> TaskEvent:
        ended = [e for e in self.events if e.name == task and e.status != "running"]
        assert ended, f"task {task} never ended; events: {self.events}"
        return ended[-1]


def _yaml(text: str) -> Any:
    return load_text(text, source="<scenario>").data


def _at(value: Any, path: str) -> Any:
    for part in path.split("."):
        assert isinstance(value, dict) and part in value, f"no {path!r} in {value!r}"
        value = value[part]
    return value


@pytest.fixture
def run() -> Run:
    return Run()


@given("a workflow with definition:")
def define(run: Run, docstring: str) -> None:
    run.definition = docstring


@given("given the workflow input is:")
def give_input(run: Run, docstring: str) -> None:
    run.input = _yaml(docstring)


PUBLIC_SERVICES = ("https://petstore.swagger.io", "https://httpbin.org")


@when("the workflow is executed")
def execute(
    run: Run,
    temporal_env: WorkflowEnvironment,
    ctk_queue: str,
    public_services: str,
    session_loop: asyncio.AbstractEventLoop,
) -> None:
    for service in PUBLIC_SERVICES:
        run.definition = run.definition.replace(service, public_services)
    session_loop.run_until_complete(_execute(run, temporal_env, ctk_queue))


def _remote_hosts(node: Any) -> set[str]:
    """Hosts other than loopback that the document's endpoints name."""
    if isinstance(node, list):
        return set().union(*map(_remote_hosts, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    hosts = set().union(*map(_remote_hosts, node.values())) if node else set()
    for key in ("endpoint", "uri"):
        target = urlsplit(node[key]) if isinstance(node.get(key), str) else None
        if target and target.hostname and target.hostname not in LOOPBACK:
            hosts.add(target.hostname)
    return hosts


async def _execute(run: Run, env: WorkflowEnvironment, queue: str) -> None:
    # As the server does on apply: a document the engine rejects never runs.
    document = parse_workflow(run.definition, source="<scenario>")
    remote = _remote_hosts(document)
    assert not remote, f"the scenario calls {sorted(remote)}; tests never leave loopback"
    execution_id = str(uuid.uuid4())
    try:
        run.output = await env.client.execute_workflow(
            CTK_RUN,
            WorkflowRunInput(execution_id=execution_id, document=document, input=run.input),
            id=f"workflow-execution/{execution_id}",
            task_queue=queue,
        )
        run.status = "completed"
    except WorkflowFailureError as exc:
        if isinstance(exc.cause, CancelledError):
            run.status = "cancelled"
        else:
            assert isinstance(exc.cause, ApplicationError), exc.cause
            run.status = "faulted"
            run.error = from_application_error(exc.cause).to_dict()
    run.events = EVENTS.pop(execution_id, [])


@then("the workflow should complete")
def completes(run: Run) -> None:
    assert run.status == "completed", run.error


@then("the workflow should complete with output:")
def completes_with(run: Run, docstring: str) -> None:
    assert run.status == "completed", run.error
    assert run.output == _yaml(docstring)


@then("the workflow should fault")
def faults(run: Run) -> None:
    assert run.status == "faulted", run.output


@then("the workflow should fault with error:")
def faults_with(run: Run, docstring: str) -> None:
    assert run.status == "faulted", run.output
    expected = _yaml(docstring)
    assert {key: run.error.get(key) for key in expected} == expected, run.error


@then("the workflow should cancel")
def cancels(run: Run) -> None:
    assert run.status == "cancelled"


@then(parsers.re(r"the workflow output should have properties (?P<paths>.+)"))
def has_properties(run: Run, paths: str) -> None:
    assert run.status == "completed", run.error
    for path in re.findall(r"'([^']+)'", paths):
        _at(run.output, path)


@then(parsers.re(r"the workflow output should have a '(?P<path>[^']+)' property with value:"))
def has_value(run: Run, path: str, docstring: str) -> None:
    assert run.status == "completed", run.error
    assert _at(run.output, path) == _yaml(docstring)


@then(
    parsers.re(
        r"the workflow output should have a '(?P<path>[^']+)' property containing "
        r"(?P<count>\d+) items"
    )
)
def has_items(run: Run, path: str, count: str) -> None:
    assert run.status == "completed", run.error
    assert len(_at(run.output, path)) == int(count)


@then(parsers.re(r"(?P<task>\S+) should run first"))
def runs_first(run: Run, task: str) -> None:
    assert run.started()[:1] == [task], run.started()


@then(parsers.re(r"(?P<task>\S+) should run last"))
def runs_last(run: Run, task: str) -> None:
    assert run.started()[-1:] == [task], run.started()


@then(parsers.re(r"(?P<first>\S+) should run before (?P<second>\S+)"))
def runs_before(run: Run, first: str, second: str) -> None:
    started = run.started()
    assert first in started and second in started, started
    assert started.index(first) < started.index(second), started


@then(parsers.re(r"(?P<second>\S+) should run after (?P<first>\S+)"))
def runs_after(run: Run, first: str, second: str) -> None:
    runs_before(run, first, second)


@then(parsers.re(r"(?P<task>\S+) should (?P<status>complete|fault|cancel)"))
def task_ends(run: Run, task: str, status: str) -> None:
    wanted = {"complete": "completed", "fault": "faulted", "cancel": "cancelled"}[status]
    assert run.last_event(task).status == wanted


@then(parsers.re(r"(?P<task>\S+) should complete with output:"))
def task_completes_with(run: Run, task: str, docstring: str) -> None:
    event = run.last_event(task)
    assert (event.status, event.output) == ("completed", _yaml(docstring))


@then(parsers.re(r"(?P<task>\S+) should fault with error:"))
def task_faults_with(run: Run, task: str, docstring: str) -> None:
    event = run.last_event(task)
    expected = _yaml(docstring)
    assert event.status == "faulted"
    assert {key: event.error.get(key) for key in expected} == expected, event.error
