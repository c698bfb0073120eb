"""`try`: run a task list; a fault the `catch` accepts is handled instead of ending the run.

Catching: the error must equal every field given in `errors.with` (`type`, `status`,
`instance`, `title`, and `details` as the schema spells it or `detail` as the error
does; a standard error type matches whichever spelling of its URI the document uses); then `when` must hold and `exceptWhen` must not. Both conditions (and those of
the retry policy) are evaluated against the error object, which is also bound to `$error`
(or the name `as` gives) there and in `catch.do`.

Handling: with `retry`, the `try` list runs again from its start on the same input while
the policy allows it. When no retry follows, `catch.do` runs on the task's input and its
output is the task's; without `do` the error is swallowed and the output is the input,
except when a retry policy ran out: then the last error faults the task, since the
block was meant to be retried until it succeeded and it did not.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from temporalio import workflow

from stigmer.contract.problems import Fault, canonical_type
from stigmer.engine import expressions as ex
from stigmer.engine.models import TryTask, TryTaskCatch
from stigmer.engine.retries import RetryPolicy, policy_of
from stigmer.engine.tasktype import Checks, TaskScope, TaskType, plain
from stigmer.engine.timeouts import timeout_error, within


async def run(task: TryTask, input: Any, scope: TaskScope) -> Any:
    catch = task.catch
    name = catch.as_ or "error"
    policy = policy_of(
        plain(catch.retry),
        scope.use,
        lambda raw: scope.evaluate(raw, input),
        instance=scope.pointer,
    )
    # Only a retry policy needs the clock, which a loop of `try` tasks would read each time.
    started = workflow.time() if policy is not None else 0.0
    retries = 0
    while True:
        try:
            return await _attempt(task, input, scope, policy)
        except Fault as fault:
            error = fault.problem.to_dict()
            variables = {name: error}
            if not (_matches(catch, error) and _holds(plain(catch), error, scope, variables)):
                raise
            if policy is not None:
                wait = policy.delay_before(retries + 1)
                elapsed = timedelta(seconds=workflow.time() - started)
                # A reusable policy cannot know the `as` name: `$error` is bound for it too.
                if policy.allows(retries + 1, elapsed, wait) and _holds(
                    policy.definition, error, scope, {"error": error, **variables}
                ):
                    retries += 1
                    if wait > timedelta(0):
                        await workflow.sleep(wait)
                    continue
                if catch.do is None:
                    raise
            if catch.do is not None:
                return await scope.run_list(catch.do, input, f"{scope.pointer}/catch/do", variables)
            return input


async def _attempt(task: TryTask, input: Any, scope: TaskScope, policy: RetryPolicy | None) -> Any:
    """One run of the `try` list, bounded by the policy's `limit.attempt.duration`."""
    work = scope.run_list(task.try_, input, f"{scope.pointer}/try")
    if policy is None or policy.attempt_limit is None:
        return await work
    error = timeout_error(
        "an attempt of the try block", policy.attempt_limit, instance=scope.pointer
    )
    return await within(work, policy.attempt_limit, error)


def _matches(catch: TryTaskCatch, error: Mapping[str, Any]) -> bool:
    wanted = plain(catch.errors.with_) if catch.errors and catch.errors.with_ else {}
    return all(
        _same(key, error.get("detail" if key == "details" else key), value)
        for key, value in wanted.items()
    )


def _same(key: str, actual: Any, wanted: Any) -> bool:
    if key == "type" and isinstance(actual, str) and isinstance(wanted, str):
        return canonical_type(actual) == canonical_type(wanted)
    return bool(actual == wanted)


def _holds(
    conditions: Mapping[str, Any],
    error: Mapping[str, Any],
    scope: TaskScope,
    variables: Mapping[str, Any],
) -> bool:
    """`when` holds (or is absent) and `exceptWhen` does not, on the error."""
    args = {**scope.args, **variables}
    evaluator = scope.evaluator
    if "when" in conditions and not evaluator.truthy(
        conditions["when"], error, args, instance=scope.pointer
    ):
        return False
    return "exceptWhen" not in conditions or not evaluator.truthy(
        conditions["exceptWhen"], error, args, instance=scope.pointer
    )


def check(task: TryTask, pointer: str, checks: Checks) -> None:
    checks.task_list(task.try_, f"{pointer}/try")
    catch = task.catch
    name = catch.as_ or "error"
    checks.variable(name, f"{pointer}/catch/as")
    if isinstance(catch.retry, str):
        checks.reference("retries", catch.retry, f"{pointer}/catch/retry")
    with checks.declaring(name):
        for key, condition in (("when", catch.when), ("exceptWhen", catch.exceptWhen)):
            if condition is not None:
                checks.field(condition, f"{pointer}/catch/{key}", ex.TASK)
        if catch.retry is not None and not isinstance(catch.retry, str):
            checks.retry(plain(catch.retry), f"{pointer}/catch/retry")
        if catch.do is not None:
            checks.task_list(catch.do, f"{pointer}/catch/do")


TASK = TaskType(
    kind="try",
    variant=None,
    model=TryTask,
    run=run,
    check=check,
    example="""
document: {dsl: '1.0.3', namespace: examples, name: try, version: '1.0.0'}
do:
  - tryGetPet:
      try:
        - getPet:
            raise:
              error:
                type: https://serverlessworkflow.io/spec/1.0.0/errors/communication
                status: 503
      catch:
        errors:
          with:
            type: https://serverlessworkflow.io/spec/1.0.0/errors/communication
            status: 503
        retry:
          delay: {seconds: 1}
          backoff: {exponential: {}}
          limit: {attempt: {count: 2}}
        do:
          - fallback:
              set: {pet: null}
""",
)
