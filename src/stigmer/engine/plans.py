"""What the interpreter works out once per run about each task list and each task.

A loop runs the same tasks again and again: their names, pointers, parsed models and data
flow are worked out on the first run of each and kept, by the identity of their object in
the document (which each plan holds, so that the identity stays its own).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import BaseModel, ValidationError

from stigmer.contract.problems import CONFIGURATION, Fault, Problem
from stigmer.engine import registry
from stigmer.engine.pointers import json_pointer
from stigmer.engine.tasktype import TaskType, describe, task_kind


@dataclasses.dataclass(frozen=True)
class TaskPlan:
    task: dict[str, Any]
    kind: str
    type: TaskType[Any]
    model: BaseModel
    then: str
    plain_input: bool
    """No `input` (schema or `from`): the task takes its raw input as it is."""
    plain_output: bool
    """No `output` nor `export`: its output is its raw output and `$context` stays."""


@dataclasses.dataclass(frozen=True)
class ListPlan:
    tasks: list[Any]
    items: list[tuple[str, Any]]
    pointers: list[str]
    names: dict[str, int]
    """The index of each task by its name, for `then`."""


class Plans:
    """The plans of one run."""

    def __init__(self) -> None:
        self.lists: dict[tuple[int, str], ListPlan] = {}
        self.tasks: dict[int, TaskPlan] = {}

    def of_list(self, tasks: list[Any], pointer: str) -> ListPlan:
        """The list's tasks, their pointers under `pointer` and their indexes by name."""
        key = (id(tasks), pointer)
        found = self.lists.get(key)
        if found is None:
            items = [next(iter(item.items())) for item in tasks]
            found = self.lists[key] = ListPlan(
                tasks,
                items,
                [
                    f"{pointer}/{index}{json_pointer([name])}"
                    for index, (name, _) in enumerate(items)
                ],
                {name: index for index, (name, _) in enumerate(items)},
            )
        return found

    def of_task(self, task: dict[str, Any], pointer: str) -> TaskPlan:
        """The task's kind, its type, the task parsed into its model and its data flow;
        a configuration fault when no type takes it or it does not fit its type."""
        found = self.tasks.get(id(task))
        if found is not None:
            return found
        kind = task_kind(task)
        task_type = registry.find(task)
        if kind is None or task_type is None:
            raise Fault(
                Problem.of(
                    CONFIGURATION,
                    f"task type {describe(kind, task) if kind else 'unknown'} is not "
                    "supported by this engine yet",
                    instance=pointer,
                )
            )
        try:
            found = TaskPlan(
                task,
                kind,
                task_type,
                task_type.parse(task),
                str(task.get("then", "continue")),
                plain_input=not task.get("input"),
                plain_output=not task.get("output") and not task.get("export"),
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            where = "/".join(str(part) for part in first["loc"])
            raise Fault(
                Problem.of(
                    CONFIGURATION,
                    f"the task does not fit {task_type.name}: {where}: {first['msg']}",
                    instance=pointer,
                )
            ) from None
        self.tasks[id(task)] = found
        return found
